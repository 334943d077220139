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

}  // namespace
}  // namespace strata
