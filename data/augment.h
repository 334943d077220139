#pragma once
// Image augmentation and normalisation for the Loader, one sample or one
// batch at a time, with every random choice drawn from a RandomStream (so the
// result depends only on the seed and the sample's position, not on threads).
//
// Per sample, u8 (C, H, W) -> f32 (C, OH, OW), in the torchvision order of the
// usual CIFAR recipe: zero-pad by `padding`, crop OH x OW (random position when
// random_crop, else the centre), flip horizontally with probability 1/2 (when
// flip), then x = (pixel / 255 - mean[c]) / std[c]. Padding pixels are 0
// before normalisation, i.e. -mean[c] / std[c] after it.
//
// Per batch (training): with probability mix_prob the batch is mixed, by
// mixup or cutmix (each half the time when both alphas are > 0), with one
// lambda ~ Beta(alpha, alpha) for the batch and sample i paired with sample
// B-1-i (the batch is already shuffled; timm's "batch" mode):
//   mixup:  x_i = lambda x_i + (1 - lambda) x_{B-1-i}
//   cutmix: a box of area (1 - lambda) H W is pasted from x_{B-1-i}, and
//           lambda is corrected to the box actually pasted after clipping.
//
// Targets: soft labels, f32 (B, num_classes), rows summing to 1:
//   t_i = (1 - eps) (lambda onehot(y_i) + (1 - lambda) onehot(y_{B-1-i})) + eps / K
// with eps = label_smoothing. A cross-entropy with soft targets,
// loss_i = -sum_k t_ik log_softmax(z_i)_k, covers plain labels (one-hot),
// label smoothing, mixup and cutmix with one formula.
#include <cstdint>
#include <vector>

#include "data/random_stream.h"

namespace strata::data {

struct AugmentOptions {
  int64_t crop = 0;          // output side (square); 0 keeps the image's H x W
  int64_t padding = 0;       // zero padding on each side before cropping
  bool random_crop = false;  // random crop position; else the centre
  bool flip = false;         // random horizontal flip
  std::vector<double> mean;  // per channel, pixel scale [0, 1]; empty: 0
  std::vector<double> stddev;  // per channel; empty: 1
  double mixup_alpha = 0.0;  // > 0 enables mixup, lambda ~ Beta(alpha, alpha)
  double cutmix_alpha = 0.0; // > 0 enables cutmix
  double mix_prob = 1.0;     // probability that a batch is mixed
  double label_smoothing = 0.0;

  bool mixing() const { return mixup_alpha > 0.0 || cutmix_alpha > 0.0; }
  // The same geometry and normalisation with every random step off and no
  // smoothing: the evaluation view of a training configuration.
  AugmentOptions for_eval() const;
  // Throws naming the bad option; `channels`, `height`, `width` are the dataset's.
  void validate(int64_t channels, int64_t height, int64_t width) const;
};

// The crop window (in padded coordinates) and flip of one sample.
struct SampleTransform {
  int64_t top = 0, left = 0;
  bool flip = false;
};

// Output geometry for an image of height x width.
int64_t output_height(const AugmentOptions& options, int64_t height);
int64_t output_width(const AugmentOptions& options, int64_t width);

// Draws (or, when not random, centres) one sample's crop and flip.
SampleTransform draw_transform(const AugmentOptions& options, int64_t height, int64_t width, RandomStream& rng);

// Per-channel affine map pixel -> (pixel / 255 - mean) / std, precomputed.
struct Normalizer {
  std::vector<float> scale, shift;
  Normalizer(const AugmentOptions& options, int64_t channels);
};

// src u8 (C, H, W) -> dst f32 (C, OH, OW).
void transform_sample(const uint8_t* src, int64_t channels, int64_t height, int64_t width,
                      const AugmentOptions& options, const SampleTransform& transform, const Normalizer& normalizer,
                      float* dst);

struct MixResult {
  bool mixed = false, cutmix = false;
  double lambda = 1.0;                         // weight of each sample's own label
  int64_t y0 = 0, y1 = 0, x0 = 0, x1 = 0;      // cutmix box [y0, y1) x [x0, x1)
};

// Decides whether and how to mix a batch of (channels, height, width) images
// and mixes `images` (f32 (B, C, H, W)) in place.
MixResult mix_batch(const AugmentOptions& options, float* images, int64_t batch, int64_t channels, int64_t height,
                    int64_t width, RandomStream& rng);

// Soft targets f32 (B, K) for labels (B) under `mix` and label smoothing.
void write_targets(const int64_t* labels, int64_t batch, int64_t num_classes, const MixResult& mix,
                   double label_smoothing, float* targets);

}  // namespace strata::data
