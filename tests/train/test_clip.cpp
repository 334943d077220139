// clip_grad_norm: the global L2 norm, and scaling only when above max_norm.
#include <gtest/gtest.h>

#include <cmath>

#include "core/ops.h"
#include "layers/linear.h"
#include "layers/parameter_arena.h"
#include "train/clip.h"

namespace strata {
namespace {

TEST(ClipGradNorm, ArenaNormAndScaling) {
  Linear fc(2, 2);  // 6 parameters
  ParameterArena arena(fc);
  ops::copy_(arena.grads(), from_vector<float>({3, 0, 0, 0, 4, 0}, {6}));
  EXPECT_NEAR(clip_grad_norm(arena, 10.0), 5.0, 1e-6);
  EXPECT_EQ(arena.grads().to_vector<float>(), (std::vector<float>{3, 0, 0, 0, 4, 0}));  // below: untouched

  EXPECT_NEAR(clip_grad_norm(arena, 1.0), 5.0, 1e-6);
  std::vector<float> g = arena.grads().to_vector<float>();
  EXPECT_NEAR(g[0], 3.0 / (5.0 + 1e-6), 1e-6);
  EXPECT_NEAR(g[4], 4.0 / (5.0 + 1e-6), 1e-6);
  // The clipped gradients now have norm max_norm (the weight grad view sees it).
  EXPECT_NEAR(grad_norm({fc.weight.grad(), fc.bias.grad()}), 1.0, 1e-5);
}

TEST(ClipGradNorm, OverSeparateTensors) {
  Tensor a = from_vector<float>({1, 2, 2}, {3});
  Tensor b = from_vector<double>({4, 0, 0, 0}, {2, 2});
  Tensor strided = ops::slice(from_vector<float>({0, 10, 0, 10}, {4}), 0, 0, 4, 2);  // zeros
  EXPECT_NEAR(grad_norm({a, b, Tensor(), strided}), 5.0, 1e-6);
  EXPECT_NEAR(clip_grad_norm({a, b}, 2.5), 5.0, 1e-6);
  EXPECT_NEAR(b.to_vector<double>()[0], 2.0, 1e-6);
  EXPECT_NEAR(a.to_vector<float>()[1], 1.0, 1e-6);
  EXPECT_THROW(clip_grad_norm({a}, 0.0), Error);
}

TEST(ClipGradNorm, NonFiniteNormLeavesGradsAlone) {
  Tensor a = from_vector<float>({1, std::nanf(""), 2}, {3});
  EXPECT_TRUE(std::isnan(clip_grad_norm({a}, 1.0)));
  EXPECT_EQ(a.to_vector<float>()[0], 1.0f);
}

}  // namespace
}  // namespace strata
