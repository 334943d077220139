#pragma once
// Helpers shared by the tests: seeded random f64 leaves (contiguous or not)
// and elementwise comparison against naive references.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "autograd/functions.h"
#include "autograd/gradcheck.h"

namespace strata::testing {

// A seeded N(0, 1) tensor; requires grad when asked.
inline Tensor random_tensor(const Shape& shape, uint64_t seed, DType dtype = DType::f64, bool grad = true) {
  Generator gen(seed);
  Tensor t = randn(shape, {dtype}, &gen);
  if (grad) t.requires_grad_();
  return t;
}

// A leaf of `shape` whose storage is laid out transposed in its last two
// dims: a non-contiguous input for ops and gradcheck.
inline Tensor noncontiguous_tensor(const Shape& shape, uint64_t seed, bool grad = true) {
  Shape swapped = shape;
  std::swap(swapped[swapped.size() - 1], swapped[swapped.size() - 2]);
  Tensor t = ops::transpose(random_tensor(swapped, seed, DType::f64, false), -1, -2);
  if (grad) t.requires_grad_();
  return t;
}

// Positive values, for log, sqrt, rsqrt, pow.
inline Tensor positive_tensor(const Shape& shape, uint64_t seed) {
  Tensor t = ops::add_scalar(ops::unary(UnaryOp::abs, random_tensor(shape, seed, DType::f64, false)), 0.5);
  t.requires_grad_();
  return t;
}

inline void expect_close(const std::vector<double>& actual, const std::vector<double>& expected, double tol,
                         const char* what = "") {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (size_t i = 0; i < actual.size(); ++i) {
    EXPECT_NEAR(actual[i], expected[i], tol * (1.0 + std::abs(expected[i]))) << what << " at element " << i;
  }
}

inline void expect_gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                             const std::vector<Tensor>& inputs, GradcheckOptions options = {}) {
  GradcheckResult r = gradcheck(f, inputs, options);
  EXPECT_TRUE(r.ok) << r.report << "max abs error " << r.max_abs_error;
}

}  // namespace strata::testing
