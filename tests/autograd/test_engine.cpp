// The tape and the backward engine: accumulation, shared subgraphs,
// retain_grad, detach, NoGradGuard, graph release.
#include "tests/support/test_util.h"

namespace strata {
namespace {

using testing::random_tensor;

TEST(Engine, GradientsAccumulateAcrossBackwardCalls) {
  Tensor x = from_vector<double>({1, 2}, {2});
  x.requires_grad_();
  sum(x * x).backward();
  sum(x * 3.0).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{2 + 3, 4 + 3}));
}

TEST(Engine, DiamondGraphSumsBothPaths) {
  Tensor x = from_vector<double>({3}, {1});
  x.requires_grad_();
  Tensor a = x * 2.0, b = exp(x);
  Tensor y = sum(a * b + a);  // d/dx (2x e^x + 2x) = 2e^x + 2x e^x + 2
  y.backward();
  EXPECT_NEAR(x.grad().item<double>(), 2 * std::exp(3.0) + 6 * std::exp(3.0) + 2, 1e-9);
}

TEST(Engine, RetainGradKeepsIntermediateGradients) {
  Tensor x = from_vector<double>({1, -2}, {2});
  x.requires_grad_();
  Tensor h = x * 3.0;
  h.retain_grad();
  Tensor z = x * 5.0;  // not retained
  sum(h * h + z).backward();
  EXPECT_EQ(h.grad().to_vector<double>(), (std::vector<double>{6, -12}));
  EXPECT_FALSE(z.grad().defined());
}

TEST(Engine, DetachAndNoGradStopRecording) {
  Tensor x = random_tensor({3}, 1);
  Tensor d = x.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE(d.shares_storage(x));
  {
    NoGradGuard guard;
    Tensor y = x * 2.0;
    EXPECT_FALSE(y.requires_grad());
    EXPECT_EQ(y.grad_fn(), nullptr);
  }
  EXPECT_TRUE((x * 2.0).requires_grad());
}

TEST(Engine, RetainGraphAllowsASecondBackward) {
  Tensor x = from_vector<double>({2}, {1});
  x.requires_grad_();
  Tensor y = sum(x * x * x);
  y.backward(Tensor(), /*retain_graph=*/true);
  y.backward();
  EXPECT_NEAR(x.grad().item<double>(), 2 * 12.0, 1e-12);
}

TEST(Engine, GradientOfNonScalarNeedsAnExplicitSeed) {
  Tensor x = from_vector<double>({1, 2, 3}, {3});
  x.requires_grad_();
  Tensor y = x * x;
  y.backward(from_vector<double>({1, 0, 2}, {3}));
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{2, 0, 12}));
}

TEST(Engine, InputsThatDoNotRequireGradGetNone) {
  Tensor w = random_tensor({3, 3}, 1);
  Tensor x = random_tensor({2, 3}, 2, DType::f64, /*grad=*/false);
  sum(matmul(x, w)).backward();
  EXPECT_TRUE(w.grad().defined());
  EXPECT_FALSE(x.grad().defined());
}

TEST(Engine, ViewOfALeafKeepsTheLeafsHistory) {
  Tensor x = from_vector<double>({1, 2, 3, 4}, {2, 2});
  x.requires_grad_();
  Tensor t = x.t();
  EXPECT_FALSE(t.is_leaf());
  EXPECT_TRUE(x.is_leaf());
  sum(t * from_vector<double>({1, 2, 3, 4}, {2, 2})).backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{1, 3, 2, 4}));
}

TEST(Engine, LongChainsDoNotOverflowTheStack) {
  Tensor x = from_vector<double>({1}, {1});
  x.requires_grad_();
  Tensor y = x;
  for (int i = 0; i < 20000; ++i) y = y * 1.0;
  sum(y).backward();
  EXPECT_EQ(x.grad().item<double>(), 1.0);
}

TEST(Engine, ExistingGradIsUpdatedInPlace) {
  // A .grad that is a view into a larger buffer (a gradient arena) stays one.
  Tensor arena = zeros({4}, {DType::f64});
  Tensor x = from_vector<double>({1, 2}, {2});
  x.requires_grad_();
  x.set_grad(ops::slice(arena, 0, 1, 3));
  sum(x * x).backward();
  EXPECT_EQ(arena.to_vector<double>(), (std::vector<double>{0, 2, 4, 0}));
}

// linear and embedding add their weight gradients straight into a leaf's
// existing .grad (LeafGradTarget). A weight used by both (GPT-2's tied
// embedding and LM head) and twice by linear gets the sum of every
// contribution on top of what its .grad held, and the .grad stays the view.
TEST(Engine, LinearAndEmbeddingAddIntoAnExistingGrad) {
  const Tensor x = random_tensor({2, 3, 4}, 1, DType::f64, false);
  const Tensor index = from_vector<int64_t>({2, 0, 2}, {3});
  const Tensor upstream = random_tensor({3, 5}, 2, DType::f64, false);
  const Tensor w0 = random_tensor({5, 4}, 3, DType::f64, false);
  auto f = [&](const Tensor& w) {
    const Tensor table = embedding(w, index);        // (3, 4)
    const Tensor logits = linear(table, w);          // (3, 5): the tied head
    const Tensor again = linear(x, w);               // (2, 3, 5): a second product with the same weight
    return add(sum(mul(logits, upstream)), sum(mul(again, again)));
  };
  // The reference: a fresh leaf without .grad (the engine sums the returned gradients).
  Tensor fresh = ops::clone(w0);
  fresh.requires_grad_();
  f(fresh).backward();
  const std::vector<double> expected = fresh.grad().to_vector<double>();

  Tensor arena = random_tensor({30}, 4, DType::f64, false);
  const std::vector<double> before = arena.to_vector<double>();
  Tensor w = ops::clone(w0);
  w.requires_grad_();
  w.set_grad(ops::view(ops::slice(arena, 0, 5, 25), {5, 4}));
  f(w).backward();
  EXPECT_TRUE(w.grad().shares_storage(arena));
  const std::vector<double> after = arena.to_vector<double>();
  for (size_t i = 0; i < after.size(); ++i) {
    const double added = (i >= 5 && i < 25) ? expected[i - 5] : 0.0;
    EXPECT_NEAR(after[i], before[i] + added, 1e-12) << "arena element " << i;
  }
}

// ... and without a temporary the size of the weight: the backward of a
// 2000 x 500 f32 weight (4 MB) over 8 rows holds far less than 4 MB at once.
TEST(Engine, LinearAndEmbeddingGradientsNeedNoWeightSizedTemporary) {
  Tensor w = random_tensor({2000, 500}, 5, DType::f32, false);
  w.requires_grad_();
  w.set_grad(zeros({2000, 500}));
  const Tensor x = random_tensor({8, 500}, 6, DType::f32, false);
  const Tensor index = from_vector<int64_t>({3, 1999, 3}, {3});
  const size_t weight_bytes = 2000 * 500 * sizeof(float);
  for (bool use_embedding : {false, true}) {
    Tensor loss = use_embedding ? sum(embedding(w, index)) : sum(linear(x, w));
    cpu_allocator().reset_peak();
    const size_t before = cpu_allocator().stats().bytes_in_use;
    loss.backward();
    EXPECT_LT(cpu_allocator().stats().peak_bytes_in_use - before, weight_bytes / 4)
        << (use_embedding ? "embedding" : "linear");
  }
  // Row 3 was looked up twice, row 1999 once; the linear added x's column sums to every row.
  const std::vector<float> g = w.grad().to_vector<float>();
  const std::vector<float> column_sums = sum(x, {0}).to_vector<float>();
  EXPECT_NEAR(g[3 * 500 + 7], column_sums[7] + 2.0f, 1e-4);
  EXPECT_NEAR(g[1999 * 500 + 7], column_sums[7] + 1.0f, 1e-4);
  EXPECT_NEAR(g[0 * 500 + 7], column_sums[7], 1e-4);
}

}  // namespace
}  // namespace strata
