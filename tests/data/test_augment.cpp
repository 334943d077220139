// Augmentation: crop with zero padding, flip, normalisation, mixup/cutmix,
// soft targets; and the RandomStream they draw from.
#include "data/augment.h"

#include <cmath>
#include <numeric>

#include "tests/data/fixtures.h"

namespace strata::data {
namespace {

using namespace testing;

// One (c, h, w) fixture image.
std::vector<uint8_t> image(int64_t c, int64_t h, int64_t w) {
  std::vector<uint8_t> px;
  for (int64_t ch = 0; ch < c; ++ch)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) px.push_back(fixture_pixel(5, ch, y, x));
  return px;
}

std::vector<float> apply(const AugmentOptions& options, const SampleTransform& t, int64_t c, int64_t h, int64_t w) {
  const std::vector<uint8_t> src = image(c, h, w);
  std::vector<float> out(size_t(c * output_height(options, h) * output_width(options, w)));
  transform_sample(src.data(), c, h, w, options, t, Normalizer(options, c), out.data());
  return out;
}

TEST(Augment, NormalisesPerChannel) {
  AugmentOptions o;
  o.mean = {0.5, 0.25};
  o.stddev = {0.5, 2.0};
  const std::vector<float> out = apply(o, {}, 2, 3, 4);
  for (int64_t c = 0; c < 2; ++c)
    for (int64_t y = 0; y < 3; ++y)
      for (int64_t x = 0; x < 4; ++x) {
        const double expected = (fixture_pixel(5, c, y, x) / 255.0 - o.mean[size_t(c)]) / o.stddev[size_t(c)];
        EXPECT_NEAR(out[size_t((c * 3 + y) * 4 + x)], expected, 1e-6);
      }
}

TEST(Augment, FlipMirrorsEveryRow) {
  AugmentOptions o;
  const std::vector<float> plain = apply(o, {0, 0, false}, 3, 5, 6);
  const std::vector<float> flipped = apply(o, {0, 0, true}, 3, 5, 6);
  for (int64_t row = 0; row < 15; ++row)
    for (int64_t x = 0; x < 6; ++x) EXPECT_EQ(flipped[size_t(row * 6 + x)], plain[size_t(row * 6 + 5 - x)]);
  EXPECT_NE(flipped, plain);
}

TEST(Augment, CropPadsWithZeroPixels) {
  AugmentOptions o;
  o.padding = 4;
  o.crop = 8;
  // Window at the padded top-left corner: 4 rows and 4 columns of padding,
  // then the image's top-left 4x4.
  const std::vector<float> out = apply(o, {0, 0, false}, 1, 8, 8);
  for (int64_t y = 0; y < 8; ++y)
    for (int64_t x = 0; x < 8; ++x) {
      const float expected = y < 4 || x < 4 ? 0.0f : fixture_pixel(5, 0, y - 4, x - 4) / 255.0f;
      EXPECT_FLOAT_EQ(out[size_t(y * 8 + x)], expected) << y << " " << x;
    }
  // After normalisation the padding is (0 - mean) / std.
  o.mean = {0.5};
  o.stddev = {0.25};
  EXPECT_FLOAT_EQ(apply(o, {0, 0, false}, 1, 8, 8)[0], -2.0f);
  // The centred (evaluation) window of a same-size crop is the image itself.
  RandomStream rng(1, RandomPurpose::sample, 0);
  const SampleTransform centre = draw_transform(o.for_eval(), 8, 8, rng);
  EXPECT_EQ(centre.top, 4);
  EXPECT_EQ(centre.left, 4);
  EXPECT_FALSE(centre.flip);
}

TEST(Augment, RandomCropAndFlipCoverTheirRange) {
  AugmentOptions o;
  o.padding = 4;
  o.random_crop = true;
  o.flip = true;
  std::vector<int> tops(9), lefts(9);
  int flips = 0;
  const int draws = 4000;
  for (int i = 0; i < draws; ++i) {
    RandomStream rng(7, RandomPurpose::sample, uint64_t(i));
    const SampleTransform t = draw_transform(o, 32, 32, rng);
    ASSERT_GE(t.top, 0);
    ASSERT_LE(t.top, 8);
    ++tops[size_t(t.top)];
    ++lefts[size_t(t.left)];
    flips += t.flip;
  }
  for (int k = 0; k <= 8; ++k) {
    EXPECT_NEAR(tops[size_t(k)], draws / 9.0, 6 * std::sqrt(draws / 9.0));
    EXPECT_NEAR(lefts[size_t(k)], draws / 9.0, 6 * std::sqrt(draws / 9.0));
  }
  EXPECT_NEAR(flips, draws / 2.0, 6 * std::sqrt(draws / 4.0));
}

// A batch of b single-channel h x w images where image i is constant i + 1.
std::vector<float> constant_batch(int64_t b, int64_t h, int64_t w) {
  std::vector<float> x(size_t(b * h * w));
  for (int64_t i = 0; i < b; ++i) std::fill(x.begin() + i * h * w, x.begin() + (i + 1) * h * w, float(i + 1));
  return x;
}

TEST(Augment, MixupBlendsPairsAndTargetsSumToOne) {
  AugmentOptions o;
  o.mixup_alpha = 0.4;
  const int64_t b = 5, h = 3, w = 3, k = 4;
  const std::vector<int64_t> labels = {0, 1, 2, 3, 0};
  for (uint64_t id = 0; id < 50; ++id) {
    std::vector<float> x = constant_batch(b, h, w);
    RandomStream rng(3, RandomPurpose::batch, id);
    const MixResult mix = mix_batch(o, x.data(), b, 1, h, w, rng);
    ASSERT_TRUE(mix.mixed);
    ASSERT_FALSE(mix.cutmix);
    ASSERT_GE(mix.lambda, 0.0);
    ASSERT_LE(mix.lambda, 1.0);
    for (int64_t i = 0; i < b; ++i) {
      const double expected = mix.lambda * double(i + 1) + (1 - mix.lambda) * double(b - i);
      EXPECT_NEAR(x[size_t(i * h * w + 4)], expected, 1e-5);
    }
    std::vector<float> t(size_t(b * k));
    write_targets(labels.data(), b, k, mix, 0.1, t.data());
    for (int64_t i = 0; i < b; ++i) {
      EXPECT_NEAR(std::accumulate(t.begin() + i * k, t.begin() + (i + 1) * k, 0.0), 1.0, 1e-6);
      for (int64_t j = 0; j < k; ++j) EXPECT_GE(t[size_t(i * k + j)], 0.1f / 4 - 1e-7f);
    }
    // Sample 0 (label 0) pairs with sample 4 (label 0): all its mass on class 0.
    EXPECT_NEAR(t[0], 0.9 + 0.025, 1e-6);
    // Sample 1 (label 1) pairs with sample 3 (label 3).
    EXPECT_NEAR(t[size_t(k + 1)], 0.9 * mix.lambda + 0.025, 1e-6);
    EXPECT_NEAR(t[size_t(k + 3)], 0.9 * (1 - mix.lambda) + 0.025, 1e-6);
  }
}

TEST(Augment, CutmixPastesABoxAndCorrectsLambda) {
  AugmentOptions o;
  o.cutmix_alpha = 1.0;
  const int64_t b = 4, h = 16, w = 16;
  int boxes = 0;
  for (uint64_t id = 0; id < 50; ++id) {
    std::vector<float> x = constant_batch(b, h, w);
    RandomStream rng(3, RandomPurpose::batch, id);
    const MixResult mix = mix_batch(o, x.data(), b, 1, h, w, rng);
    ASSERT_TRUE(mix.cutmix);
    // Image 0 holds its own value outside the box and image 3's inside.
    int64_t pasted = 0;
    for (int64_t y = 0; y < h; ++y)
      for (int64_t xx = 0; xx < w; ++xx) {
        const bool inside = y >= mix.y0 && y < mix.y1 && xx >= mix.x0 && xx < mix.x1;
        EXPECT_EQ(x[size_t(y * w + xx)], inside ? 4.0f : 1.0f);
        pasted += inside;
      }
    EXPECT_DOUBLE_EQ(mix.lambda, 1.0 - double(pasted) / double(h * w));
    boxes += pasted > 0;
  }
  EXPECT_GT(boxes, 25);
}

TEST(Augment, MixProbabilityAndUnmixedTargets) {
  AugmentOptions o;
  o.mixup_alpha = 1.0;
  o.cutmix_alpha = 1.0;
  o.mix_prob = 0.5;
  int mixed = 0, cutmix = 0;
  for (uint64_t id = 0; id < 2000; ++id) {
    std::vector<float> x = constant_batch(2, 2, 2);
    RandomStream rng(5, RandomPurpose::batch, id);
    const MixResult mix = mix_batch(o, x.data(), 2, 1, 2, 2, rng);
    mixed += mix.mixed;
    cutmix += mix.cutmix;
  }
  EXPECT_NEAR(mixed, 1000, 150);
  EXPECT_NEAR(cutmix, 500, 120);
  // Unmixed, unsmoothed targets are one-hot.
  const std::vector<int64_t> labels = {2, 0};
  std::vector<float> t(6);
  write_targets(labels.data(), 2, 3, MixResult{}, 0.0, t.data());
  EXPECT_EQ(t, (std::vector<float>{0, 0, 1, 1, 0, 0}));
}

TEST(Augment, OptionsAreValidated) {
  AugmentOptions o;
  o.mean = {0.5, 0.5};
  expect_error([&] { o.validate(3, 32, 32); }, {"mean has 2 values for 3 channels"});
  o = {};
  o.crop = 41;
  o.padding = 4;
  expect_error([&] { o.validate(3, 32, 32); }, {"crop 41 does not fit a 32x32 image padded by 4"});
  o = {};
  o.stddev = {0.0};
  expect_error([&] { o.validate(1, 8, 8); }, {"std values must be > 0"});
}

TEST(RandomStream, DeterministicUniformAndBetaMoments) {
  RandomStream a(11, RandomPurpose::sample, 3), b(11, RandomPurpose::sample, 3), c(11, RandomPurpose::batch, 3);
  EXPECT_EQ(a.next_u64(), b.next_u64());
  EXPECT_NE(RandomStream(11, RandomPurpose::sample, 3).next_u64(), c.next_u64());
  std::vector<int> counts(7);
  for (int i = 0; i < 7000; ++i) ++counts[size_t(a.below(7))];
  for (int n : counts) EXPECT_NEAR(n, 1000, 150);
  for (double alpha : {0.2, 1.0, 2.5}) {
    double sum = 0, sq = 0;
    const int draws = 20000;
    for (int i = 0; i < draws; ++i) {
      const double x = a.beta(alpha, alpha);
      ASSERT_GE(x, 0.0);
      ASSERT_LE(x, 1.0);
      sum += x;
      sq += x * x;
    }
    const double mean = sum / draws, var = sq / draws - mean * mean;
    EXPECT_NEAR(mean, 0.5, 0.01) << alpha;
    EXPECT_NEAR(var, 1.0 / (4 * (2 * alpha + 1)), 0.01) << alpha;  // Beta(a, a) variance
  }
}

}  // namespace
}  // namespace strata::data
