#pragma once
// Generator: a seed and a running Philox counter. Each draw of n numbers
// reserves ceil(n/4) counters, so successive draws never overlap and a run is
// reproducible from its seed (save and restore `state()` in checkpoints).
#include <cstdint>

#include "core/philox.h"
#include "core/tensor.h"

namespace strata {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : state_{seed, 0} {}
  PhiloxState state() const { return state_; }
  void set_state(PhiloxState state) { state_ = state; }
  // Returns the state for a draw of `count` numbers and advances past it.
  PhiloxState reserve(uint64_t count);

 private:
  PhiloxState state_;
};

// The process default, seeded with manual_seed().
Generator& default_generator();
void manual_seed(uint64_t seed);

Tensor rand(const Shape& shape, TensorOptions options = {}, Generator* gen = nullptr);   // U(0,1]
Tensor randn(const Shape& shape, TensorOptions options = {}, Generator* gen = nullptr);  // N(0,1)
Tensor bernoulli(const Shape& shape, double p, TensorOptions options = {}, Generator* gen = nullptr);
// Fills in place (used by initialisers).
void uniform_(const Tensor& t, double low, double high, Generator* gen = nullptr);
void normal_(const Tensor& t, double mean, double std, Generator* gen = nullptr);

}  // namespace strata
