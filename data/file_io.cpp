#include "data/file_io.h"

#include <zlib.h>

#include <climits>
#include <filesystem>
#include <fstream>

#include "core/error.h"

namespace strata::data {

namespace fs = std::filesystem;

std::vector<uint8_t> read_file(const std::string& path, std::string_view who) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) fail(who, "{}: file not found", path);
  const auto size = fs::file_size(path, ec);
  if (ec) fail(who, "{}: cannot stat: {}", path, ec.message());
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(who, "{}: cannot open for reading", path);
  std::vector<uint8_t> bytes(size);
  in.read(reinterpret_cast<char*>(bytes.data()), std::streamsize(size));
  if (size_t(in.gcount()) != size) fail(who, "{}: read {} of {} bytes", path, in.gcount(), size);
  return bytes;
}

MaybeGzipFile::MaybeGzipFile(const std::string& path, std::string_view who) : path_(path), who_(who) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) fail(who_, "{}: file not found", path);
  gz_ = gzopen(path.c_str(), "rb");
  if (!gz_) fail(who_, "{}: cannot open for reading", path);
}

MaybeGzipFile::~MaybeGzipFile() {
  if (gz_) gzclose(static_cast<gzFile>(gz_));
}

// zlib's message, without the file name it prepends (ours names the file already).
std::string zlib_message(void* gz, const std::string& path, int* code) {
  std::string message = gzerror(static_cast<gzFile>(gz), code);
  if (message.starts_with(path + ": ")) message.erase(0, path.size() + 2);
  return message;
}

size_t MaybeGzipFile::read(void* dst, size_t n) {
  auto* out = static_cast<unsigned char*>(dst);
  size_t total = 0;
  while (total < n) {
    // gzread takes an unsigned length and returns an int: read in chunks.
    const unsigned chunk = unsigned(std::min<size_t>(n - total, size_t(1) << 30));
    const int got = gzread(static_cast<gzFile>(gz_), out + total, chunk);
    if (got < 0) {
      int code = 0;
      fail(who_, "{}: corrupt compressed data (after {} uncompressed bytes): {}", path_, consumed_ + total,
           zlib_message(gz_, path_, &code));
    }
    if (got == 0) break;
    total += size_t(got);
  }
  consumed_ += total;
  // A gzip stream cut short reads as a short count plus a pending error.
  int code = Z_OK;
  const std::string message = zlib_message(gz_, path_, &code);
  if (code != Z_OK && code != Z_STREAM_END) {
    fail(who_, "{}: truncated or corrupt compressed data (after {} uncompressed bytes): {}", path_, consumed_, message);
  }
  return total;
}

void MaybeGzipFile::read_exact(void* dst, size_t n, std::string_view what) {
  const size_t before = consumed_;
  const size_t got = read(dst, n);
  if (got != n) {
    fail(who_, "{}: truncated {}: expected {} bytes, got {} (file holds {} bytes{}, expected at least {})", path_,
         what, n, got, before + got, path_.ends_with(".gz") ? " uncompressed" : "", before + n);
  }
}

void MaybeGzipFile::expect_end(std::string_view what) {
  unsigned char extra[4096];
  const size_t announced = consumed_;
  size_t surplus = 0;
  for (size_t got; (got = read(extra, sizeof(extra))) > 0;) surplus += got;
  if (surplus > 0) {
    fail(who_, "{}: {} extra bytes after the {}: expected {} bytes, file holds {}", path_, surplus, what, announced,
         announced + surplus);
  }
}

}  // namespace strata::data
