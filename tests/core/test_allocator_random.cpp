// The caching allocator's reuse and counters; the Philox generator's
// determinism (same seed, any thread count) and distribution.
#include <omp.h>

#include <cmath>

#include "tests/support/test_util.h"

namespace strata {
namespace {

TEST(Allocator, SizeClassesWasteAtMostAQuarter) {
  for (size_t n : {1ul, 64ul, 65ul, 1000ul, 4096ul, 5000ul, 123457ul, 1ul << 24}) {
    size_t c = allocator_size_class(n);
    EXPECT_GE(c, n);
    EXPECT_EQ(c % 64, 0u);  // aligned_alloc needs a multiple of the alignment
    EXPECT_LE(c, (size_t(double(n) * 1.25) + 64) / 64 * 64);
  }
}

TEST(Allocator, FreedBlocksAreReusedWithoutSystemAllocations) {
  Allocator& a = cpu_allocator();
  { Tensor warm = empty({1000, 257}); }
  AllocatorStats before = a.stats();
  for (int i = 0; i < 10; ++i) {
    Tensor t = empty({1000, 257});
    Tensor u = empty({1000, 256});  // same size class
  }
  AllocatorStats after = a.stats();
  EXPECT_EQ(after.system_allocs, before.system_allocs + 1);  // the second live block, once
  EXPECT_GE(after.cache_hits, before.cache_hits + 19);
  EXPECT_EQ(after.bytes_in_use, before.bytes_in_use);
}

TEST(Allocator, PeakTracksTheHighWaterMark) {
  Allocator& a = cpu_allocator();
  a.reset_peak();
  size_t base = a.stats().bytes_in_use;
  {
    Tensor t = empty({1 << 20});
    EXPECT_GE(a.stats().peak_bytes_in_use, base + (4u << 20));
  }
  EXPECT_EQ(a.stats().bytes_in_use, base);
  EXPECT_GE(a.stats().peak_bytes_in_use, base + (4u << 20));
}

TEST(Random, SameSeedSameNumbersAnyThreadCount) {
  int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  Generator g1(99);
  std::vector<float> one = randn({100000}, {}, &g1).to_vector<float>();
  omp_set_num_threads(2);
  Generator g2(99);
  std::vector<float> two = randn({100000}, {}, &g2).to_vector<float>();
  omp_set_num_threads(threads);
  EXPECT_EQ(one, two);
  Generator g3(100);
  EXPECT_NE(randn({100000}, {}, &g3).to_vector<float>(), one);
}

TEST(Random, SuccessiveDrawsDoNotOverlap) {
  Generator g(5);
  std::vector<float> a = rand({7}, {}, &g).to_vector<float>();
  std::vector<float> b = rand({7}, {}, &g).to_vector<float>();
  for (float x : a)
    for (float y : b) EXPECT_NE(x, y);
  Generator h(5);
  h.set_state(PhiloxState{5, 2});  // 7 numbers use two blocks of four
  EXPECT_EQ(rand({7}, {}, &h).to_vector<float>(), b);
}

TEST(Random, DistributionsHaveTheRightMoments) {
  Generator g(1);
  std::vector<double> n = randn({200000}, {DType::f64}, &g).to_vector<double>();
  double mean = 0, var = 0;
  for (double v : n) mean += v / double(n.size());
  for (double v : n) var += (v - mean) * (v - mean) / double(n.size());
  EXPECT_NEAR(mean, 0.0, 0.01);
  EXPECT_NEAR(var, 1.0, 0.02);
  std::vector<float> u = rand({200000}, {}, &g).to_vector<float>();
  double umean = 0;
  for (float v : u) {
    ASSERT_GT(v, 0.0f);
    ASSERT_LE(v, 1.0f);
    umean += v / double(u.size());
  }
  EXPECT_NEAR(umean, 0.5, 0.005);
  std::vector<float> b = bernoulli({100000}, 0.3, {}, &g).to_vector<float>();
  double ones = 0;
  for (float v : b) ones += v;
  EXPECT_NEAR(ones / double(b.size()), 0.3, 0.01);
}

TEST(Random, PhiloxMatchesTheReferenceVector) {
  // Known-answer test from the Random123 distribution (philox4x32_10, all-ones counter and key... zeros here).
  std::array<uint32_t, 4> out = philox4x32(0, 0, 0);
  EXPECT_EQ(out[0], 0x6627e8d5u);
  EXPECT_EQ(out[1], 0xe169c58du);
  EXPECT_EQ(out[2], 0xbc57ac4cu);
  EXPECT_EQ(out[3], 0x9b00dbd8u);
}

}  // namespace
}  // namespace strata
