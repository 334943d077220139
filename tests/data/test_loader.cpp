// Loader and Sampler: coverage, determinism, thread-count independence,
// sharding, resume, and the contents of a batch.
#include "data/loader.h"

#include <algorithm>
#include <numeric>
#include <set>

#include "tests/data/fixtures.h"

namespace strata::data {
namespace {

using namespace testing;

std::vector<int64_t> indices_of(const Batch& b) { return b.indices.to_vector<int64_t>(); }

// The samples of one epoch, batch by batch, from a fresh loader.
std::vector<std::vector<int64_t>> epoch_batches(const Dataset& d, LoaderOptions o, int64_t epoch) {
  Loader loader(d, o, {epoch, 0});
  std::vector<std::vector<int64_t>> out;
  for (int64_t b = 0; b < loader.batches_per_epoch(); ++b) out.push_back(indices_of(loader.next()));
  return out;
}

std::vector<int64_t> flatten(const std::vector<std::vector<int64_t>>& batches) {
  std::vector<int64_t> all;
  for (const auto& b : batches) all.insert(all.end(), b.begin(), b.end());
  return all;
}

void expect_same_batch(const Batch& a, const Batch& b) {
  EXPECT_EQ(a.epoch, b.epoch);
  EXPECT_EQ(a.index, b.index);
  EXPECT_EQ(a.indices.to_vector<int64_t>(), b.indices.to_vector<int64_t>());
  EXPECT_EQ(a.labels.to_vector<int64_t>(), b.labels.to_vector<int64_t>());
  EXPECT_EQ(a.images.to_vector<float>(), b.images.to_vector<float>());  // bitwise
  EXPECT_EQ(a.targets.to_vector<float>(), b.targets.to_vector<float>());
  EXPECT_EQ(a.lambda, b.lambda);
}

LoaderOptions augmented(int64_t batch, int64_t workers) {
  LoaderOptions o;
  o.batch_size = batch;
  o.seed = 42;
  o.workers = workers;
  o.augment.padding = 2;
  o.augment.random_crop = true;
  o.augment.flip = true;
  o.augment.mean = {0.5, 0.4};
  o.augment.stddev = {0.2, 0.3};
  o.augment.mixup_alpha = 0.8;
  o.augment.cutmix_alpha = 1.0;
  o.augment.mix_prob = 0.7;
  o.augment.label_smoothing = 0.1;
  return o;
}

TEST(Loader, EverySampleOncePerEpochWithShortLastBatch) {
  const Dataset d = synthetic_dataset(103, 1, 4, 4, 7);
  LoaderOptions o;
  o.batch_size = 10;
  const auto batches = epoch_batches(d, o, 0);
  ASSERT_EQ(batches.size(), 11u);
  EXPECT_EQ(batches.back().size(), 3u);
  std::vector<int64_t> all = flatten(batches);
  std::sort(all.begin(), all.end());
  std::vector<int64_t> expected(103);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(all, expected);

  o.drop_last = true;
  Loader dropping(d, o);
  EXPECT_EQ(dropping.batches_per_epoch(), 10);
  EXPECT_EQ(dropping.samples_per_epoch(), 100);
}

TEST(Loader, ShuffleIsDeterministicPerSeedAndDiffersAcrossEpochs) {
  const Dataset d = synthetic_dataset(64, 1, 2, 2, 4);
  LoaderOptions o;
  o.batch_size = 16;
  o.seed = 1;
  const auto e0 = flatten(epoch_batches(d, o, 0));
  EXPECT_EQ(e0, flatten(epoch_batches(d, o, 0)));
  const auto e1 = flatten(epoch_batches(d, o, 1));
  EXPECT_NE(e0, e1);
  std::vector<int64_t> identity(64);
  std::iota(identity.begin(), identity.end(), 0);
  EXPECT_NE(e0, identity);
  o.seed = 2;
  EXPECT_NE(e0, flatten(epoch_batches(d, o, 0)));
  o.shuffle = false;
  EXPECT_EQ(flatten(epoch_batches(d, o, 3)), identity);
}

TEST(Loader, SameBatchesForAnyWorkerCount) {
  const Dataset d = synthetic_dataset(90, 2, 6, 6, 5);
  Loader serial(d, augmented(8, 0)), one(d, augmented(8, 1)), three(d, augmented(8, 3));
  int mixed = 0;
  // Two and a half epochs: across epoch boundaries too.
  for (int64_t i = 0; i < 30; ++i) {
    const Batch a = serial.next(), b = one.next(), c = three.next();
    expect_same_batch(a, b);
    expect_same_batch(a, c);
    mixed += a.mixed;
  }
  EXPECT_GT(mixed, 5);
  EXPECT_LT(mixed, 30);
}

// pin_memory puts images and targets in pinned memory (when a GPU makes it
// available) without changing a bit of them.
TEST(Loader, PinnedBatchesAreTheSameBatches) {
  const Dataset d = synthetic_dataset(40, 2, 6, 6, 5);
  LoaderOptions pinned_options = augmented(8, 2);
  pinned_options.pin_memory = true;
  Loader plain(d, augmented(8, 2)), pinned(d, pinned_options);
  for (int64_t i = 0; i < 6; ++i) {
    const Batch a = plain.next(), b = pinned.next();
    expect_same_batch(a, b);
    EXPECT_EQ(b.images.is_pinned(), pinned_memory_available());
    EXPECT_EQ(b.targets.is_pinned(), pinned_memory_available());
    EXPECT_FALSE(a.images.is_pinned());
  }
}

TEST(Loader, ShardsAreDisjointAndCoverTheEpoch) {
  const Dataset d = synthetic_dataset(100, 1, 2, 2, 3);
  for (bool drop_last : {false, true}) {
    SCOPED_TRACE(drop_last);
    LoaderOptions o;
    o.batch_size = 8;
    o.seed = 9;
    o.world_size = 3;
    o.drop_last = drop_last;
    std::vector<std::vector<std::vector<int64_t>>> ranks;
    for (int64_t r = 0; r < 3; ++r) {
      o.rank = r;
      ranks.push_back(epoch_batches(d, o, 2));
    }
    std::vector<int64_t> all;
    for (const auto& rank : ranks) {
      const auto mine = flatten(rank);
      all.insert(all.end(), mine.begin(), mine.end());
    }
    const std::set<int64_t> unique(all.begin(), all.end());
    EXPECT_EQ(unique.size(), all.size()) << "ranks overlap";
    if (drop_last) {
      // 100 = 4 global batches of 24 + 4 dropped: every rank 4 full batches.
      for (const auto& rank : ranks) {
        EXPECT_EQ(rank.size(), 4u);
        for (const auto& b : rank) EXPECT_EQ(b.size(), 8u);
      }
      EXPECT_EQ(all.size(), 96u);
    } else {
      EXPECT_EQ(all.size(), 100u);  // every sample exactly once
      EXPECT_EQ(ranks[0].back().size(), 2u);  // remainder 4 split 2, 1, 1
      EXPECT_EQ(ranks[1].back().size(), 1u);
      EXPECT_EQ(ranks[2].back().size(), 1u);
    }
    // Together the ranks' batch k is the global batch k of one process with
    // batch 24, in order.
    o.rank = 0;
    o.world_size = 1;
    o.batch_size = 24;
    const auto global = epoch_batches(d, o, 2);
    for (size_t k = 0; k < 4; ++k) {
      std::vector<int64_t> joined;
      for (const auto& rank : ranks) joined.insert(joined.end(), rank[k].begin(), rank[k].end());
      EXPECT_EQ(joined, global[k]) << "batch " << k;
    }
  }
}

TEST(Loader, AugmentationDependsOnlyOnTheSamplePosition) {
  // One process with batch 12 and two ranks with batch 6 (no mixing, which
  // is per local batch) produce the same augmented images.
  const Dataset d = synthetic_dataset(48, 2, 6, 6, 5);
  LoaderOptions single = augmented(12, 2);
  single.augment.mixup_alpha = single.augment.cutmix_alpha = 0.0;
  Loader one(d, single);
  LoaderOptions sharded = single;
  sharded.batch_size = 6;
  sharded.world_size = 2;
  std::vector<std::unique_ptr<Loader>> ranks;
  for (int64_t r = 0; r < 2; ++r) {
    sharded.rank = r;
    ranks.push_back(std::make_unique<Loader>(d, sharded));
  }
  for (int step = 0; step < 6; ++step) {
    const std::vector<float> whole = one.next().images.to_vector<float>();
    std::vector<float> joined;
    for (auto& rank : ranks) {
      const std::vector<float> part = rank->next().images.to_vector<float>();
      joined.insert(joined.end(), part.begin(), part.end());
    }
    EXPECT_EQ(joined, whole) << "step " << step;
  }
}

TEST(Loader, ResumeFromASavedPositionReplaysTheSameBatches) {
  const Dataset d = synthetic_dataset(50, 2, 6, 6, 5);
  const LoaderOptions o = augmented(8, 2);  // 7 batches per epoch
  Loader original(d, o);
  for (int i = 0; i < 10; ++i) original.next();
  const LoaderPosition saved = original.position();
  EXPECT_EQ(saved, (LoaderPosition{1, 3}));
  std::vector<Batch> expected;
  for (int i = 0; i < 9; ++i) expected.push_back(original.next());
  EXPECT_EQ(original.position(), (LoaderPosition{2, 5}));

  Loader resumed(d, augmented(8, 3), saved);
  for (const Batch& b : expected) expect_same_batch(resumed.next(), b);
  // seek() rewinds a running loader; batch_at() is the same batch, computed directly.
  resumed.seek(saved);
  expect_same_batch(resumed.next(), expected[0]);
  expect_same_batch(resumed.batch_at({2, 0}), expected[4]);
  expect_error([&] { resumed.seek({0, 7}); }, {"batch 7", "7 batches"});
}

TEST(Loader, BatchHoldsNormalisedImagesLabelsAndOneHotTargets) {
  const Dataset d = synthetic_dataset(20, 3, 4, 5, 6);
  LoaderOptions o;
  o.batch_size = 7;
  o.seed = 3;
  o.augment.mean = {0.1, 0.2, 0.3};
  o.augment.stddev = {0.5, 0.5, 0.25};
  Loader loader(d, o);
  const Batch b = loader.next();
  ASSERT_EQ(b.images.shape(), (Shape{7, 3, 4, 5}));
  ASSERT_EQ(b.images.dtype(), DType::f32);
  ASSERT_EQ(b.labels.dtype(), DType::i64);
  ASSERT_EQ(b.targets.shape(), (Shape{7, 6}));
  const std::vector<float> images = b.images.to_vector<float>(), targets = b.targets.to_vector<float>();
  for (int64_t i = 0; i < 7; ++i) {
    const int64_t sample = b.indices.to_vector<int64_t>()[size_t(i)];
    EXPECT_EQ(b.labels.to_vector<int64_t>()[size_t(i)], sample % 6);
    for (int64_t k = 0; k < 6; ++k) EXPECT_EQ(targets[size_t(i * 6 + k)], k == sample % 6 ? 1.0f : 0.0f);
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t p = 0; p < 20; ++p) {
        const double px = fixture_pixel(sample, c, p / 5, p % 5) / 255.0;
        const double expected = (px - o.augment.mean[size_t(c)]) / o.augment.stddev[size_t(c)];
        EXPECT_NEAR(images[size_t((i * 3 + c) * 20 + p)], expected, 1e-5);
      }
  }
}

TEST(Loader, StatisticsOfAugmentedBatches) {
  // Flips (and a crop with no room to move) only permute the pixels within
  // a sample, so with the data's mean and std a whole-set batch is standardised.
  const Dataset d = synthetic_dataset(256, 1, 8, 8, 4);
  const std::vector<uint8_t> px = d.images.to_vector<uint8_t>();
  double mean = 0, sq = 0;
  for (uint8_t p : px) mean += p / 255.0;
  mean /= double(px.size());
  for (uint8_t p : px) sq += (p / 255.0 - mean) * (p / 255.0 - mean);
  const double stddev = std::sqrt(sq / double(px.size()));
  LoaderOptions o;
  o.batch_size = 256;
  o.augment.flip = true;
  o.augment.random_crop = true;
  o.augment.mean = {mean};
  o.augment.stddev = {stddev};
  const std::vector<float> x = Loader(d, o).next().images.to_vector<float>();
  double m = 0, s = 0;
  for (float v : x) m += v;
  m /= double(x.size());
  for (float v : x) s += (v - m) * (v - m);
  EXPECT_NEAR(m, 0.0, 1e-4);
  EXPECT_NEAR(std::sqrt(s / double(x.size())), 1.0, 1e-4);
}

TEST(Loader, RefusesBadOptionsAndShutsDownCleanly) {
  const Dataset d = synthetic_dataset(10, 3, 4, 4, 2);
  LoaderOptions o;
  o.batch_size = 4;
  o.augment.mean = {0.5};
  expect_error([&] { Loader(d, o); }, {"mean has 1 values for 3 channels"});
  o.augment.mean.clear();
  o.batch_size = 11;
  o.drop_last = true;
  expect_error([&] { Loader(d, o); }, {"10 samples make no batch of 11"});
  o.batch_size = 2;
  o.drop_last = false;
  o.rank = 2;
  o.world_size = 2;
  expect_error([&] { Loader(d, o); }, {"rank 2 not in [0, world_size 2)"});
  // Workers blocked on a full queue, or still starting, are stopped and joined.
  o.rank = 0;
  o.world_size = 1;
  o.workers = 4;
  o.prefetch = 2;
  for (int i = 0; i < 20; ++i) {
    Loader loader(d, o);
    if (i % 2) loader.next();
  }
}

}  // namespace
}  // namespace strata::data
