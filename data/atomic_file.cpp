#include "data/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string_view>
#include <system_error>

#include "core/error.h"

namespace strata::data {

namespace fs = std::filesystem;

namespace {

std::string errno_message() { return std::system_category().message(errno); }

std::string parent_directory(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

void fsync_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("fsync", "{}: cannot open: {}", path, errno_message());
  const bool ok = ::fsync(fd) == 0;
  const std::string message = ok ? "" : errno_message();
  ::close(fd);
  if (!ok) fail("fsync", "{}: {}", path, message);
}

void rename_over(std::string_view op, const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) {
    fail(op, "cannot rename {} to {}: {}", from, to, errno_message());
  }
}

}  // namespace

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)), temp_path_(path_ + ".tmp") {
  fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("AtomicFile", "{}: cannot create: {}", temp_path_, errno_message());
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) {  // never committed: leave nothing behind
    ::close(fd_);
    ::unlink(temp_path_.c_str());
  }
}

void AtomicFile::write(const void* data, size_t size) {
  if (fd_ < 0) fail("AtomicFile", "{}: write after commit", path_);
  const char* bytes = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t written = ::write(fd_, bytes, size);
    if (written < 0) {
      if (errno == EINTR) continue;  // a signal (e.g. the trainer's SIGINT) is not an error
      fail("AtomicFile", "{}: write failed: {}", temp_path_, errno_message());
    }
    bytes += written;
    size -= size_t(written);
  }
}

void AtomicFile::write_at(uint64_t offset, const void* data, size_t size) {
  if (fd_ < 0) fail("AtomicFile", "{}: write after commit", path_);
  const char* bytes = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t written = ::pwrite(fd_, bytes, size, off_t(offset));
    if (written < 0) {
      if (errno == EINTR) continue;
      fail("AtomicFile", "{}: write failed: {}", temp_path_, errno_message());
    }
    bytes += written;
    size -= size_t(written);
    offset += uint64_t(written);
  }
}

void AtomicFile::commit() {
  if (fd_ < 0) fail("AtomicFile", "{}: committed twice", path_);
  // Data first, then the name: a rename that reached the disk before the
  // bytes would expose an empty or partial file after a power loss.
  if (::fsync(fd_) != 0) fail("AtomicFile", "{}: fsync failed: {}", temp_path_, errno_message());
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    ::unlink(temp_path_.c_str());
    fail("AtomicFile", "{}: close failed: {}", temp_path_, errno_message());
  }
  rename_over("AtomicFile", temp_path_, path_);
  fsync_directory(parent_directory(path_));
}

void fsync_directory(const std::string& directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail("fsync_directory", "{}: cannot open: {}", directory, errno_message());
  ::fsync(fd);  // some file systems refuse fsync on directories; the rename still happened
  ::close(fd);
}

void replace_with_link(const std::string& source, const std::string& target) {
  const std::string temp = target + ".tmp";
  ::unlink(temp.c_str());  // a stray link from an interrupted replace
  if (::link(source.c_str(), temp.c_str()) != 0) {
    // No hard links here (some network or FUSE file systems): copy instead.
    std::error_code ec;
    fs::copy_file(source, temp, fs::copy_options::overwrite_existing, ec);
    if (ec) fail("replace_with_link", "cannot link or copy {} to {}: {}", source, temp, ec.message());
    fsync_file(temp);
  }
  rename_over("replace_with_link", temp, target);
  fsync_directory(parent_directory(target));
}

}  // namespace strata::data
