#pragma once
// Token shards, the llm.c convention (dev/data/data_common.py):
//
//   header  256 x int32, little endian:
//             [0] magic 20240520, [1] version 1, [2] token count N,
//             the rest 0
//   tokens  N x uint16, little endian (GPT-2's 50,257 ids fit)
//
// TokenShardWriter streams tokens through an AtomicFile (data/atomic_file.h)
// and, on close(), patches the count into the header and commits: an
// interrupted run never leaves a half-written shard under the final name.
//
// TokenShard maps a whole shard read-only and checks it: magic, version, and
// that the file holds exactly the header plus N tokens. Errors name the file
// and what is wrong.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "data/atomic_file.h"

namespace strata::data {

inline constexpr int32_t kTokenShardMagic = 20240520;
inline constexpr int32_t kTokenShardVersion = 1;
inline constexpr int64_t kTokenShardHeaderInts = 256;
inline constexpr int64_t kTokenShardHeaderBytes = kTokenShardHeaderInts * 4;
inline constexpr int64_t kTokenShardMaxTokens = INT32_MAX;  // the count is an int32

class TokenShardWriter {
 public:
  explicit TokenShardWriter(std::string path);
  ~TokenShardWriter();  // without close(): removes the temporary file
  TokenShardWriter(const TokenShardWriter&) = delete;
  TokenShardWriter& operator=(const TokenShardWriter&) = delete;

  // Appends tokens; each must be in [0, 65535].
  void write(std::span<const int32_t> tokens);
  // Writes the header, makes the file durable and gives it its final name.
  void close();

  int64_t count() const { return count_; }
  const std::string& path() const { return path_; }

 private:
  void flush();

  std::string path_;
  std::unique_ptr<AtomicFile> file_;  // null once closed
  int64_t count_ = 0;
  std::vector<uint16_t> buffer_;
};

class TokenShard {
 public:
  explicit TokenShard(std::string path);  // maps and validates the file
  ~TokenShard();
  TokenShard(TokenShard&& other) noexcept;
  TokenShard& operator=(TokenShard&& other) noexcept;
  TokenShard(const TokenShard&) = delete;
  TokenShard& operator=(const TokenShard&) = delete;

  std::span<const uint16_t> tokens() const { return {tokens_, size_t(count_)}; }
  int64_t size() const { return count_; }
  const std::string& path() const { return path_; }

 private:
  void unmap();

  std::string path_;
  void* map_ = nullptr;
  size_t map_size_ = 0;
  const uint16_t* tokens_ = nullptr;
  int64_t count_ = 0;
};

// All tokens of a shard, copied out (for tests and small tools).
std::vector<uint16_t> read_token_shard(const std::string& path);

}  // namespace strata::data
