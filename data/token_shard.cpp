#include "data/token_shard.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "core/error.h"

namespace strata::data {

// The formats are little endian and so are the machines Strata runs on:
// tokens and header words are copied as they are.
static_assert(std::endian::native == std::endian::little, "token shards assume a little-endian host");

namespace {

constexpr const char* kWriter = "TokenShardWriter";
constexpr const char* kReader = "TokenShard";
constexpr size_t kBufferTokens = 1 << 20;

std::string errno_message() { return std::system_category().message(errno); }

std::array<int32_t, kTokenShardHeaderInts> make_header(int64_t count) {
  std::array<int32_t, kTokenShardHeaderInts> header{};
  header[0] = kTokenShardMagic;
  header[1] = kTokenShardVersion;
  header[2] = int32_t(count);
  return header;
}

}  // namespace

TokenShardWriter::TokenShardWriter(std::string path) : path_(std::move(path)) {
  const std::filesystem::path parent = std::filesystem::path(path_).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  file_ = std::make_unique<AtomicFile>(path_);
  // A placeholder header with count 0; close() writes the real one.
  const auto header = make_header(0);
  file_->write(header.data(), sizeof(header));
  buffer_.reserve(kBufferTokens);
}

// Without close(), the AtomicFile removes the temporary file.
TokenShardWriter::~TokenShardWriter() = default;

void TokenShardWriter::write(std::span<const int32_t> tokens) {
  if (!file_) fail(kWriter, "{}: write after close", path_);
  if (count_ + int64_t(tokens.size()) > kTokenShardMaxTokens) {
    fail(kWriter, "{}: more than {} tokens do not fit one shard (the count is an int32)", path_,
         kTokenShardMaxTokens);
  }
  for (const int32_t token : tokens) {
    if (token < 0 || token > 65535) fail(kWriter, "{}: token {} does not fit uint16", path_, token);
    buffer_.push_back(uint16_t(token));
    if (buffer_.size() == kBufferTokens) flush();
  }
  count_ += int64_t(tokens.size());
}

void TokenShardWriter::flush() {
  file_->write(buffer_.data(), buffer_.size() * sizeof(uint16_t));
  buffer_.clear();
}

void TokenShardWriter::close() {
  if (!file_) fail(kWriter, "{}: closed twice", path_);
  flush();
  const auto header = make_header(count_);
  file_->write_at(0, header.data(), sizeof(header));
  file_->commit();
  file_.reset();
}

TokenShard::TokenShard(std::string path) : path_(std::move(path)) {
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(kReader, "{}: cannot open: {}", path_, errno_message());
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    fail(kReader, "{}: cannot stat: {}", path_, errno_message());
  }
  const auto size = int64_t(st.st_size);
  if (size < kTokenShardHeaderBytes) {
    ::close(fd);
    fail(kReader, "{}: truncated: {} bytes, shorter than the {}-byte header", path_, size, kTokenShardHeaderBytes);
  }
  map_size_ = size_t(size);
  map_ = ::mmap(nullptr, map_size_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);  // the mapping keeps the file open
  if (map_ == MAP_FAILED) {
    map_ = nullptr;
    fail(kReader, "{}: cannot map: {}", path_, errno_message());
  }
  int32_t header[3];
  std::memcpy(header, map_, sizeof(header));
  const std::string path_copy = path_;
  auto refuse = [&](const std::string& what) {
    unmap();
    fail(kReader, "{}: {}", path_copy, what);
  };
  if (header[0] != kTokenShardMagic) {
    refuse(fmt::format("bad magic {}, expected {} (not a token shard)", header[0], kTokenShardMagic));
  }
  if (header[1] != kTokenShardVersion) {
    refuse(fmt::format("unsupported version {}, expected {}", header[1], kTokenShardVersion));
  }
  if (header[2] < 0) refuse(fmt::format("negative token count {}", header[2]));
  count_ = header[2];
  const int64_t expected = kTokenShardHeaderBytes + count_ * 2;
  if (size < expected) {
    refuse(fmt::format("truncated: the header announces {} tokens ({} bytes), the file has {} bytes", count_,
                       expected, size));
  }
  if (size > expected) {
    refuse(fmt::format("{} bytes after the {} tokens the header announces", size - expected, count_));
  }
  tokens_ = reinterpret_cast<const uint16_t*>(static_cast<const char*>(map_) + kTokenShardHeaderBytes);
}

TokenShard::~TokenShard() { unmap(); }

TokenShard::TokenShard(TokenShard&& other) noexcept
    : path_(std::move(other.path_)),
      map_(std::exchange(other.map_, nullptr)),
      map_size_(std::exchange(other.map_size_, 0)),
      tokens_(std::exchange(other.tokens_, nullptr)),
      count_(std::exchange(other.count_, 0)) {}

TokenShard& TokenShard::operator=(TokenShard&& other) noexcept {
  if (this != &other) {
    unmap();
    path_ = std::move(other.path_);
    map_ = std::exchange(other.map_, nullptr);
    map_size_ = std::exchange(other.map_size_, 0);
    tokens_ = std::exchange(other.tokens_, nullptr);
    count_ = std::exchange(other.count_, 0);
  }
  return *this;
}

void TokenShard::unmap() {
  if (map_) ::munmap(map_, map_size_);
  map_ = nullptr;
  tokens_ = nullptr;
  count_ = 0;
}

std::vector<uint16_t> read_token_shard(const std::string& path) {
  const TokenShard shard(path);
  return {shard.tokens().begin(), shard.tokens().end()};
}

}  // namespace strata::data
