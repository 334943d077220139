#pragma once
// Sampler: which samples each batch of an epoch holds, on each rank.
//
// Every epoch has one permutation of [0, N) (Fisher-Yates driven by Philox
// keyed by (seed, epoch); the identity when not shuffling), the same on every
// rank. It is cut into global batches of batch_size * world_size positions;
// rank r takes the r-th batch_size slice of each, so the ranks' batches are
// disjoint and together they are exactly the global batch a single process
// with batch_size * world_size would see.
//
// The last global batch, when short: with drop_last it is dropped (every rank
// gets the same number of full batches: what data-parallel training needs);
// without, it is split as evenly as possible over the ranks (sizes differ by
// at most one; a rank whose share is empty has one batch fewer), so every
// sample is seen exactly once per epoch: what evaluation needs.
#include <cstdint>
#include <vector>

namespace strata::data {

struct SamplerOptions {
  int64_t batch_size = 128;
  bool shuffle = true;
  bool drop_last = false;
  uint64_t seed = 0;
  int64_t rank = 0, world_size = 1;
};

class Sampler {
 public:
  Sampler(int64_t num_samples, SamplerOptions options);

  int64_t num_samples() const { return n_; }
  int64_t batches_per_epoch() const { return batches_; }  // on this rank
  int64_t samples_per_epoch() const;                      // on this rank

  // The epoch's permutation of [0, N).
  std::vector<int64_t> permutation(int64_t epoch) const;
  // This rank's batch `batch` as a range [begin, end) of permutation positions.
  struct Range {
    int64_t begin, end;
  };
  Range positions(int64_t batch) const;

  const SamplerOptions& options() const { return options_; }

 private:
  int64_t n_, full_, remainder_share_, remainder_begin_, batches_;
  SamplerOptions options_;
};

}  // namespace strata::data
