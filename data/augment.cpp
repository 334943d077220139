#include "data/augment.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace strata::data {

namespace {

constexpr const char* kWho = "augment";

// Mixes two equal-size images in place: a, b <- lambda a + (1 - lambda) b, lambda b + (1 - lambda) a.
void mixup_pair(float* a, float* b, int64_t n, float lambda) {
  for (int64_t k = 0; k < n; ++k) {
    const float va = a[k], vb = b[k];
    a[k] = lambda * va + (1.0f - lambda) * vb;
    b[k] = lambda * vb + (1.0f - lambda) * va;
  }
}

// Swaps the box [y0, y1) x [x0, x1) of every channel between two images.
void swap_box(float* a, float* b, int64_t channels, int64_t height, int64_t width, const MixResult& box) {
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t y = box.y0; y < box.y1; ++y) {
      const int64_t row = (c * height + y) * width;
      std::swap_ranges(a + row + box.x0, a + row + box.x1, b + row + box.x0);
    }
  }
}

// timm's rand_bbox: a box of side sqrt(1 - lambda) times the image's, centred
// uniformly, clipped to the image; lambda becomes 1 - (clipped area) / (H W).
void draw_box(MixResult& mix, int64_t height, int64_t width, RandomStream& rng) {
  const double ratio = std::sqrt(1.0 - mix.lambda);
  const int64_t cut_h = int64_t(double(height) * ratio), cut_w = int64_t(double(width) * ratio);
  const int64_t cy = rng.below(height), cx = rng.below(width);
  mix.y0 = std::clamp<int64_t>(cy - cut_h / 2, 0, height);
  mix.y1 = std::clamp<int64_t>(cy + cut_h / 2, 0, height);
  mix.x0 = std::clamp<int64_t>(cx - cut_w / 2, 0, width);
  mix.x1 = std::clamp<int64_t>(cx + cut_w / 2, 0, width);
  mix.lambda = 1.0 - double((mix.y1 - mix.y0) * (mix.x1 - mix.x0)) / double(height * width);
}

}  // namespace

AugmentOptions AugmentOptions::for_eval() const {
  AugmentOptions eval = *this;
  eval.random_crop = false;
  eval.flip = false;
  eval.mixup_alpha = eval.cutmix_alpha = 0.0;
  eval.label_smoothing = 0.0;
  return eval;
}

void AugmentOptions::validate(int64_t channels, int64_t height, int64_t width) const {
  if (crop < 0 || padding < 0) fail(kWho, "crop ({}) and padding ({}) must be >= 0", crop, padding);
  if (output_height(*this, height) > height + 2 * padding || output_width(*this, width) > width + 2 * padding) {
    fail(kWho, "crop {} does not fit a {}x{} image padded by {}", crop, height, width, padding);
  }
  if (!mean.empty() && int64_t(mean.size()) != channels) {
    fail(kWho, "mean has {} values for {} channels", mean.size(), channels);
  }
  if (!stddev.empty() && int64_t(stddev.size()) != channels) {
    fail(kWho, "std has {} values for {} channels", stddev.size(), channels);
  }
  for (double s : stddev) {
    if (!(s > 0.0)) fail(kWho, "std values must be > 0, got {}", s);
  }
  if (mixup_alpha < 0.0 || cutmix_alpha < 0.0) fail(kWho, "mixup/cutmix alpha must be >= 0");
  if (mix_prob < 0.0 || mix_prob > 1.0) fail(kWho, "mix_prob {} not in [0, 1]", mix_prob);
  if (label_smoothing < 0.0 || label_smoothing >= 1.0) fail(kWho, "label_smoothing {} not in [0, 1)", label_smoothing);
}

int64_t output_height(const AugmentOptions& options, int64_t height) {
  return options.crop > 0 ? options.crop : height;
}
int64_t output_width(const AugmentOptions& options, int64_t width) { return options.crop > 0 ? options.crop : width; }

SampleTransform draw_transform(const AugmentOptions& options, int64_t height, int64_t width, RandomStream& rng) {
  // The window's free play in padded coordinates; the centre when not random.
  const int64_t room_y = height + 2 * options.padding - output_height(options, height);
  const int64_t room_x = width + 2 * options.padding - output_width(options, width);
  SampleTransform t;
  if (options.random_crop) {
    t.top = rng.below(room_y + 1);
    t.left = rng.below(room_x + 1);
  } else {
    t.top = room_y / 2;
    t.left = room_x / 2;
  }
  t.flip = options.flip && rng.bernoulli(0.5);
  return t;
}

Normalizer::Normalizer(const AugmentOptions& options, int64_t channels) {
  for (int64_t c = 0; c < channels; ++c) {
    const double mean = options.mean.empty() ? 0.0 : options.mean[size_t(c)];
    const double stddev = options.stddev.empty() ? 1.0 : options.stddev[size_t(c)];
    scale.push_back(float(1.0 / (255.0 * stddev)));
    shift.push_back(float(-mean / stddev));
  }
}

void transform_sample(const uint8_t* src, int64_t channels, int64_t height, int64_t width,
                      const AugmentOptions& options, const SampleTransform& t, const Normalizer& normalizer,
                      float* dst) {
  const int64_t out_h = output_height(options, height), out_w = output_width(options, width);
  // Source column of output column x: flip inside the crop window, then shift
  // out of padded coordinates.
  const int64_t x_origin = t.left - options.padding;
  for (int64_t c = 0; c < channels; ++c) {
    const float scale = normalizer.scale[size_t(c)], zero = normalizer.shift[size_t(c)];
    const uint8_t* plane = src + c * height * width;
    for (int64_t y = 0; y < out_h; ++y) {
      float* out = dst + (c * out_h + y) * out_w;
      const int64_t sy = y + t.top - options.padding;
      if (sy < 0 || sy >= height) {
        std::fill(out, out + out_w, zero);
        continue;
      }
      const uint8_t* row = plane + sy * width;
      for (int64_t x = 0; x < out_w; ++x) {
        const int64_t sx = (t.flip ? out_w - 1 - x : x) + x_origin;
        out[x] = sx < 0 || sx >= width ? zero : float(row[sx]) * scale + zero;
      }
    }
  }
}

MixResult mix_batch(const AugmentOptions& options, float* images, int64_t batch, int64_t channels, int64_t height,
                    int64_t width, RandomStream& rng) {
  MixResult mix;
  if (!options.mixing() || !rng.bernoulli(options.mix_prob)) return mix;
  const bool both = options.mixup_alpha > 0.0 && options.cutmix_alpha > 0.0;
  mix.cutmix = both ? rng.bernoulli(0.5) : options.cutmix_alpha > 0.0;
  const double alpha = mix.cutmix ? options.cutmix_alpha : options.mixup_alpha;
  mix.mixed = true;
  mix.lambda = rng.beta(alpha, alpha);
  if (mix.cutmix) draw_box(mix, height, width, rng);
  const int64_t image = channels * height * width;
  for (int64_t i = 0, j = batch - 1; i < j; ++i, --j) {
    if (mix.cutmix) {
      swap_box(images + i * image, images + j * image, channels, height, width, mix);
    } else {
      mixup_pair(images + i * image, images + j * image, image, float(mix.lambda));
    }
  }
  return mix;
}

void write_targets(const int64_t* labels, int64_t batch, int64_t num_classes, const MixResult& mix,
                   double label_smoothing, float* targets) {
  const double floor = label_smoothing / double(num_classes), keep = 1.0 - label_smoothing;
  std::fill(targets, targets + batch * num_classes, float(floor));
  for (int64_t i = 0; i < batch; ++i) {
    float* row = targets + i * num_classes;
    row[labels[i]] += float(keep * mix.lambda);
    row[labels[batch - 1 - i]] += float(keep * (1.0 - mix.lambda));
  }
}

}  // namespace strata::data
