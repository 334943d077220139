// bf16 autocast (core/autocast.h): inside the scope f32 matrix products
// compute with bf16-rounded operands and f32 accumulation; outside it, and
// for f64, nothing changes. The CPU is the reference semantics the CUDA
// backend is compared with (tests/cuda/test_cuda_ops.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "autograd/functions.h"
#include "core/autocast.h"
#include "core/ops.h"
#include "tests/support/test_util.h"

namespace strata {
namespace {

using testing::random_tensor;

// x with every element rounded to the nearest bf16, as f64.
Tensor rounded_f64(const Tensor& x) { return ops::cast(ops::cast(x, DType::bf16), DType::f64); }

double max_abs_diff(const Tensor& a, const Tensor& b) {
  const std::vector<double> x = a.to_vector<double>(), y = b.to_vector<double>();
  double worst = 0.0;
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(x[i] - y[i]));
  return worst;
}

TEST(Autocast, ScopesNestAndRestore) {
  EXPECT_EQ(autocast_precision(), Precision::f32);
  {
    Autocast outer(Precision::bf16);
    EXPECT_EQ(autocast_precision(), Precision::bf16);
    {
      Autocast inner(Precision::f32);
      EXPECT_EQ(autocast_precision(), Precision::f32);
    }
    EXPECT_EQ(autocast_precision(), Precision::bf16);
  }
  EXPECT_EQ(autocast_precision(), Precision::f32);
  EXPECT_EQ(parse_precision("bf16"), Precision::bf16);
  EXPECT_EQ(parse_precision("f32"), Precision::f32);
  EXPECT_FALSE(parse_precision("fp16").has_value());
}

// Batched, transposed and broadcast layouts all go through the rounding.
TEST(Autocast, MatmulRoundsOperandsToBf16AndAccumulatesInF32) {
  const Tensor a = random_tensor({3, 40, 70}, 1, DType::f32, false);
  const Tensor b_stored = random_tensor({50, 70}, 2, DType::f32, false);
  const Tensor b = ops::transpose(b_stored, 0, 1);  // (70, 50), a transposed view
  const Tensor batched_b = random_tensor({3, 70, 50}, 3, DType::f32, false);

  for (const Tensor& rhs : {b, batched_b}) {
    const Tensor exact_of_rounded = ops::matmul(rounded_f64(a), rounded_f64(rhs));
    const Tensor exact = ops::matmul(ops::cast(a, DType::f64), ops::cast(rhs, DType::f64));
    Tensor product;
    {
      Autocast autocast(Precision::bf16);
      product = ops::matmul(a, rhs);
    }
    EXPECT_EQ(product.dtype(), DType::f32);
    // f32 accumulation of exact bf16 products: within f32 rounding of the
    // rounded operands' exact product (|sums| here are below ~30).
    EXPECT_LT(max_abs_diff(product, exact_of_rounded), 3e-5);
    // ... and measurably off the f32 product: bf16 keeps 8 significant bits.
    EXPECT_GT(max_abs_diff(product, exact), 1e-2);
    // Outside the scope the same call is plain f32 again.
    EXPECT_LT(max_abs_diff(ops::matmul(a, rhs), exact), 3e-5);
  }
}

TEST(Autocast, MatmulIntoAViewAccumulatesWithRoundedOperands) {
  const Tensor a = random_tensor({2, 16, 24}, 4, DType::f32, false);
  const Tensor b = random_tensor({2, 24, 8}, 5, DType::f32, false);
  const Tensor start = random_tensor({16, 16}, 6, DType::f32, false);
  Tensor out = ops::clone(start);
  // Two column blocks of `out` as a (2, 16, 8) batch: stride 8, row stride 16.
  const Tensor blocks = ops::permute(ops::view(out, {16, 2, 8}), {1, 0, 2});
  {
    Autocast autocast(Precision::bf16);
    ops::matmul_out(blocks, a, b, /*accumulate=*/true);
  }
  const Tensor expected_blocks = ops::add(ops::permute(ops::view(ops::cast(start, DType::f64), {16, 2, 8}), {1, 0, 2}),
                                          ops::matmul(rounded_f64(a), rounded_f64(b)));
  EXPECT_LT(max_abs_diff(blocks, expected_blocks), 3e-5);
}

TEST(Autocast, LeavesF64Exact) {
  const Tensor a = random_tensor({20, 30}, 7, DType::f64, false);
  const Tensor b = random_tensor({30, 10}, 8, DType::f64, false);
  const Tensor plain = ops::matmul(a, b);
  Autocast autocast(Precision::bf16);
  EXPECT_EQ(max_abs_diff(ops::matmul(a, b), plain), 0.0);
}

// The backward products round too, and the gradients reach the f32 leaves
// as f32: the master copies never change dtype.
TEST(Autocast, BackwardProductsRoundAndGradientsStayF32) {
  const Tensor a = random_tensor({12, 20}, 9, DType::f32, true);
  const Tensor b = random_tensor({20, 6}, 10, DType::f32, true);
  const Tensor upstream = random_tensor({12, 6}, 11, DType::f32, false);
  {
    Autocast autocast(Precision::bf16);
    Tensor loss = sum(mul(matmul(a, b), upstream));
    loss.backward();
  }
  ASSERT_TRUE(a.grad().defined());
  EXPECT_EQ(a.grad().dtype(), DType::f32);
  EXPECT_EQ(b.grad().dtype(), DType::f32);
  const Tensor g = rounded_f64(upstream);
  const Tensor expected_da = ops::matmul(g, ops::transpose(rounded_f64(b), 0, 1));
  const Tensor expected_db = ops::matmul(ops::transpose(rounded_f64(a), 0, 1), g);
  EXPECT_LT(max_abs_diff(a.grad(), expected_da), 2e-5);
  EXPECT_LT(max_abs_diff(b.grad(), expected_db), 2e-5);
}

}  // namespace
}  // namespace strata
