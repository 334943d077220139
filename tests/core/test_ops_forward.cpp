// Every op's forward against a naive f64 reference written here, in f32 and
// f64, on contiguous and non-contiguous inputs.
#include <cmath>

#include "tests/support/reference.h"
#include "tests/support/test_util.h"

namespace strata {
namespace {

using testing::expect_close;
using testing::noncontiguous_tensor;
using testing::random_tensor;

std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

struct UnaryCase {
  UnaryOp op;
  double scalar;
  bool positive;
  double (*reference)(double x, double s);
};

const UnaryCase kUnaryCases[] = {
    {UnaryOp::neg, 0, false, [](double x, double) { return -x; }},
    {UnaryOp::exp, 0, false, [](double x, double) { return std::exp(x); }},
    {UnaryOp::log, 0, true, [](double x, double) { return std::log(x); }},
    {UnaryOp::sqrt, 0, true, [](double x, double) { return std::sqrt(x); }},
    {UnaryOp::rsqrt, 0, true, [](double x, double) { return 1.0 / std::sqrt(x); }},
    {UnaryOp::tanh, 0, false, [](double x, double) { return std::tanh(x); }},
    {UnaryOp::sigmoid, 0, false, [](double x, double) { return 1.0 / (1.0 + std::exp(-x)); }},
    {UnaryOp::relu, 0, false, [](double x, double) { return x > 0 ? x : 0.0; }},
    {UnaryOp::silu, 0, false, [](double x, double) { return x / (1.0 + std::exp(-x)); }},
    {UnaryOp::gelu_erf, 0, false, [](double x, double) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }},
    {UnaryOp::gelu_tanh, 0, false,
     [](double x, double) { return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x))); }},
    {UnaryOp::pow_scalar, 2.5, true, [](double x, double s) { return std::pow(x, s); }},
    {UnaryOp::add_scalar, -1.25, false, [](double x, double s) { return x + s; }},
    {UnaryOp::mul_scalar, 3.0, false, [](double x, double s) { return x * s; }},
    {UnaryOp::abs, 0, false, [](double x, double) { return std::abs(x); }},
};

TEST(OpsForward, UnaryOpsMatchReference) {
  for (const UnaryCase& c : kUnaryCases) {
    for (DType dtype : {DType::f32, DType::f64}) {
      Tensor x = ops::cast(noncontiguous_tensor({37, 29}, 1, false), dtype);
      if (c.positive) x = ops::add_scalar(ops::unary(UnaryOp::abs, x), 0.1);
      Tensor y = ops::unary(c.op, x, c.scalar);
      std::vector<double> xv = values(x), expected;
      for (double v : xv) expected.push_back(c.reference(v, c.scalar));
      expect_close(values(y), expected, dtype == DType::f32 ? 2e-6 : 1e-14, "unary");
    }
  }
}

TEST(OpsForward, BinaryOpsBroadcastLikeNumpy) {
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{3, 4}, {3, 4}}, {{2, 3, 4}, {4}}, {{3, 1}, {1, 5}}, {{2, 1, 4}, {3, 1}}, {{}, {2, 3}}};
  const std::pair<BinaryOp, double (*)(double, double)> kinds[] = {
      {BinaryOp::add, [](double a, double b) { return a + b; }},
      {BinaryOp::sub, [](double a, double b) { return a - b; }},
      {BinaryOp::mul, [](double a, double b) { return a * b; }},
      {BinaryOp::div, [](double a, double b) { return a / b; }}};
  for (const auto& [sa, sb] : shapes) {
    for (const auto& [op, reference] : kinds) {
      Tensor a = random_tensor(sa, 1, DType::f64, false);
      Tensor b = ops::add_scalar(ops::unary(UnaryOp::abs, random_tensor(sb, 2, DType::f64, false)), 0.5);
      Tensor c = ops::binary(op, a, b);
      Shape out = broadcast_shapes(sa, sb, "test");
      ASSERT_EQ(c.shape(), out);
      std::vector<double> av = values(a), bv = values(b), expected;
      for (int64_t i = 0; i < shape_numel(out); ++i) {
        auto idx = testing::unravel(i, out);
        expected.push_back(reference(av[size_t(testing::broadcast_flat(idx, sa))], bv[size_t(testing::broadcast_flat(idx, sb))]));
      }
      expect_close(values(c), expected, 1e-15, "binary");
    }
  }
}

TEST(OpsForward, LargeBinaryRunsThreadedAndMatches) {
  Tensor a = random_tensor({300, 700}, 3, DType::f32, false);
  Tensor b = random_tensor({700}, 4, DType::f32, false);
  Tensor c = ops::mul(ops::transpose(ops::contiguous(ops::transpose(a, 0, 1)), 0, 1), b);
  std::vector<double> av = values(a), bv = values(b), cv = values(c);
  for (int64_t i = 0; i < 300 * 700; i += 997) EXPECT_DOUBLE_EQ(cv[size_t(i)], double(float(av[size_t(i)] * bv[size_t(i % 700)])));
}

TEST(OpsForward, SumMeanOverAnyDims) {
  Tensor x = random_tensor({3, 4, 5}, 1, DType::f64, false);
  std::vector<double> xv = values(x);
  const std::vector<std::vector<int64_t>> dim_sets = {{}, {0}, {1}, {2}, {0, 2}, {0, 1}, {1, 2}, {-1, 0}};
  for (const auto& dims : dim_sets) {
    Tensor s = ops::sum(x, dims, true);
    Shape kept = s.shape();
    std::vector<double> expected(size_t(shape_numel(kept)), 0.0);
    for (int64_t i = 0; i < x.numel(); ++i) {
      expected[size_t(testing::broadcast_flat(testing::unravel(i, x.shape()), kept))] += xv[size_t(i)];
    }
    expect_close(values(s), expected, 1e-14, "sum");
    double count = double(x.numel()) / double(s.numel());
    for (double& e : expected) e /= count;
    expect_close(values(ops::mean(x, dims, true)), expected, 1e-14, "mean");
  }
  EXPECT_EQ(ops::sum(x, {1}).shape(), (Shape{3, 5}));
  EXPECT_EQ(ops::sum(x).shape(), Shape{});
}

TEST(OpsForward, LargeSumIsExactAndThreadIndependent) {
  Tensor x = random_tensor({1 << 18}, 5, DType::f32, false);
  double reference = 0.0;
  for (double v : values(x)) reference += v;
  EXPECT_NEAR(ops::sum(x).item<double>(), reference, 1e-3);
  Tensor cols = random_tensor({2000, 40}, 6, DType::f32, false);
  std::vector<double> cv = values(cols), expected(40, 0.0);
  for (size_t i = 0; i < cv.size(); ++i) expected[i % 40] += cv[i];
  expect_close(values(ops::sum(cols, {0})), expected, 1e-5, "column sum");
}

TEST(OpsForward, MaxReturnsValuesAndFirstIndex) {
  Tensor x = from_vector<double>({1, 5, 5, 2, -1, -3, 0, 7, 7}, {3, 3});
  auto [v, i] = ops::max(x, 1);
  EXPECT_EQ(v.to_vector<double>(), (std::vector<double>{5, 2, 7}));
  EXPECT_EQ(i.to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 1}));
  auto [v0, i0] = ops::max(x, 0, true);
  EXPECT_EQ(v0.shape(), (Shape{1, 3}));
  EXPECT_EQ(v0.to_vector<double>(), (std::vector<double>{2, 7, 7}));
  EXPECT_EQ(i0.to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 2}));
}

void check_matmul(const Tensor& a, const Tensor& b) {
  Tensor c = ops::matmul(a, b);
  int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  Shape batch = broadcast_shapes(Shape(a.shape().begin(), a.shape().end() - 2), Shape(b.shape().begin(), b.shape().end() - 2), "t");
  Tensor ae = ops::contiguous(ops::expand(a, [&] { Shape s = batch; s.push_back(m); s.push_back(k); return s; }()));
  Tensor be = ops::contiguous(ops::expand(b, [&] { Shape s = batch; s.push_back(k); s.push_back(n); return s; }()));
  std::vector<double> av = values(ae), bv = values(be), expected;
  for (int64_t i = 0; i < shape_numel(batch); ++i) {
    std::vector<double> ai(av.begin() + i * m * k, av.begin() + (i + 1) * m * k);
    std::vector<double> bi(bv.begin() + i * k * n, bv.begin() + (i + 1) * k * n);
    auto ci = testing::naive_matmul(ai, bi, m, k, n);
    expected.insert(expected.end(), ci.begin(), ci.end());
  }
  expect_close(values(c), expected, a.dtype() == DType::f32 ? 1e-5 : 1e-13, "matmul");
}

TEST(OpsForward, MatmulPlainTransposedBatchedBroadcast) {
  for (DType dt : {DType::f32, DType::f64}) {
    auto r = [&](const Shape& s, uint64_t seed) { return random_tensor(s, seed, dt, false); };
    check_matmul(r({7, 5}, 1), r({5, 3}, 2));
    check_matmul(ops::transpose(r({5, 7}, 3), 0, 1), r({5, 3}, 4));            // A^T, no copy
    check_matmul(r({7, 5}, 5), ops::transpose(r({3, 5}, 6), 0, 1));            // B^T (x W^T)
    check_matmul(r({2, 4, 7, 5}, 7), ops::transpose(r({3, 5}, 8), 0, 1));      // folded batch
    check_matmul(r({4, 7, 5}, 9), r({4, 5, 3}, 10));                           // strided batch
    check_matmul(r({2, 1, 7, 5}, 11), r({3, 5, 3}, 12));                       // broadcast batch
    check_matmul(ops::slice(r({7, 9}, 13), 1, 2, 7), r({5, 3}, 14));          // ld > cols
    check_matmul(ops::permute(r({5, 4, 7}, 15), {1, 2, 0}), r({4, 5, 2}, 16));  // needs a copy
  }
}

TEST(OpsForward, SoftmaxAndLogSoftmaxRows) {
  for (int64_t dim : {-1, 0, 1}) {
    Tensor x = noncontiguous_tensor({4, 6, 5}, 1, false);
    Tensor y = ops::softmax(x, dim), ly = ops::log_softmax(x, dim);
    int d = normalize_dim(dim, 3, "t");
    std::vector<double> xv = values(x), denom(size_t(x.numel()), 0.0);
    Shape kept = x.shape();
    kept[d] = 1;
    std::vector<double> sums(size_t(shape_numel(kept)), 0.0);
    for (int64_t i = 0; i < x.numel(); ++i) sums[size_t(testing::broadcast_flat(testing::unravel(i, x.shape()), kept))] += std::exp(xv[size_t(i)]);
    std::vector<double> expected, expected_log;
    for (int64_t i = 0; i < x.numel(); ++i) {
      double s = sums[size_t(testing::broadcast_flat(testing::unravel(i, x.shape()), kept))];
      expected.push_back(std::exp(xv[size_t(i)]) / s);
      expected_log.push_back(xv[size_t(i)] - std::log(s));
    }
    expect_close(values(y), expected, 1e-14, "softmax");
    expect_close(values(ly), expected_log, 1e-14, "log_softmax");
  }
  // Large logits must not overflow.
  Tensor big = from_vector<float>({1000.f, 1001.f, 999.f}, {1, 3});
  std::vector<float> p = ops::softmax(big, -1).to_vector<float>();
  EXPECT_NEAR(p[1], 1.0 / (1.0 + std::exp(-1.0) + std::exp(-2.0)), 1e-6);
}

TEST(OpsForward, LayerNormMatchesReference) {
  for (DType dt : {DType::f32, DType::f64}) {
    Tensor x = ops::add_scalar(random_tensor({5, 3, 16}, 1, dt, false), 4.0);
    Tensor w = random_tensor({16}, 2, dt, false), b = random_tensor({16}, 3, dt, false);
    ops::LayerNormResult r = ops::layer_norm(x, w, b, 1e-5);
    std::vector<double> xv = values(x), wv = values(w), bv = values(b), expected;
    for (int64_t row = 0; row < 15; ++row) {
      double mean = 0, var = 0;
      for (int j = 0; j < 16; ++j) mean += xv[size_t(row * 16 + j)] / 16;
      for (int j = 0; j < 16; ++j) var += std::pow(xv[size_t(row * 16 + j)] - mean, 2) / 16;
      for (int j = 0; j < 16; ++j) expected.push_back((xv[size_t(row * 16 + j)] - mean) / std::sqrt(var + 1e-5) * wv[size_t(j)] + bv[size_t(j)]);
    }
    expect_close(values(r.y), expected, dt == DType::f32 ? 1e-5 : 1e-12, "layer_norm");
    EXPECT_EQ(r.mean.shape(), (Shape{5, 3}));
  }
}

TEST(OpsForward, CrossEntropyWithSmoothingAndIgnore) {
  Tensor logits = random_tensor({6, 5}, 1, DType::f64, false);
  Tensor target = from_vector<int64_t>({0, 4, -100, 2, 3, 1}, {6});
  for (double smoothing : {0.0, 0.2}) {
    ops::CrossEntropyResult r = ops::cross_entropy_rows(logits, target, smoothing, -100);
    std::vector<double> lv = values(logits), expected;
    for (int i = 0; i < 6; ++i) {
      int64_t t = target.to_vector<int64_t>()[size_t(i)];
      if (t == -100) { expected.push_back(0.0); continue; }
      double lse = 0;
      for (int j = 0; j < 5; ++j) lse += std::exp(lv[size_t(i * 5 + j)]);
      lse = std::log(lse);
      double loss = 0;
      for (int j = 0; j < 5; ++j) {
        double q = (j == t ? 1.0 - smoothing : 0.0) + smoothing / 5;
        loss -= q * (lv[size_t(i * 5 + j)] - lse);
      }
      expected.push_back(loss);
    }
    expect_close(values(r.loss_rows), expected, 1e-13, "cross_entropy");
  }
  // The mean is over the rows that are not ignored.
  Tensor mean_loss = cross_entropy(logits, target);
  double total = 0;
  for (double v : values(ops::cross_entropy_rows(logits, target, 0.0, -100).loss_rows)) total += v;
  EXPECT_NEAR(mean_loss.item<double>(), total / 5.0, 1e-13);
}

TEST(OpsForward, EmbeddingIndexSelectCatStackSlice) {
  Tensor w = random_tensor({6, 3}, 1, DType::f32, false);
  Tensor idx = from_vector<int32_t>({5, 0, 5, 2}, {2, 2});
  Tensor e = ops::embedding(w, idx);
  ASSERT_EQ(e.shape(), (Shape{2, 2, 3}));
  std::vector<double> wv = values(w), ev = values(e);
  const int rows[] = {5, 0, 5, 2};
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_EQ(ev[size_t(i * 3 + j)], wv[size_t(rows[i] * 3 + j)]);

  Tensor x = random_tensor({2, 4, 3}, 2, DType::f64, false);
  Tensor sel = ops::index_select(x, 1, from_vector<int64_t>({3, 1}, {2}));
  std::vector<double> xv = values(x), sv = values(sel);
  for (int a = 0; a < 2; ++a)
    for (int c = 0; c < 3; ++c) {
      EXPECT_EQ(sv[size_t(a * 6 + c)], xv[size_t(a * 12 + 3 * 3 + c)]);
      EXPECT_EQ(sv[size_t(a * 6 + 3 + c)], xv[size_t(a * 12 + 1 * 3 + c)]);
    }

  Tensor p = from_vector<double>({1, 2, 3, 4}, {2, 2}), q = from_vector<double>({5, 6}, {2, 1});
  EXPECT_EQ(ops::cat({p, q}, 1).to_vector<double>(), (std::vector<double>{1, 2, 5, 3, 4, 6}));
  EXPECT_EQ(ops::stack({p, p}, 0).shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(ops::stack({p, ops::mul_scalar(p, 2)}, 2).to_vector<double>(), (std::vector<double>{1, 2, 2, 4, 3, 6, 4, 8}));
  Tensor r = from_vector<double>({0, 1, 2, 3, 4, 5, 6}, {7});
  EXPECT_EQ(ops::slice(r, 0, 1, 6, 2).to_vector<double>(), (std::vector<double>{1, 3, 5}));
  EXPECT_EQ(ops::slice(r, 0, -3, 100).to_vector<double>(), (std::vector<double>{4, 5, 6}));
}

TEST(OpsForward, WhereAndMaskedFill) {
  Tensor a = from_vector<double>({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor cond = from_vector<uint8_t>({1, 0, 1}, {3});
  EXPECT_EQ(ops::where(cond, a, ops::neg(a)).to_vector<double>(), (std::vector<double>{1, -2, 3, 4, -5, 6}));
  Tensor mask = from_vector<uint8_t>({0, 1}, {2, 1});
  EXPECT_EQ(ops::masked_fill(a, mask, -9).to_vector<double>(), (std::vector<double>{1, 2, 3, -9, -9, -9}));
}

TEST(OpsForward, DropoutKeepsAboutOneMinusPAndScales) {
  Tensor x = ones({200, 500});
  Generator gen(3);
  Tensor y = dropout(x, 0.25, true, &gen);
  std::vector<float> yv = y.to_vector<float>();
  int64_t kept = 0;
  for (float v : yv) {
    if (v != 0.0f) {
      ++kept;
      EXPECT_FLOAT_EQ(v, 1.0f / 0.75f);
    }
  }
  EXPECT_NEAR(double(kept) / double(yv.size()), 0.75, 0.01);
  EXPECT_TRUE(dropout(x, 0.25, /*training=*/false).is_same(x));
}

TEST(OpsForward, CastRoundTripsAndBf16Rounds) {
  Tensor x = from_vector<double>({1.5, -2.25, 3.0, 1e-3}, {4});
  EXPECT_EQ(ops::cast(ops::cast(x, DType::i64), DType::f64).to_vector<double>(), (std::vector<double>{1, -2, 3, 0}));
  Tensor h = ops::cast(from_vector<float>({1.0f, 1.00390625f, 3.14159f}, {3}), DType::bf16);
  std::vector<float> back = ops::cast(h, DType::f32).to_vector<float>();
  EXPECT_EQ(back[0], 1.0f);
  EXPECT_EQ(back[1], 1.0f);  // halfway rounds to even
  EXPECT_NEAR(back[2], 3.14159f, 0.01f);
  EXPECT_EQ(ops::cast(from_vector<uint8_t>({255, 7}, {2}), DType::f32).to_vector<float>(), (std::vector<float>{255, 7}));
}

}  // namespace
}  // namespace strata
