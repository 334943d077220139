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

void write_all(int fd, const void* data, size_t size, const std::string& path) {
  const char* bytes = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t written = ::write(fd, bytes, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      fail(kWriter, "{}: write failed: {}", path, errno_message());
    }
    bytes += written;
    size -= size_t(written);
  }
}

std::array<int32_t, kTokenShardHeaderInts> make_header(int64_t count) {
  std::array<int32_t, kTokenShardHeaderInts> header{};
  header[0] = kTokenShardMagic;
  header[1] = kTokenShardVersion;
  header[2] = int32_t(count);
  return header;
}

// So that the rename itself survives a crash.
void fsync_parent(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::string directory = parent.empty() ? "." : parent.string();
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // the shard is complete; only its durability is less certain
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

TokenShardWriter::TokenShardWriter(std::string path) : path_(std::move(path)), temp_path_(path_ + ".tmp") {
  const std::filesystem::path parent = std::filesystem::path(path_).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) fail(kWriter, "{}: cannot create: {}", temp_path_, errno_message());
  // A placeholder header with count 0; close() writes the real one.
  const auto header = make_header(0);
  write_all(fd_, header.data(), sizeof(header), temp_path_);
  buffer_.reserve(kBufferTokens);
}

TokenShardWriter::~TokenShardWriter() {
  if (fd_ >= 0) {  // never closed: leave nothing behind
    ::close(fd_);
    ::unlink(temp_path_.c_str());
  }
}

void TokenShardWriter::write(std::span<const int32_t> tokens) {
  if (fd_ < 0) fail(kWriter, "{}: write after close", path_);
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
  write_all(fd_, buffer_.data(), buffer_.size() * sizeof(uint16_t), temp_path_);
  buffer_.clear();
}

void TokenShardWriter::close() {
  if (fd_ < 0) fail(kWriter, "{}: closed twice", path_);
  flush();
  const auto header = make_header(count_);
  if (::pwrite(fd_, header.data(), sizeof(header), 0) != ssize_t(sizeof(header))) {
    fail(kWriter, "{}: cannot write the header: {}", temp_path_, errno_message());
  }
  // Data first, then the name: a rename that reached the disk before the
  // bytes would expose a partial shard after a power loss.
  if (::fsync(fd_) != 0) fail(kWriter, "{}: fsync failed: {}", temp_path_, errno_message());
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    ::unlink(temp_path_.c_str());
    fail(kWriter, "{}: close failed: {}", temp_path_, errno_message());
  }
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    fail(kWriter, "cannot rename {} to {}: {}", temp_path_, path_, errno_message());
  }
  fsync_parent(path_);
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
