#include "core/random.h"

#include "core/backend.h"
#include "core/ops.h"

namespace strata {

PhiloxState Generator::reserve(uint64_t count) {
  PhiloxState state = state_;
  state_.offset += (count + 3) / 4;
  return state;
}

Generator& default_generator() {
  static Generator generator(0);
  return generator;
}

void manual_seed(uint64_t seed) { default_generator() = Generator(seed); }

namespace {

Generator& pick(Generator* gen) { return gen ? *gen : default_generator(); }

void check_fillable(const char* op, const Tensor& t) {
  ops::check_floating(op, t);
  if (!t.is_contiguous()) fail(op, "tensor must be contiguous, got strides {}", shape_str(t.strides()));
}

}  // namespace

void uniform_(const Tensor& t, double low, double high, Generator* gen) {
  check_fillable("uniform_", t);
  ops::backend_of(t).uniform(t, low, high, pick(gen).reserve(uint64_t(t.numel())));
}

void normal_(const Tensor& t, double mean, double std, Generator* gen) {
  check_fillable("normal_", t);
  ops::backend_of(t).normal(t, mean, std, pick(gen).reserve(uint64_t(t.numel())));
}

Tensor rand(const Shape& shape, TensorOptions options, Generator* gen) {
  Tensor t = empty(shape, options);
  uniform_(t, 0.0, 1.0, gen);
  return t;
}

Tensor randn(const Shape& shape, TensorOptions options, Generator* gen) {
  Tensor t = empty(shape, options);
  normal_(t, 0.0, 1.0, gen);
  return t;
}

Tensor bernoulli(const Shape& shape, double p, TensorOptions options, Generator* gen) {
  if (p < 0.0 || p > 1.0) fail("bernoulli", "probability {} not in [0, 1]", p);
  Tensor t = empty(shape, options);
  check_fillable("bernoulli", t);
  ops::backend_of(t).bernoulli(t, p, 1.0, pick(gen).reserve(uint64_t(t.numel())));
  return t;
}

}  // namespace strata
