#pragma once
// RandomStream: the random numbers of one sample or one batch, from Philox
// keyed by (seed, purpose) and counted from (stream id, 0). The numbers depend
// only on (seed, purpose, id), never on which worker thread draws them or in
// what order batches are prepared, so a loader's output is the same for any
// worker count and a resumed run redraws exactly the same numbers.
#include <array>
#include <cstdint>

#include "core/philox.h"

namespace strata::data {

// Separate purposes never share numbers, even with equal ids.
enum class RandomPurpose : uint64_t { shuffle = 1, sample = 2, batch = 3 };

class RandomStream {
 public:
  RandomStream(uint64_t seed, RandomPurpose purpose, uint64_t id);

  uint32_t next_u32();
  uint64_t next_u64();
  double uniform();               // [0, 1)
  int64_t below(int64_t n);       // uniform integer in [0, n), unbiased; n > 0
  bool bernoulli(double p);       // true with probability p
  double normal();                // N(0, 1)
  double gamma(double shape);     // Gamma(shape, 1), shape > 0
  double beta(double a, double b);  // Beta(a, b), a, b > 0

 private:
  uint64_t key_, id_, counter_ = 0;
  std::array<uint32_t, 4> block_{};
  int used_ = 4;
};

}  // namespace strata::data
