// Layers: forward against naive f64 references, gradcheck in f64, seeded
// initialisation, StructuredLinear formulas (num_params, flops, to_dense).
#include <gtest/gtest.h>

#include <cmath>

#include "core/ops.h"
#include "layers/dropout.h"
#include "layers/embedding.h"
#include "layers/gelu.h"
#include "layers/layer_norm.h"
#include "layers/linear.h"
#include "layers/mlp.h"
#include "tests/support/test_util.h"

namespace strata {
namespace {

using testing::expect_close;
using testing::expect_gradcheck;
using testing::random_tensor;

// y[r, o] = sum_i x[r, i] w[o, i] + b[o], in f64.
std::vector<double> naive_linear(const std::vector<double>& x, const std::vector<double>& w,
                                 const std::vector<double>& b, int64_t rows, int64_t in, int64_t out) {
  std::vector<double> y(static_cast<size_t>(rows * out));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t o = 0; o < out; ++o) {
      double acc = b.empty() ? 0.0 : b[size_t(o)];
      for (int64_t i = 0; i < in; ++i) acc += x[size_t(r * in + i)] * w[size_t(o * in + i)];
      y[size_t(r * out + o)] = acc;
    }
  }
  return y;
}

// A parameter-only gradcheck: f ignores its arguments and reads the module,
// whose parameters gradcheck perturbs in place.
void expect_module_gradcheck(const std::function<Tensor()>& forward, const std::vector<Tensor>& inputs) {
  expect_gradcheck([&](const std::vector<Tensor>&) { return forward(); }, inputs);
}

TEST(Linear, ForwardMatchesNaiveReference) {
  Generator gen(3);
  Linear fc(5, 4, {.generator = &gen});
  Tensor x = random_tensor({2, 3, 5}, 11, DType::f32, false);
  Tensor y = fc.forward(x);
  EXPECT_EQ(y.shape(), (Shape{2, 3, 4}));
  expect_close(y.to_vector<double>(),
               naive_linear(x.to_vector<double>(), fc.weight.to_vector<double>(), fc.bias.to_vector<double>(), 6, 5, 4),
               1e-5);

  Linear no_bias(5, 4, {.bias = false});
  EXPECT_FALSE(no_bias.bias.defined());
  expect_close(no_bias.forward(x).to_vector<double>(),
               naive_linear(x.to_vector<double>(), no_bias.weight.to_vector<double>(), {}, 6, 5, 4), 1e-5);
}

TEST(Linear, InitIsPyTorchsUniformAndSeeded) {
  Generator g1(7), g2(7);
  Linear a(64, 32, {.generator = &g1}), b(64, 32, {.generator = &g2});
  EXPECT_EQ(a.weight.to_vector<float>(), b.weight.to_vector<float>());
  EXPECT_EQ(a.bias.to_vector<float>(), b.bias.to_vector<float>());
  const double bound = 1.0 / std::sqrt(64.0);
  double sum_sq = 0.0;
  for (float v : a.weight.to_vector<float>()) {
    EXPECT_LE(std::abs(v), bound);
    sum_sq += double(v) * v;
  }
  // U(-a, a) has variance a^2 / 3.
  EXPECT_NEAR(sum_sq / double(a.weight.numel()), bound * bound / 3.0, 0.1 * bound * bound / 3.0);
  for (float v : a.bias.to_vector<float>()) EXPECT_LE(std::abs(v), bound);
  EXPECT_EQ(a.weight.shape(), (Shape{32, 64}));
}

TEST(Linear, StructuredLinearFormulas) {
  Linear fc(6, 3);
  EXPECT_EQ(fc.in_features(), 6);
  EXPECT_EQ(fc.out_features(), 3);
  EXPECT_EQ(fc.num_params(), 6 * 3 + 3);
  EXPECT_EQ(fc.num_params(), fc.num_parameters());
  EXPECT_EQ(Linear(6, 3, {.bias = false}).num_params(), 18);
  EXPECT_EQ(fc.flops(10), 2 * 10 * 6 * 3);

  Tensor dense = fc.to_dense();
  EXPECT_EQ(dense.shape(), (Shape{3, 6}));
  EXPECT_EQ(dense.to_vector<float>(), fc.weight.to_vector<float>());
  EXPECT_FALSE(dense.shares_storage(fc.weight));
  EXPECT_FALSE(dense.requires_grad());
  // to_dense is the map: x W_dense^T + b == forward(x).
  Tensor x = random_tensor({4, 6}, 5, DType::f32, false);
  expect_close(fc.forward(x).to_vector<double>(),
               ops::add(ops::matmul(x, ops::transpose(dense, 0, 1)), fc.bias).to_vector<double>(), 1e-6);
}

TEST(Linear, RejectsWrongInput) {
  Linear fc(4, 2);
  EXPECT_THROW(fc.forward(zeros({3, 5})), Error);
  EXPECT_THROW(Linear(0, 2), Error);
}

TEST(Linear, Gradcheck) {
  Linear fc(4, 3, {.dtype = DType::f64});
  Tensor x = random_tensor({2, 5, 4}, 21);
  expect_module_gradcheck([&] { return fc.forward(x); }, {x, fc.weight, fc.bias});
}

TEST(LayerNorm, ForwardMatchesReferenceAndInit) {
  LayerNorm ln(6);
  EXPECT_EQ(ln.weight.to_vector<float>(), std::vector<float>(6, 1.0f));
  EXPECT_EQ(ln.bias.to_vector<float>(), std::vector<float>(6, 0.0f));
  ops::copy_(ln.weight, from_vector<float>({1, 2, 3, 4, 5, 6}, {6}));
  ops::fill_(ln.bias, 0.5);
  Tensor x = random_tensor({3, 6}, 8, DType::f32, false);
  std::vector<double> xv = x.to_vector<double>(), expected;
  for (int r = 0; r < 3; ++r) {
    double mean = 0, var = 0;
    for (int c = 0; c < 6; ++c) mean += xv[size_t(r * 6 + c)] / 6;
    for (int c = 0; c < 6; ++c) var += std::pow(xv[size_t(r * 6 + c)] - mean, 2) / 6;
    for (int c = 0; c < 6; ++c) expected.push_back((xv[size_t(r * 6 + c)] - mean) / std::sqrt(var + 1e-5) * (c + 1) + 0.5);
  }
  expect_close(ln.forward(x).to_vector<double>(), expected, 1e-5);
  EXPECT_THROW(ln.forward(zeros({3, 5})), Error);
  EXPECT_EQ(LayerNorm(6, {.elementwise_affine = false}).num_parameters(), 0);
  EXPECT_EQ(LayerNorm(6, {.bias = false}).num_parameters(), 6);
}

TEST(LayerNorm, Gradcheck) {
  LayerNorm ln(5, {.dtype = DType::f64});
  normal_(ln.weight, 1.0, 0.3);
  normal_(ln.bias, 0.0, 0.3);
  Tensor x = random_tensor({3, 5}, 31);
  expect_module_gradcheck([&] { return ln.forward(x); }, {x, ln.weight, ln.bias});
}

TEST(Embedding, ForwardGathersRows) {
  Generator gen(4);
  Embedding emb(10, 3, {.generator = &gen});
  Tensor idx = from_vector<int64_t>({7, 0, 7, 2}, {2, 2});
  Tensor y = emb.forward(idx);
  EXPECT_EQ(y.shape(), (Shape{2, 2, 3}));
  std::vector<float> w = emb.weight.to_vector<float>(), got = y.to_vector<float>();
  std::vector<int64_t> rows = {7, 0, 7, 2};
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t c = 0; c < 3; ++c) EXPECT_EQ(got[r * 3 + c], w[size_t(rows[r]) * 3 + c]);
  }
  EXPECT_THROW(emb.forward(from_vector<int64_t>({10}, {1})), Error);
}

TEST(Embedding, Gradcheck) {
  Embedding emb(6, 4, {.dtype = DType::f64});
  Tensor idx = from_vector<int64_t>({1, 5, 1, 0, 3}, {5});
  expect_module_gradcheck([&] { return emb.forward(idx); }, {emb.weight});
}

TEST(Dropout, TrainingMasksAndScalesEvalIsIdentity) {
  Generator gen(5);
  Dropout drop(0.25, &gen);
  Tensor x = ones({20000});
  std::vector<float> y = drop.forward(x).to_vector<float>();
  int64_t zeros_seen = 0;
  for (float v : y) {
    if (v == 0.0f) {
      ++zeros_seen;
    } else {
      EXPECT_FLOAT_EQ(v, 1.0f / 0.75f);
    }
  }
  EXPECT_NEAR(double(zeros_seen) / 20000.0, 0.25, 0.02);
  drop.eval();
  EXPECT_TRUE(drop.forward(x).is_same(x));
  EXPECT_THROW(Dropout(1.0), Error);
  EXPECT_THROW(Dropout(-0.1), Error);
}

TEST(GELU, MatchesFormula) {
  Tensor x = from_vector<double>({-2.0, -0.5, 0.0, 0.7, 3.0}, {5});
  std::vector<double> erf_ref, tanh_ref;
  for (double v : x.to_vector<double>()) {
    erf_ref.push_back(0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))));
    tanh_ref.push_back(0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v))));
  }
  expect_close(GELU().forward(x).to_vector<double>(), erf_ref, 1e-12);
  expect_close(GELU(GeluApprox::tanh).forward(x).to_vector<double>(), tanh_ref, 1e-12);
}

TEST(MLP, ForwardComposesAndCountsFlops) {
  Generator gen(6);
  MLP mlp(4, 8, 3, {.generator = &gen});
  Tensor x = random_tensor({5, 4}, 9, DType::f32, false);
  Tensor expected = mlp.fc2->forward(gelu(mlp.fc1->forward(x)));
  expect_close(mlp.forward(x).to_vector<double>(), expected.to_vector<double>(), 1e-6);
  EXPECT_EQ(mlp.flops(5), 2 * 5 * (4 * 8 + 8 * 3));
  EXPECT_EQ(mlp.num_parameters(), 4 * 8 + 8 + 8 * 3 + 3);
  EXPECT_THROW(MLP(std::make_shared<Linear>(4, 8), std::make_shared<Linear>(7, 3)), Error);
}

TEST(MLP, Gradcheck) {
  for (GeluApprox approx : {GeluApprox::none, GeluApprox::tanh}) {
    MLP mlp(3, 6, 2, {.approx = approx, .dtype = DType::f64});
    Tensor x = random_tensor({4, 3}, 41);
    std::vector<Tensor> inputs{x};
    for (const Tensor& p : mlp.parameters()) inputs.push_back(p);
    expect_module_gradcheck([&] { return mlp.forward(x); }, inputs);
  }
}

}  // namespace
}  // namespace strata
