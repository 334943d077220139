#include "data/random_stream.h"

#include <cmath>
#include <numbers>

#include "core/error.h"

namespace strata::data {

namespace {

// SplitMix64 finaliser: spreads (seed, purpose) over the whole 64-bit key.
uint64_t mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

RandomStream::RandomStream(uint64_t seed, RandomPurpose purpose, uint64_t id)
    : key_(mix64(seed ^ mix64(uint64_t(purpose)))), id_(id) {}

uint32_t RandomStream::next_u32() {
  if (used_ == 4) {
    block_ = philox4x32(counter_++, id_, key_);
    used_ = 0;
  }
  return block_[size_t(used_++)];
}

uint64_t RandomStream::next_u64() {
  const uint64_t hi = next_u32();
  return (hi << 32) | next_u32();
}

double RandomStream::uniform() { return double(next_u64() >> 11) * (1.0 / 9007199254740992.0); }

int64_t RandomStream::below(int64_t n) {
  if (n <= 0) fail("RandomStream::below", "n must be > 0, got {}", n);
  // Lemire's multiply-shift with rejection: exact uniformity, rarely loops.
  const uint64_t range = uint64_t(n);
  unsigned __int128 product = (unsigned __int128)next_u64() * range;
  uint64_t low = uint64_t(product);
  if (low < range) {
    const uint64_t threshold = (0 - range) % range;
    while (low < threshold) {
      product = (unsigned __int128)next_u64() * range;
      low = uint64_t(product);
    }
  }
  return int64_t(product >> 64);
}

bool RandomStream::bernoulli(double p) { return uniform() < p; }

double RandomStream::normal() {
  // Box-Muller; 1 - uniform() is in (0, 1], so the log is finite.
  const double u1 = 1.0 - uniform(), u2 = uniform();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

double RandomStream::gamma(double shape) {
  if (!(shape > 0)) fail("RandomStream::gamma", "shape must be > 0, got {}", shape);
  if (shape < 1.0) {
    // Gamma(a) = Gamma(a + 1) * U^(1/a) (Marsaglia and Tsang's boost for a < 1).
    const double u = 1.0 - uniform();
    return gamma(shape + 1.0) * std::pow(u, 1.0 / shape);
  }
  // Marsaglia and Tsang (2000), "A simple method for generating gamma variables".
  const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  while (true) {
    double x, v;
    do {
      x = normal();
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = 1.0 - uniform();
    if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
    if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
  }
}

double RandomStream::beta(double a, double b) {
  const double x = gamma(a), y = gamma(b);
  // Both can underflow to 0 for tiny shapes; either end is then equally likely.
  if (x + y == 0.0) return uniform() < a / (a + b) ? 1.0 : 0.0;
  return x / (x + y);
}

}  // namespace strata::data
