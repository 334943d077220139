#pragma once
// AtomicFile: writes a file so that a crash at any moment leaves either the
// old file or the complete new one at `path`, never a mixture:
//   1. the bytes go to "<path>.tmp" (created or truncated),
//   2. commit() fsyncs and closes it, renames it over `path` (atomic on
//      POSIX) and fsyncs the directory so the rename itself is durable.
// Dropping an AtomicFile without commit() removes the temporary file.
// A crash before commit() may leave a stray "<path>.tmp"; the next writer of
// the same path truncates it, and readers never look at it. Checkpoints,
// metrics, sweep results and token shards are all written this way.
#include <cstddef>
#include <cstdint>
#include <string>

namespace strata::data {

class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t size);  // appends
  // Overwrites bytes already written (e.g. a header whose counts are known
  // only at the end).
  void write_at(uint64_t offset, const void* data, size_t size);
  void commit();

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_path_; }

 private:
  std::string path_, temp_path_;
  int fd_ = -1;
};

// fsync of a directory, so that renames and links inside it survive a crash.
void fsync_directory(const std::string& directory);

// Makes `target` name the same bytes as `source` atomically: a hard link (or,
// where links are unsupported, a copy) to "<target>.tmp", then a rename over
// `target`. Readers of `target` see the old file or the new one.
void replace_with_link(const std::string& source, const std::string& target);

}  // namespace strata::data
