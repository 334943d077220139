// Token shards (llm.c format): writer/reader round trip, atomic writing, and
// damaged files refused with errors naming the file and the fault.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "data/token_shard.h"
#include "tests/data/fixtures.h"

namespace strata::data {
namespace {

using testing::expect_error;
using testing::TempDir;
namespace fs = std::filesystem;

// A valid shard of `count` tokens i * 7 % 65536, then `header` patched in.
std::vector<uint8_t> shard_bytes(int32_t count, int32_t magic = kTokenShardMagic,
                                 int32_t version = kTokenShardVersion) {
  std::vector<uint8_t> bytes(size_t(kTokenShardHeaderBytes + count * 2), 0);
  const int32_t header[3] = {magic, version, count};
  std::memcpy(bytes.data(), header, sizeof(header));
  for (int32_t i = 0; i < count; ++i) {
    const auto token = uint16_t(i * 7 % 65536);
    std::memcpy(bytes.data() + kTokenShardHeaderBytes + i * 2, &token, 2);
  }
  return bytes;
}

TEST(TokenShard, WriterReaderRoundTrip) {
  TempDir dir;
  const std::string path = dir / "sub/tokens.bin";
  std::vector<int32_t> all;
  {
    TokenShardWriter writer(path);
    for (int chunk = 0; chunk < 3; ++chunk) {
      std::vector<int32_t> tokens = {0, 50256, 65535, chunk};
      for (int i = 0; i < 1000 * chunk; ++i) tokens.push_back(i % 50257);
      writer.write(tokens);
      all.insert(all.end(), tokens.begin(), tokens.end());
    }
    // Nothing under the final name until close().
    EXPECT_FALSE(fs::exists(path));
    EXPECT_TRUE(fs::exists(path + ".tmp"));
    writer.close();
    EXPECT_EQ(writer.count(), int64_t(all.size()));
  }
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  EXPECT_EQ(int64_t(fs::file_size(path)), kTokenShardHeaderBytes + int64_t(all.size()) * 2);

  // The header as llm.c reads it: int32 magic, version, count; the rest zero.
  const std::vector<uint8_t> bytes = testing::read_bytes(path);
  int32_t header[256];
  std::memcpy(header, bytes.data(), sizeof(header));
  EXPECT_EQ(header[0], 20240520);
  EXPECT_EQ(header[1], 1);
  EXPECT_EQ(header[2], int32_t(all.size()));
  for (int i = 3; i < 256; ++i) ASSERT_EQ(header[i], 0) << i;

  const std::vector<uint16_t> read = read_token_shard(path);
  ASSERT_EQ(read.size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(read[i], uint16_t(all[i])) << i;

  const TokenShard shard(path);
  EXPECT_EQ(shard.size(), int64_t(all.size()));
  EXPECT_EQ(shard.path(), path);
  EXPECT_EQ(shard.tokens()[1], 50256);
}

TEST(TokenShard, EmptyShardIsValid) {
  TempDir dir;
  TokenShardWriter writer(dir / "empty.bin");
  writer.close();
  EXPECT_EQ(TokenShard(dir / "empty.bin").size(), 0);
}

TEST(TokenShard, UnclosedWriterLeavesNothing) {
  TempDir dir;
  {
    TokenShardWriter writer(dir / "t.bin");
    writer.write(std::vector<int32_t>{1, 2, 3});
  }
  EXPECT_FALSE(fs::exists(dir / "t.bin"));
  EXPECT_FALSE(fs::exists(dir / "t.bin.tmp"));
}

TEST(TokenShard, WriterRefusesTokensBeyondUint16) {
  TempDir dir;
  TokenShardWriter writer(dir / "t.bin");
  expect_error([&] { writer.write(std::vector<int32_t>{65536}); }, {"t.bin", "65536", "uint16"});
  expect_error([&] { writer.write(std::vector<int32_t>{-1}); }, {"t.bin", "-1"});
}

TEST(TokenShard, DamagedShardsAreRefusedNamingTheFile) {
  TempDir dir;
  const std::string path = dir / "shard.bin";

  testing::write_bytes(path, shard_bytes(100));
  testing::truncate_file(path, 2);
  expect_error([&] { TokenShard{path}; }, {path, "truncated", "100 tokens"});

  testing::write_bytes(path, std::vector<uint8_t>(100, 0));
  expect_error([&] { TokenShard{path}; }, {path, "truncated", "header"});

  testing::write_bytes(path, shard_bytes(10, 12345));
  expect_error([&] { TokenShard{path}; }, {path, "bad magic 12345", "20240520"});

  testing::write_bytes(path, shard_bytes(10, kTokenShardMagic, 2));
  expect_error([&] { TokenShard{path}; }, {path, "version 2"});

  std::vector<uint8_t> long_file = shard_bytes(10);
  long_file.push_back(0);
  testing::write_bytes(path, long_file);
  expect_error([&] { TokenShard{path}; }, {path, "1 bytes after the 10 tokens"});

  expect_error([&] { TokenShard{dir / "missing.bin"}; }, {"missing.bin", "cannot open"});
}

}  // namespace
}  // namespace strata::data
