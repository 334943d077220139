// AdamW and SGD against hand-written f64 references of torch.optim's update
// rules, on a tiny Linear(3, 2) whose weight decays and whose bias does not.
#include <gtest/gtest.h>

#include <cmath>

#include "core/ops.h"
#include "layers/linear.h"
#include "layers/parameter_arena.h"
#include "tests/support/test_util.h"
#include "train/adamw.h"
#include "train/sgd.h"

namespace strata {
namespace {

using testing::expect_close;

// One parameter tensor's values, whether it decays, and a gradient per step.
struct RefParam {
  std::vector<double> p;
  bool decay;
};

// Per-step gradients: deterministic, sign-varying, different per element.
std::vector<double> grad_values(int64_t n, int step, int which) {
  std::vector<double> g(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) g[size_t(i)] = std::sin(1.3 * double(i + 1) + 0.7 * step + 2.1 * which) * 0.5;
  return g;
}

void set_grads(Linear& fc, int step) {
  ops::copy_(fc.weight.grad(), from_vector(grad_values(6, step, 0), {2, 3}));
  ops::copy_(fc.bias.grad(), from_vector(grad_values(2, step, 1), {2}));
}

std::vector<RefParam> reference_params(const Linear& fc) {
  return {{fc.weight.to_vector<double>(), true}, {fc.bias.to_vector<double>(), false}};
}

// torch.optim.AdamW, one step t (1-based) on one tensor.
void ref_adamw(RefParam& rp, std::vector<double>& m, std::vector<double>& v, const std::vector<double>& g,
               const AdamWOptions& o, double lr, int t) {
  for (size_t i = 0; i < rp.p.size(); ++i) {
    if (rp.decay) rp.p[i] *= 1.0 - lr * o.weight_decay;
    m[i] = o.beta1 * m[i] + (1 - o.beta1) * g[i];
    v[i] = o.beta2 * v[i] + (1 - o.beta2) * g[i] * g[i];
    double bc1 = 1 - std::pow(o.beta1, t), bc2 = 1 - std::pow(o.beta2, t);
    rp.p[i] -= lr / bc1 * m[i] / (std::sqrt(v[i]) / std::sqrt(bc2) + o.eps);
  }
}

// torch.optim.SGD (dampening 0), one step on one tensor.
void ref_sgd(RefParam& rp, std::vector<double>& buf, const std::vector<double>& g_in, const SGDOptions& o) {
  for (size_t i = 0; i < rp.p.size(); ++i) {
    double g = g_in[i] + (rp.decay ? o.weight_decay * rp.p[i] : 0.0);
    if (o.momentum != 0.0) {
      buf[i] = o.momentum * buf[i] + g;
      g = o.nesterov ? g + o.momentum * buf[i] : buf[i];
    }
    rp.p[i] -= o.lr * g;
  }
}

TEST(AdamW, MatchesTorchFormulaOverSteps) {
  Generator gen(1);
  Linear fc(3, 2, {.generator = &gen});
  ParameterArena arena(fc);
  AdamWOptions o{.lr = 0.05, .beta1 = 0.8, .beta2 = 0.95, .eps = 1e-6, .weight_decay = 0.3};
  AdamW opt(arena, o);
  std::vector<RefParam> ref = reference_params(fc);
  std::vector<std::vector<double>> m{std::vector<double>(6), std::vector<double>(2)}, v = m;
  const double lrs[] = {0.05, 0.02, 0.05};
  for (int t = 1; t <= 3; ++t) {
    set_grads(fc, t);
    opt.set_lr(lrs[t - 1]);
    opt.step();
    ref_adamw(ref[0], m[0], v[0], grad_values(6, t, 0), o, lrs[t - 1], t);
    ref_adamw(ref[1], m[1], v[1], grad_values(2, t, 1), o, lrs[t - 1], t);
    expect_close(fc.weight.to_vector<double>(), ref[0].p, 2e-6, "weight");
    expect_close(fc.bias.to_vector<double>(), ref[1].p, 2e-6, "bias");
  }
  EXPECT_EQ(opt.step_count(), 3);
  // The moments are flat, laid out like the arena (decayed weight first).
  auto state = opt.state();
  ASSERT_EQ(state.size(), 2u);
  EXPECT_EQ(state[0].first, "exp_avg");
  std::vector<double> flat_m = m[0];
  flat_m.insert(flat_m.end(), m[1].begin(), m[1].end());
  expect_close(state[0].second.to_vector<double>(), flat_m, 1e-6, "exp_avg");
}

TEST(AdamW, WeightDecayMaskSparesBiases) {
  // Zero gradients: Adam's update is 0 / (0 + eps) = 0, leaving only decay.
  Linear fc(3, 2);
  ParameterArena arena(fc);
  std::vector<float> w = fc.weight.to_vector<float>(), b = fc.bias.to_vector<float>();
  AdamW opt(arena, {.lr = 0.1, .weight_decay = 0.5});
  opt.step();
  std::vector<float> w1 = fc.weight.to_vector<float>();
  for (size_t i = 0; i < w.size(); ++i) EXPECT_FLOAT_EQ(w1[i], w[i] * (1.0f - 0.1f * 0.5f));
  EXPECT_EQ(fc.bias.to_vector<float>(), b);
}

TEST(AdamW, RejectsBadOptions) {
  Linear fc(3, 2);
  ParameterArena arena(fc);
  EXPECT_THROW(AdamW(arena, {.beta1 = 1.0}), Error);
  EXPECT_THROW(AdamW(arena, {.weight_decay = -1.0}), Error);
  AdamW opt(arena);
  EXPECT_THROW(opt.set_lr(-1e-3), Error);
  EXPECT_THROW(opt.set_lr(std::nan("")), Error);
}

TEST(AdamW, RefusesToStepWhenAGradLeftTheArena) {
  Linear fc(3, 2);
  ParameterArena arena(fc);
  AdamW opt(arena);
  fc.bias.set_grad(zeros({2}));
  EXPECT_THROW(opt.step(), Error);
}

void check_sgd(SGDOptions o) {
  Generator gen(2);
  Linear fc(3, 2, {.generator = &gen});
  ParameterArena arena(fc);
  SGD opt(arena, o);
  std::vector<RefParam> ref = reference_params(fc);
  std::vector<std::vector<double>> buf{std::vector<double>(6), std::vector<double>(2)};
  for (int t = 1; t <= 4; ++t) {
    set_grads(fc, t);
    opt.step();
    ref_sgd(ref[0], buf[0], grad_values(6, t, 0), o);
    ref_sgd(ref[1], buf[1], grad_values(2, t, 1), o);
    expect_close(fc.weight.to_vector<double>(), ref[0].p, 1e-6, "weight");
    expect_close(fc.bias.to_vector<double>(), ref[1].p, 1e-6, "bias");
  }
  EXPECT_EQ(opt.state().size(), o.momentum != 0.0 ? 1u : 0u);
}

TEST(SGD, Plain) { check_sgd({.lr = 0.1}); }
TEST(SGD, WeightDecayOnDecayedGroupOnly) { check_sgd({.lr = 0.1, .weight_decay = 0.2}); }
TEST(SGD, Momentum) { check_sgd({.lr = 0.1, .momentum = 0.9, .weight_decay = 0.05}); }
TEST(SGD, Nesterov) { check_sgd({.lr = 0.1, .momentum = 0.9, .nesterov = true, .weight_decay = 0.05}); }

TEST(SGD, RejectsNesterovWithoutMomentum) {
  Linear fc(3, 2);
  ParameterArena arena(fc);
  EXPECT_THROW(SGD(arena, {.nesterov = true}), Error);
}

}  // namespace
}  // namespace strata
