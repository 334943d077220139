#pragma once
// File reading shared by the dataset readers. Every error names the file, so
// a user can tell which of several files is missing, truncated or wrong.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strata::data {

// The whole file. Throws "<who>: <path>: ..." when it is missing or unreadable.
std::vector<uint8_t> read_file(const std::string& path, std::string_view who);

// Reads a file that may be gzip-compressed (zlib's gzread passes plain files
// through unchanged), so `foo.gz` and `foo` read the same way.
class MaybeGzipFile {
 public:
  MaybeGzipFile(const std::string& path, std::string_view who);
  ~MaybeGzipFile();
  MaybeGzipFile(const MaybeGzipFile&) = delete;
  MaybeGzipFile& operator=(const MaybeGzipFile&) = delete;

  // Reads up to n bytes; returns how many were read (< n only at the end).
  // A corrupt or truncated gzip stream is an error naming the file.
  size_t read(void* dst, size_t n);
  // Reads exactly n bytes or throws "truncated: expected ... got ..." with `what`.
  void read_exact(void* dst, size_t n, std::string_view what);
  // Throws when bytes remain after the data the header announced.
  void expect_end(std::string_view what);

  const std::string& path() const { return path_; }

 private:
  std::string path_, who_;
  void* gz_ = nullptr;  // gzFile, kept opaque so zlib.h stays out of headers
  size_t consumed_ = 0;
};

}  // namespace strata::data
