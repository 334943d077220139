// f64 gradchecks on the GPU: every differentiable op's backward, run on the
// device, against central finite differences also run on the device
// (expect_gpu_gradcheck in cuda_test_util.h; tolerances eps 1e-6, atol
// 1e-7, rtol 1e-5 as autograd/gradcheck.h). The same cases as the CPU
// gradchecks in tests/autograd, at small sizes: each element costs two
// forward passes.
#include <gtest/gtest.h>

#include <cmath>

#include "autograd/blast_ops.h"
#include "tests/cuda/cuda_test_util.h"

namespace strata::testing {
namespace {

class CudaGradcheck : public CudaTest {};

// An f64 CPU leaf that requires grad.
Tensor leaf(const Shape& shape, uint64_t seed) {
  Tensor t = cpu_randn(shape, seed, DType::f64);
  t.requires_grad_();
  return t;
}

Tensor positive_leaf(const Shape& shape, uint64_t seed) {
  Tensor t = cpu_positive(shape, seed, DType::f64);
  t.requires_grad_();
  return t;
}

using Inputs = std::vector<Tensor>;

TEST_F(CudaGradcheck, ElementwiseOps) {
  Inputs ab{leaf({3, 4}, 1), positive_leaf({4}, 2)};
  expect_gpu_gradcheck([](const Inputs& x) { return add(x[0], x[1]); }, ab, "add");
  expect_gpu_gradcheck([](const Inputs& x) { return sub(x[0], x[1]); }, ab, "sub");
  expect_gpu_gradcheck([](const Inputs& x) { return mul(x[0], x[1]); }, ab, "mul");
  expect_gpu_gradcheck([](const Inputs& x) { return div(x[0], x[1]); }, ab, "div");
  Inputs a{leaf({2, 5}, 3)}, p{positive_leaf({2, 5}, 4)};
  expect_gpu_gradcheck([](const Inputs& x) { return add_scalar(x[0], 0.3); }, a, "add_scalar");
  expect_gpu_gradcheck([](const Inputs& x) { return mul_scalar(x[0], -1.5); }, a, "mul_scalar");
  expect_gpu_gradcheck([](const Inputs& x) { return neg(x[0]); }, a, "neg");
  expect_gpu_gradcheck([](const Inputs& x) { return exp(x[0]); }, a, "exp");
  expect_gpu_gradcheck([](const Inputs& x) { return log(x[0]); }, p, "log");
  expect_gpu_gradcheck([](const Inputs& x) { return sqrt(x[0]); }, p, "sqrt");
  expect_gpu_gradcheck([](const Inputs& x) { return rsqrt(x[0]); }, p, "rsqrt");
  expect_gpu_gradcheck([](const Inputs& x) { return abs(x[0]); }, a, "abs");
  expect_gpu_gradcheck([](const Inputs& x) { return pow(x[0], 2.5); }, p, "pow");
  expect_gpu_gradcheck([](const Inputs& x) { return tanh(x[0]); }, a, "tanh");
  expect_gpu_gradcheck([](const Inputs& x) { return sigmoid(x[0]); }, a, "sigmoid");
  expect_gpu_gradcheck([](const Inputs& x) { return relu(x[0]); }, a, "relu");
  expect_gpu_gradcheck([](const Inputs& x) { return silu(x[0]); }, a, "silu");
  expect_gpu_gradcheck([](const Inputs& x) { return gelu(x[0]); }, a, "gelu");
  expect_gpu_gradcheck([](const Inputs& x) { return gelu(x[0], GeluApprox::tanh); }, a, "gelu_tanh");
  Tensor cond = ops::cast(bernoulli({2, 5}, 0.5, {DType::f32}), DType::u8).to(kCuda);
  expect_gpu_gradcheck([&](const Inputs& x) { return where(cond, x[0], x[1]); }, {leaf({2, 5}, 5), leaf({5}, 6)},
                       "where");
  expect_gpu_gradcheck([&](const Inputs& x) { return masked_fill(x[0], cond, 2.0); }, a, "masked_fill");
}

TEST_F(CudaGradcheck, ReductionsAndViews) {
  Inputs a{leaf({3, 4, 5}, 10)};
  expect_gpu_gradcheck([](const Inputs& x) { return sum(x[0], {0, 2}); }, a, "sum");
  expect_gpu_gradcheck([](const Inputs& x) { return mean(x[0], {1}, true); }, a, "mean");
  expect_gpu_gradcheck([](const Inputs& x) { return amax(x[0], 1); }, a, "amax");
  expect_gpu_gradcheck([](const Inputs& x) { return x[0].permute({2, 0, 1}).reshape({5, 12}); }, a, "permute reshape");
  expect_gpu_gradcheck([](const Inputs& x) { return x[0].transpose(0, 2).slice(1, 1, 4, 2).contiguous(); }, a,
                       "transpose slice contiguous");
  expect_gpu_gradcheck([](const Inputs& x) { return x[0].slice(0, 0, 1).expand({4, 4, 5}); }, a, "expand");
  expect_gpu_gradcheck([](const Inputs& x) { return cat({x[0], mul_scalar(x[0], 2.0)}, 1); }, a, "cat");
  expect_gpu_gradcheck([](const Inputs& x) { return stack({x[0], exp(x[0])}, 0); }, a, "stack");
}

TEST_F(CudaGradcheck, ProductsAndBlast) {
  expect_gpu_gradcheck([](const Inputs& x) { return matmul(x[0], x[1]); }, {leaf({2, 3, 4}, 20), leaf({4, 5}, 21)},
                       "matmul");
  expect_gpu_gradcheck([](const Inputs& x) { return matmul(x[0].transpose(-1, -2), x[1]); },
                       {leaf({2, 4, 3}, 22), leaf({2, 4, 5}, 23)}, "batched matmul, transposed operand");
  expect_gpu_gradcheck([](const Inputs& x) { return linear(x[0], x[1], x[2]); },
                       {leaf({3, 6}, 24), leaf({4, 6}, 25), leaf({4}, 26)}, "linear");
  // b = 2 blocks, p = 3, q = 2, r = 2: in = 4, out = 6.
  expect_gpu_gradcheck([](const Inputs& x) { return blast_linear(x[0], x[1], x[2], x[3], x[4]); },
                       {leaf({3, 4}, 27), leaf({2, 3, 2}, 28), leaf({2, 2, 2}, 29), leaf({2, 2, 2}, 30), leaf({6}, 31)},
                       "blast_linear");
}

TEST_F(CudaGradcheck, RowOpsAndLosses) {
  Inputs a{leaf({3, 6}, 40)};
  expect_gpu_gradcheck([](const Inputs& x) { return softmax(x[0], -1); }, a, "softmax");
  expect_gpu_gradcheck([](const Inputs& x) { return log_softmax(x[0], 0); }, a, "log_softmax");
  expect_gpu_gradcheck([](const Inputs& x) { return layer_norm(x[0], x[1], x[2]); },
                       {leaf({4, 6}, 41), leaf({6}, 42), leaf({6}, 43)}, "layer_norm");
  Tensor target = from_vector<int64_t>({2, -100, 0, 5}, {4});
  expect_gpu_gradcheck(
      [&](const Inputs& x) { return cross_entropy(x[0], target, {.label_smoothing = 0.1}); }, {leaf({4, 6}, 44)},
      "cross_entropy");
  Tensor tokens = from_vector<int64_t>({3, 0, 3, 1}, {2, 2});
  expect_gpu_gradcheck([&](const Inputs& x) { return embedding(x[0], tokens); }, {leaf({5, 3}, 45)}, "embedding");
  expect_gpu_gradcheck([&](const Inputs& x) { return index_select(x[0], 1, from_vector<int64_t>({2, 2, 0}, {3})); },
                       a, "index_select");
}

TEST_F(CudaGradcheck, AttentionAndDropout) {
  Inputs qkv{leaf({1, 2, 5, 4}, 50), leaf({1, 2, 6, 4}, 51), leaf({1, 2, 6, 4}, 52)};
  expect_gpu_gradcheck([](const Inputs& x) { return scaled_dot_product_attention(x[0], x[1], x[2]); }, qkv,
                       "attention");
  expect_gpu_gradcheck(
      [](const Inputs& x) {
        AttentionOptions options;
        options.causal = true;
        return scaled_dot_product_attention(x[0], x[1], x[2], options);
      },
      qkv, "causal attention");
  // Dropout regenerates its mask from a fixed generator state on every call.
  expect_gpu_gradcheck(
      [](const Inputs& x) {
        Generator gen(7);
        AttentionOptions options;
        options.dropout_p = 0.3;
        options.generator = &gen;
        return scaled_dot_product_attention(x[0], x[1], x[2], options);
      },
      qkv, "attention with dropout");
  expect_gpu_gradcheck(
      [](const Inputs& x) {
        Generator gen(8);
        return dropout(x[0], 0.4, true, &gen);
      },
      {leaf({4, 5}, 53)}, "dropout");
}

}  // namespace
}  // namespace strata::testing
