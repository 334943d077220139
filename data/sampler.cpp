#include "data/sampler.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "data/random_stream.h"

namespace strata::data {

Sampler::Sampler(int64_t num_samples, SamplerOptions options) : n_(num_samples), options_(options) {
  const char* who = "Sampler";
  if (options.batch_size <= 0) fail(who, "batch_size must be > 0, got {}", options.batch_size);
  if (options.world_size <= 0 || options.rank < 0 || options.rank >= options.world_size) {
    fail(who, "rank {} not in [0, world_size {})", options.rank, options.world_size);
  }
  const int64_t global = options.batch_size * options.world_size;
  full_ = n_ / global;
  // This rank's share of the short last global batch: the remainder split
  // as evenly as possible, lower ranks taking the extra samples.
  const int64_t remainder = n_ - full_ * global, ws = options.world_size, r = options.rank;
  remainder_share_ = options.drop_last ? 0 : remainder / ws + (r < remainder % ws ? 1 : 0);
  remainder_begin_ = full_ * global + r * (remainder / ws) + std::min(r, remainder % ws);
  batches_ = full_ + (remainder_share_ > 0 ? 1 : 0);
  if (batches_ == 0) {
    fail(who, "{} samples make no batch of {} on rank {} of {} (drop_last {})", n_, options.batch_size, r, ws,
         options.drop_last);
  }
}

int64_t Sampler::samples_per_epoch() const { return full_ * options_.batch_size + remainder_share_; }

std::vector<int64_t> Sampler::permutation(int64_t epoch) const {
  std::vector<int64_t> perm(static_cast<size_t>(n_));
  std::iota(perm.begin(), perm.end(), int64_t(0));
  if (!options_.shuffle) return perm;
  RandomStream rng(options_.seed, RandomPurpose::shuffle, uint64_t(epoch));
  for (int64_t i = n_ - 1; i > 0; --i) std::swap(perm[size_t(i)], perm[size_t(rng.below(i + 1))]);
  return perm;
}

Sampler::Range Sampler::positions(int64_t batch) const {
  if (batch < 0 || batch >= batches_) fail("Sampler", "batch {} not in [0, {})", batch, batches_);
  if (batch < full_) {
    const int64_t begin = (batch * options_.world_size + options_.rank) * options_.batch_size;
    return {begin, begin + options_.batch_size};
  }
  return {remainder_begin_, remainder_begin_ + remainder_share_};
}

}  // namespace strata::data
