// TokenLoader: shapes, targets = inputs shifted by one, sequential epochs
// predicting every token once, seek() reproducing batches, rank sharding,
// windows across shard boundaries.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "data/token_loader.h"
#include "tests/data/fixtures.h"

namespace strata::data {
namespace {

using testing::expect_error;
using testing::TempDir;

// A shard whose token at stream position p is (first + p) % 60000, so every
// token tells where it came from.
std::string write_counting_shard(const std::string& path, int64_t first, int64_t count) {
  TokenShardWriter writer(path);
  std::vector<int32_t> tokens;
  for (int64_t p = 0; p < count; ++p) tokens.push_back(int32_t((first + p) % 60000));
  writer.write(tokens);
  writer.close();
  return path;
}

TokenLoaderOptions options(int64_t batch, int64_t context, TokenOrder order, int64_t rank = 0, int64_t world = 1) {
  TokenLoaderOptions o;
  o.batch_size = batch;
  o.context = context;
  o.order = order;
  o.seed = 5;
  o.rank = rank;
  o.world_size = world;
  return o;
}

TEST(TokenLoader, ShapesAndShiftedTargets) {
  TempDir dir;
  const std::string shard = write_counting_shard(dir / "a.bin", 0, 1001);
  for (const TokenOrder order : {TokenOrder::random, TokenOrder::sequential}) {
    TokenLoader loader({shard}, options(8, 10, order));
    EXPECT_EQ(loader.num_tokens(), 1001);
    EXPECT_EQ(loader.windows_per_epoch(), 100);  // floor((1001 - 1) / 10)
    EXPECT_EQ(loader.batches_per_epoch(), order == TokenOrder::random ? 12 : 13);
    const TokenBatch batch = loader.next();
    EXPECT_EQ(batch.inputs.shape(), (Shape{8, 10}));
    EXPECT_EQ(batch.targets.shape(), (Shape{8, 10}));
    EXPECT_EQ(batch.inputs.dtype(), DType::i64);
    const std::vector<int64_t> in = batch.inputs.to_vector<int64_t>(), out = batch.targets.to_vector<int64_t>();
    for (size_t row = 0; row < 8; ++row) {
      for (size_t t = 0; t < 10; ++t) {
        ASSERT_EQ(out[row * 10 + t], in[row * 10 + t] + 1);  // consecutive stream positions
        if (t > 0) {
          ASSERT_EQ(in[row * 10 + t], out[row * 10 + t - 1]);
        }
      }
      ASSERT_LE(out[row * 10 + 9], 1000);
    }
  }
}

// pin_memory changes where the batches live, never what they hold.
TEST(TokenLoader, PinnedBatchesHoldTheSameTokens) {
  TempDir dir;
  const std::string shard = write_counting_shard(dir / "a.bin", 0, 1001);
  TokenLoaderOptions pinned_options = options(4, 10, TokenOrder::random);
  pinned_options.pin_memory = true;
  TokenLoader plain({shard}, options(4, 10, TokenOrder::random)), pinned({shard}, pinned_options);
  for (int i = 0; i < 3; ++i) {
    const TokenBatch a = plain.next(), b = pinned.next();
    EXPECT_EQ(a.inputs.to_vector<int64_t>(), b.inputs.to_vector<int64_t>());
    EXPECT_EQ(a.targets.to_vector<int64_t>(), b.targets.to_vector<int64_t>());
    EXPECT_EQ(b.inputs.is_pinned(), pinned_memory_available());
    EXPECT_FALSE(a.inputs.is_pinned());
  }
}

// Every target position of one epoch over all ranks, with its multiplicity.
std::map<int64_t, int> sequential_targets(const std::string& shard, int64_t world) {
  std::map<int64_t, int> seen;
  for (int64_t rank = 0; rank < world; ++rank) {
    TokenLoader loader({shard}, options(3, 7, TokenOrder::sequential, rank, world));
    for (int64_t b = 0; b < loader.batches_per_epoch(); ++b) {
      const TokenBatch batch = loader.next();
      EXPECT_EQ(batch.epoch, 0);
      for (const int64_t target : batch.targets.to_vector<int64_t>()) ++seen[target];
    }
    EXPECT_EQ(loader.position(), (LoaderPosition{1, 0}));
  }
  return seen;
}

TEST(TokenLoader, SequentialEpochPredictsEveryTokenOnce) {
  TempDir dir;
  // 200 tokens, T = 7: 28 windows cover targets 1..196; the partial block
  // (tokens 197..199) is dropped. 28 windows in batches of 3: the last is short.
  const std::string shard = write_counting_shard(dir / "a.bin", 0, 200);
  for (const int64_t world : {1, 2, 3}) {
    SCOPED_TRACE(world);
    const std::map<int64_t, int> seen = sequential_targets(shard, world);
    ASSERT_EQ(seen.size(), 196u);
    EXPECT_EQ(seen.begin()->first, 1);
    EXPECT_EQ(seen.rbegin()->first, 196);
    for (const auto& [target, count] : seen) ASSERT_EQ(count, 1) << target;
  }
  TokenLoader loader({shard}, options(3, 7, TokenOrder::sequential));
  const TokenBatch last = loader.batch_at({0, loader.batches_per_epoch() - 1});
  EXPECT_EQ(last.inputs.shape(), (Shape{1, 7}));  // 28 = 9 * 3 + 1
}

TEST(TokenLoader, RanksGetDisjointWindows) {
  TempDir dir;
  const std::string shard = write_counting_shard(dir / "a.bin", 0, 500);
  std::set<int64_t> starts[2];
  for (int64_t rank = 0; rank < 2; ++rank) {
    TokenLoader loader({shard}, options(4, 5, TokenOrder::sequential, rank, 2));
    for (int64_t b = 0; b < loader.batches_per_epoch(); ++b) {
      const std::vector<int64_t> in = loader.next().inputs.to_vector<int64_t>();
      for (size_t row = 0; row < in.size() / 5; ++row) starts[rank].insert(in[row * 5]);
    }
  }
  for (const int64_t s : starts[0]) EXPECT_EQ(starts[1].count(s), 0u) << s;
  EXPECT_EQ(starts[0].size() + starts[1].size(), 99u);  // floor(499 / 5)
  // Random windows: the ranks draw from different streams.
  TokenLoader r0({shard}, options(4, 5, TokenOrder::random, 0, 2)), r1({shard}, options(4, 5, TokenOrder::random, 1, 2));
  EXPECT_NE(r0.next().inputs.to_vector<int64_t>(), r1.next().inputs.to_vector<int64_t>());
  EXPECT_EQ(r0.batches_per_epoch(), 12);  // floor(99 / 8)
}

TEST(TokenLoader, SeekReproducesTheBatches) {
  TempDir dir;
  const std::string shard = write_counting_shard(dir / "a.bin", 0, 300);
  TokenLoader original({shard}, options(4, 8, TokenOrder::random));
  ASSERT_EQ(original.batches_per_epoch(), 9);  // floor(37 / 4)
  for (int i = 0; i < 7; ++i) original.next();
  const LoaderPosition saved = original.position();
  std::vector<std::vector<int64_t>> expected;
  for (int i = 0; i < 5; ++i) {  // crosses into epoch 1
    const TokenBatch b = original.next();
    expected.push_back(b.inputs.to_vector<int64_t>());
  }
  EXPECT_EQ(original.position(), (LoaderPosition{1, 3}));

  TokenLoader resumed({shard}, options(4, 8, TokenOrder::random), saved);
  TokenLoader sought({shard}, options(4, 8, TokenOrder::random));
  sought.seek(saved);
  for (const auto& want : expected) {
    EXPECT_EQ(resumed.next().inputs.to_vector<int64_t>(), want);
    EXPECT_EQ(sought.next().inputs.to_vector<int64_t>(), want);
  }
  // Epochs draw different windows; the same seed the same ones.
  EXPECT_NE(original.batch_at({0, 0}).inputs.to_vector<int64_t>(),
            original.batch_at({1, 0}).inputs.to_vector<int64_t>());
  expect_error([&] { sought.seek({0, 9}); }, {"batch 9", "9 batches per epoch"});
}

TEST(TokenLoader, WindowsSpanShardBoundaries) {
  TempDir dir;
  // Two shards continuing one count: positions 0..49 and 50..129.
  const std::vector<std::string> shards = {write_counting_shard(dir / "a.bin", 0, 50),
                                           write_counting_shard(dir / "b.bin", 50, 80)};
  TokenLoader loader(shards, options(2, 9, TokenOrder::sequential));
  EXPECT_EQ(loader.num_tokens(), 130);
  for (int64_t b = 0; b < loader.batches_per_epoch(); ++b) {
    const TokenBatch batch = loader.next();
    const std::vector<int64_t> in = batch.inputs.to_vector<int64_t>();
    for (size_t i = 0; i < in.size(); ++i) ASSERT_EQ(in[i], b * 18 + int64_t(i));  // window w starts at 9w
  }
}

TEST(TokenLoader, RefusesTooFewTokens) {
  TempDir dir;
  const std::string shard = write_counting_shard(dir / "a.bin", 0, 10);
  expect_error([&] { TokenLoader({shard}, options(1, 10, TokenOrder::sequential)); }, {"10 tokens", "context 10"});
  expect_error([&] { TokenLoader({shard}, options(4, 3, TokenOrder::random)); }, {"3 windows", "batch of 4"});
  expect_error([&] { TokenLoader({}, options(1, 2, TokenOrder::random)); }, {"no token shards"});
}

}  // namespace
}  // namespace strata::data
