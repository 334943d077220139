// Gaudi-GBLR: the Gaudi mask's closed form against the inverse real FFT it
// is defined by, its derivatives and sharp limit; the Gblr layer's forward
// against to_dense(), gradients (exact masks and the straight-through
// rounding), counts, init variance, projection, sigma schedule, shrinking
// and spec resolution.
#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <limits>
#include <numbers>

#include "core/ops.h"
#include "layers/gaudi_mask.h"
#include "layers/gblr.h"
#include "layers/linear_spec.h"
#include "tests/support/structured_checks.h"
#include "tests/support/test_util.h"

namespace strata {
namespace {

using testing::expect_close;

constexpr double kPi = std::numbers::pi;
constexpr double kInf = std::numeric_limits<double>::infinity();

double sinc(double x) { return x == 0.0 ? 1.0 : std::sin(kPi * x) / (kPi * x); }

// The reference definition, written out: Mhat[k] for k = 0..N/2 and
// irfft(Mhat, N, norm='forward')[t] = sum_k c_k Re(Mhat[k] e^{2 pi i k t/N}),
// c_0 = 1, c_{N/2} = 1 for even N, else 2.
std::vector<double> naive_mask(double w, double l, double sigma, int64_t n) {
  std::vector<double> out(size_t(n), 0.0);
  for (int64_t k = 0; k <= n / 2; ++k) {
    double gauss = std::isinf(sigma) ? 1.0 : std::exp(-double(k * k) / (2 * sigma * sigma));
    std::complex<double> phase(0.0, -2 * kPi * k * l + kPi * k * (1.0 / n - w));
    std::complex<double> coef = w * sinc(k * w) / sinc(double(k) / n) * gauss * std::exp(phase);
    double c = (k == 0 || (n % 2 == 0 && k == n / 2)) ? 1.0 : 2.0;
    for (int64_t t = 0; t < n; ++t) {
      out[size_t(t)] += c * (coef * std::exp(std::complex<double>(0.0, 2 * kPi * k * t / n))).real();
    }
  }
  return out;
}

std::vector<double> row(const Tensor& t, int64_t r) { return ops::slice(t, 0, r, r + 1).to_vector<double>(); }

// ---- the mask ----------------------------------------------------------------------

TEST(GaudiMask, ClosedFormMatchesTheInverseRealFft) {
  for (int64_t n : {16, 15}) {
    for (double sigma : {0.7, 2.0, 5.0, kInf}) {
      std::vector<double> w{0.3, 0.71, 1.0, 0.0, 5.0 / n}, l{0.17, 0.9, 0.4, 0.3, 3.0 / n};
      GaudiKernel kernel(n, sigma);
      GaudiMasks m = gaudi_masks(kernel, w, l, /*round=*/false, false);
      for (size_t c = 0; c < w.size(); ++c) {
        expect_close(row(m.mask, int64_t(c)), naive_mask(w[c], l[c], sigma, n), 1e-12);
      }
      // On the grid, the tables give the same values as the direct sums.
      GaudiMasks grid = gaudi_masks(kernel, w, l, /*round=*/true, false);
      for (size_t c = 0; c < w.size(); ++c) {
        expect_close(row(grid.mask, int64_t(c)),
                     naive_mask(round_to_grid(w[c], n), round_to_grid(l[c], n), sigma, n), 1e-12);
      }
    }
  }
}

TEST(GaudiMask, TablesMatchDirectSums) {
  for (int64_t n : {12, 13, 64}) {
    GaudiKernel kernel(n, 3.0);
    for (int64_t j = -n; j < 2 * n; ++j) {
      EXPECT_NEAR(kernel.f_odd(j), kernel.f(2.0 * j + 1.0), 1e-13) << n << " " << j;
      EXPECT_NEAR(kernel.g_odd(j), kernel.g(2.0 * j + 1.0), 1e-11) << n << " " << j;
    }
  }
}

TEST(GaudiMask, DerivativesMatchFiniteDifferences) {
  const double h = 1e-6;
  for (int64_t n : {10, 11}) {
    GaudiKernel kernel(n, 2.5);
    std::vector<double> w{0.37, 0.8}, l{0.21, 0.66};
    GaudiMasks m = gaudi_masks(kernel, w, l, false, true);
    for (size_t c = 0; c < w.size(); ++c) {
      std::vector<double> dw(static_cast<size_t>(n)), dl(static_cast<size_t>(n));
      std::vector<double> wp = naive_mask(w[c] + h, l[c], 2.5, n), wm = naive_mask(w[c] - h, l[c], 2.5, n);
      std::vector<double> lp = naive_mask(w[c], l[c] + h, 2.5, n), lm = naive_mask(w[c], l[c] - h, 2.5, n);
      for (int64_t t = 0; t < n; ++t) {
        dw[size_t(t)] = (wp[size_t(t)] - wm[size_t(t)]) / (2 * h);
        dl[size_t(t)] = (lp[size_t(t)] - lm[size_t(t)]) / (2 * h);
      }
      expect_close(row(m.d_width, int64_t(c)), dw, 1e-7, "d/dw");
      expect_close(row(m.d_location, int64_t(c)), dl, 1e-7, "d/dl");
    }
  }
}

// With sigma large the mask is the cyclic box of round(wN) ones from round(lN).
TEST(GaudiMask, LargeSigmaApproachesTheCyclicBox) {
  const int64_t n = 16;
  std::vector<double> w{0.3, 0.52, 0.05, 1.0 / 16}, l{0.9, 0.0, 0.49, 0.97};
  for (auto [sigma, tol] : {std::pair{kInf, 1e-12}, std::pair{1e3, 1e-4}, std::pair{1e5, 1e-8}}) {
    GaudiMasks m = gaudi_masks(GaudiKernel(n, sigma), w, l, /*round=*/true, false);
    for (size_t c = 0; c < w.size(); ++c) {
      const int64_t start = int64_t(std::nearbyint(l[c] * n)), len = int64_t(std::nearbyint(w[c] * n));
      std::vector<double> box(size_t(n), 0.0);
      for (int64_t i = 0; i < len; ++i) box[size_t((start + i) % n)] = 1.0;
      expect_close(row(m.mask, int64_t(c)), box, tol, "box");
    }
  }
}

TEST(GaudiMask, FullAndZeroWidthsAreOnesAndZerosAtAnySigma) {
  for (double sigma : {1.0, 7.0, 100.0}) {
    GaudiMasks m = gaudi_masks(GaudiKernel(20, sigma), {1.0, 0.0}, {0.35, 0.35}, true, false);
    expect_close(row(m.mask, 0), std::vector<double>(20, 1.0), 1e-12);
    expect_close(row(m.mask, 1), std::vector<double>(20, 0.0), 1e-12);
  }
}

// ---- the layer ------------------------------------------------------------------

LinearOptions f64_options(Generator* gen, bool bias = true) {
  return {.bias = bias, .dtype = DType::f64, .generator = gen};
}

// Widths and locations spread over [0, 1], so masks differ per component.
void randomise_structure(Gblr& layer, uint64_t seed) {
  Generator gen(seed);
  NoGradGuard no_grad;
  for (Tensor* t : {&layer.width_in, &layer.width_out}) uniform_(*t, 0.15, 0.9, &gen);
  for (Tensor* t : {&layer.location_in, &layer.location_out}) uniform_(*t, 0.0, 1.0, &gen);
}

TEST(Gblr, ForwardMatchesToDense) {
  for (bool bias : {true, false}) {
    for (bool rounding : {true, false}) {
      Generator gen(5);
      Gblr layer(9, 7, {.components = 5, .sigma = 3.0}, f64_options(&gen, bias));
      randomise_structure(layer, 8);
      layer.set_rounding(rounding);
      testing::check_forward_matches_to_dense(layer, 1e-10);
    }
  }
}

TEST(Gblr, ToDenseIsTheSumOfMaskedRankOneComponents) {
  Generator gen(2);
  Gblr layer(6, 5, {.components = 3, .sigma = 2.0}, f64_options(&gen));
  randomise_structure(layer, 3);
  Tensor m_in = layer.input_masks(), m_out = layer.output_masks();
  std::vector<double> expected(30, 0.0);
  std::vector<double> u = layer.u.to_vector<double>(), v = layer.v.to_vector<double>();
  std::vector<double> mi = m_in.to_vector<double>(), mo = m_out.to_vector<double>();
  for (int c = 0; c < 3; ++c) {
    for (int o = 0; o < 5; ++o) {
      for (int i = 0; i < 6; ++i) {
        expected[size_t(o * 6 + i)] +=
            mo[size_t(c * 5 + o)] * u[size_t(o * 3 + c)] * v[size_t(c * 6 + i)] * mi[size_t(c * 6 + i)];
      }
    }
  }
  expect_close(layer.to_dense().to_vector<double>(), expected, 1e-12);
}

// Exact (unrounded) masks with a small sigma: every parameter, widths and
// locations included, against finite differences.
TEST(Gblr, GradcheckEveryParameterWithExactMasks) {
  Generator gen(11);
  Gblr layer(6, 5, {.components = 4, .sigma = 1.5}, f64_options(&gen));
  randomise_structure(layer, 12);
  layer.set_rounding(false);
  testing::check_gradcheck_input_and_params(layer, {.atol = 1e-6, .rtol = 1e-5});
}

// With rounding on, finite differences see a piecewise-constant function of
// the widths and locations, so gradcheck covers input, factors and bias.
TEST(Gblr, GradcheckInputFactorsAndBiasWithRounding) {
  Generator gen(13);
  Gblr layer(7, 6, {.components = 4, .sigma = 4.0}, f64_options(&gen));
  randomise_structure(layer, 14);
  Tensor x = testing::random_tensor({2, 3, 7}, 15);
  testing::expect_gradcheck([&](const std::vector<Tensor>& in) { return layer.forward(in[0]); },
                            {x, layer.u, layer.v, layer.bias});
}

// The straight-through estimator: with widths and locations off the grid,
// the rounded layer's output and every gradient equal those of the exact
// layer evaluated at the rounded values.
TEST(Gblr, RoundingIsStraightThrough) {
  const int64_t in = 8, out = 6;
  Generator g1(21), g2(21);
  Gblr rounded(in, out, {.components = 4, .sigma = 3.0}, f64_options(&g1));
  Gblr exact(in, out, {.components = 4, .sigma = 3.0}, f64_options(&g2));
  randomise_structure(rounded, 22);
  {
    NoGradGuard no_grad;
    for (auto [src, dst, n] : {std::tuple{&rounded.width_in, &exact.width_in, in},
                               std::tuple{&rounded.width_out, &exact.width_out, out},
                               std::tuple{&rounded.location_in, &exact.location_in, in},
                               std::tuple{&rounded.location_out, &exact.location_out, out}}) {
      std::vector<double> values = src->to_vector<double>();
      for (double& x : values) x = round_to_grid(x, n);
      ops::copy_(*dst, from_vector(values, dst->shape()));
    }
  }
  exact.set_rounding(false);
  Tensor x = testing::random_tensor({5, in}, 23, DType::f64, false);
  Tensor dy = testing::random_tensor({5, out}, 24, DType::f64, false);
  Tensor y_rounded = rounded.forward(x), y_exact = exact.forward(x);
  expect_close(y_rounded.to_vector<double>(), y_exact.to_vector<double>(), 1e-12, "forward");
  y_rounded.backward(dy);
  y_exact.backward(dy);
  std::vector<Tensor> pr = rounded.parameters(), pe = exact.parameters();
  ASSERT_EQ(pr.size(), pe.size());
  for (size_t i = 0; i < pr.size(); ++i) {
    ASSERT_TRUE(pr[i].grad().defined()) << "parameter " << i;
    expect_close(pr[i].grad().to_vector<double>(), pe[i].grad().to_vector<double>(), 1e-10, "gradient");
  }
  // The width gradient is not zero (finite differences of the rounded forward would say it is).
  EXPECT_GT(ops::sum(ops::mul(rounded.width_in.grad(), rounded.width_in.grad())).item<double>(), 1e-12);
  // And the forward is piecewise constant in the widths: a nudge within the grid cell changes nothing.
  {
    NoGradGuard no_grad;
    Tensor before = rounded.forward(x);
    ops::add_(rounded.width_in, full({4}, 1e-4, {DType::f64}));
    expect_close(rounded.forward(x).to_vector<double>(), before.to_vector<double>(), 0.0, "nudged");
  }
}

TEST(Gblr, NumParamsMatchesParameterList) {
  Generator gen(1);
  Gblr layer(12, 10, {.components = 6}, f64_options(&gen));
  testing::check_num_params_matches_parameter_list(layer);
  EXPECT_EQ(layer.num_params(), 6 * (12 + 10) + 4 * 6 + 10);
  Gblr no_bias(12, 10, {}, f64_options(&gen, false));
  testing::check_num_params_matches_parameter_list(no_bias);
  EXPECT_EQ(no_bias.num_params(), 10 * 22 + 40);
}

TEST(Gblr, FlopsFollowTheCurrentMasks) {
  Generator gen(1);
  Gblr layer(20, 10, {.components = 4}, f64_options(&gen));
  NoGradGuard no_grad;
  // lengths in: 20, 5, 1, 0; out: 10, 3, 1, 4.
  ops::copy_(layer.width_in, from_vector(std::vector<double>{1.0, 0.26, 0.05, 0.01}, {4}));
  ops::copy_(layer.width_out, from_vector(std::vector<double>{1.0, 0.3, 0.1, 0.4}, {4}));
  const int64_t cost = (20 + 10) + (5 + 3) + std::min<int64_t>(1 + 1, 1 * 1) + 0;
  EXPECT_EQ(layer.flops(7), 2 * 7 * cost);
  // With a large sigma the masks' supports are those lengths.
  layer.set_sigma(1e6);
  Tensor m_in = layer.input_masks();
  std::vector<int64_t> lengths;
  for (int64_t c = 0; c < 4; ++c) {
    int64_t count = 0;
    for (double x : row(m_in, c)) count += std::abs(x) > 1e-3;
    lengths.push_back(count);
  }
  EXPECT_EQ(lengths, (std::vector<int64_t>{20, 5, 1, 0}));
  // What the two GEMMs execute, against an op-counting run.
  EXPECT_EQ(layer.gemm_flops(7), testing::count_forward_flops(layer, 7));
  EXPECT_EQ(layer.gemm_flops(7), 2 * 7 * 4 * 30);
}

// Components with both masks zero are skipped: same output, zero gradients
// for them, fewer GEMM FLOPs (counted as they run).
TEST(Gblr, DeadComponentsAreSkippedExactly) {
  Generator gen(41);
  Gblr layer(9, 8, {.components = 5, .sigma = 3.0}, f64_options(&gen));
  randomise_structure(layer, 42);
  {
    NoGradGuard no_grad;
    // Component 1 dead on both sides, 3 only on the input side (0.04 * 9 rounds to 0).
    ops::copy_(layer.width_in, from_vector(std::vector<double>{0.5, 0.0, 0.6, 0.04, 0.3}, {5}));
    ops::copy_(layer.width_out, from_vector(std::vector<double>{0.5, 0.05, 0.4, 0.5, 0.7}, {5}));
  }
  EXPECT_EQ(layer.live_components(), (std::vector<int64_t>{0, 2, 3, 4}));
  EXPECT_EQ(layer.gemm_flops(3), testing::count_forward_flops(layer, 3));
  EXPECT_EQ(layer.gemm_flops(3), 2 * 3 * 4 * 17);
  testing::check_forward_matches_to_dense(layer, 1e-10);
  Tensor x = testing::random_tensor({2, 9}, 43);
  testing::expect_gradcheck([&](const std::vector<Tensor>& in) { return layer.forward(in[0]); },
                            {x, layer.u, layer.v, layer.bias});
  layer.zero_grad();
  layer.forward(x).backward(testing::random_tensor({2, 8}, 44, DType::f64, false));
  for (const Tensor* p : {&layer.width_in, &layer.width_out, &layer.location_in, &layer.location_out}) {
    EXPECT_EQ(p->grad().to_vector<double>()[1], 0.0);
  }
  EXPECT_NE(layer.width_in.grad().to_vector<double>()[3], 0.0);  // the dead side of a live component can regrow
}

TEST(Gblr, InitVarianceMatchesDense) {
  for (auto [in, out] : {std::pair{256, 512}, std::pair{300, 200}}) {
    testing::check_init_variance_matches_dense([&](Generator* gen) {
      return std::make_unique<Gblr>(in, out, GblrConfig{}, LinearOptions{.generator = gen});
    });
  }
  // The reference's "splr" widths: a quarter full, the rest 1/3 (mean 1/2)
  // for a square layer, rounded down to the grid.
  Generator gen(3);
  Gblr layer(64, 64, {}, {.generator = &gen});
  std::vector<double> w = layer.width_in.to_vector<double>();
  EXPECT_EQ(std::count(w.begin(), w.end(), 1.0), 16);
  EXPECT_NEAR(w.back(), 21.0 / 64, 1e-7);
  EXPECT_NEAR(layer.mean_active_width(), 0.5, 0.01);
  EXPECT_LE(layer.flops(1), 2 * 64 * 64);
  EXPECT_EQ(layer.location_in.to_vector<double>(), std::vector<double>(64, 0.0));
}

TEST(Gblr, ProjectRecoversAMemberAndErrorFallsWithComponents) {
  Generator g1(31), g2(32);
  Gblr member(10, 8, {.components = 3, .sigma = 2.0}, f64_options(&g1));
  randomise_structure(member, 33);  // still a sum of 3 rank-1 terms
  Gblr fresh(10, 8, {.components = 3}, f64_options(&g2));
  testing::check_projection_recovers_member(member, fresh);
  EXPECT_EQ(fresh.width_in.to_vector<double>(), std::vector<double>(3, 1.0));

  Tensor w = testing::random_tensor({8, 10}, 34, DType::f64, false);
  testing::check_projection_error_nonincreasing(w, {1, 2, 4, 6, 8}, [](int64_t k) {
    return std::make_unique<Gblr>(10, 8, GblrConfig{.components = k}, LinearOptions{.dtype = DType::f64});
  });
}

TEST(Gblr, ProjectWithAFlopBudgetKeepsTheTopComponents) {
  LinearSpec spec;
  spec.type = "gblr";
  spec.flops_ratio = 0.5;
  GblrConfig config = Gblr::resolve(spec, 32, 32);
  EXPECT_EQ(config.components, 32);
  EXPECT_NEAR(config.mean_width, 0.25, 1e-12);
  Gblr layer(32, 32, config, {.dtype = DType::f64});
  EXPECT_LE(layer.flops(1), int64_t(0.5 * 2 * 32 * 32));
  Tensor w = testing::random_tensor({32, 32}, 5, DType::f64, false);
  double err = layer.project(w);
  std::vector<double> widths = layer.width_out.to_vector<double>();
  EXPECT_EQ(std::count(widths.begin(), widths.end(), 1.0), 8);
  EXPECT_EQ(layer.flops(1), 2 * 8 * 64);
  // The same error as the rank-8 truncated SVD.
  Gblr rank8(32, 32, {.components = 8}, {.dtype = DType::f64});
  EXPECT_NEAR(err, rank8.project(w), 1e-10);
}

TEST(Gblr, SigmaScheduleAndBuffer) {
  EXPECT_EQ(Gblr::sigma_at(0), 1.0);
  EXPECT_EQ(Gblr::sigma_at(5), 1.0);
  EXPECT_NEAR(Gblr::sigma_at(152.5), 50.5, 1e-12);
  EXPECT_EQ(Gblr::sigma_at(300), 100.0);
  EXPECT_EQ(Gblr::sigma_at(310), 100.0);
  EXPECT_NEAR(Gblr::sigma_at(55, 105), 50.5, 1e-12);
  EXPECT_THROW(Gblr::sigma_at(1, 4), Error);

  Gblr layer(16, 16, {}, {.dtype = DType::f64});
  EXPECT_EQ(layer.sigma(), 1.0);
  Tensor smooth = layer.input_masks();
  layer.set_sigma(Gblr::sigma_at(300));
  EXPECT_EQ(layer.sigma(), 100.0);
  EXPECT_GT(relative_error(smooth, layer.input_masks()), 0.1);  // the masks sharpen
  EXPECT_TRUE(layer.state_dict().contains("sigma"));
  EXPECT_THROW(layer.set_sigma(0.0), Error);
}

TEST(Gblr, ShrinkWidthsSoftThresholdsUntilTheTarget) {
  Gblr layer(10, 10, {.components = 4}, {.dtype = DType::f64});
  auto set = [](const Tensor& t, std::vector<double> v) {
    NoGradGuard no_grad;
    ops::copy_(t, from_vector(v, {4}));
  };
  set(layer.width_in, {0.5, 0.05, 1.2, -0.3});
  set(layer.width_out, {0.5, 0.5, 0.5, 0.5});
  set(layer.location_in, {1.25, -0.25, 0.5, 3.0});
  EXPECT_TRUE(layer.shrink_widths(0.1));
  expect_close(layer.width_in.to_vector<double>(), {0.4, 0.0, 1.0, 0.0}, 1e-12, "widths in");
  expect_close(layer.width_out.to_vector<double>(), {0.4, 0.4, 0.4, 0.4}, 1e-12, "widths out");
  expect_close(layer.location_in.to_vector<double>(), {0.25, 0.75, 0.5, 0.0}, 1e-12, "locations");
  // Active components: 0 and 2 (both widths nonzero): (0.4 + 0.4 + 1.0 + 0.4) / 8.
  EXPECT_NEAR(layer.mean_active_width(), 2.2 / 8, 1e-12);
  // Below the target: no shrinking, only clamping and wrapping.
  EXPECT_FALSE(layer.shrink_widths(0.1, 0.3));
  expect_close(layer.width_in.to_vector<double>(), {0.4, 0.0, 1.0, 0.0}, 1e-12, "kept");
  EXPECT_TRUE(layer.shrink_widths(0.1, 0.2));
  expect_close(layer.width_out.to_vector<double>(), {0.3, 0.3, 0.3, 0.3}, 1e-12, "shrunk");
}

TEST(Gblr, ResolveSizesAndNamesKeys) {
  LinearSpec spec;
  spec.type = "gblr";
  GblrConfig d = Gblr::resolve(spec, 768, 3072);
  EXPECT_EQ(d.components, 768);
  EXPECT_NEAR(d.mean_width, 0.8, 1e-12);  // the reference's splr ratio: dense FLOPs
  EXPECT_FALSE(d.width_budget);

  spec.rank = 100;
  EXPECT_EQ(Gblr::resolve(spec, 768, 768).components, 100);
  EXPECT_NEAR(Gblr::resolve(spec, 768, 768).mean_width, 1.0, 1e-12);

  spec.rank = 0;
  spec.params_ratio = 0.5;
  EXPECT_EQ(Gblr::resolve(spec, 64, 64).components, 64 * 64 / 2 / 132);

  auto expect_key = [](const LinearSpec& s, const std::string& key) {
    try {
      Gblr::resolve(s, 64, 32);
      ADD_FAILURE() << "no error for key " << key;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(key + ":"), std::string::npos) << e.what();
    }
  };
  LinearSpec bad;
  bad.type = "gblr";
  bad.blocks = 2;
  expect_key(bad, "blocks");
  bad.blocks = 0;
  bad.rank = 33;
  expect_key(bad, "rank");
  bad.params_ratio = 0.5;
  expect_key(bad, "rank");
  bad.rank = 0;
  bad.params_ratio = 0.0;
  bad.flops_ratio = 0.01;
  expect_key(bad, "flops_ratio");
  bad.flops_ratio = -1;
  expect_key(bad, "flops_ratio");
}

TEST(Gblr, MadeFromASpecWithAFlopBudget) {
  LinearSpec spec;
  spec.type = "gblr";
  spec.flops_ratio = 0.5;
  LinearSpec resolved = resolve_linear_spec(spec, 48, 96);
  EXPECT_EQ(resolved.rank, 48);
  EXPECT_EQ(resolve_linear_spec(resolved, 48, 96).rank, 48);  // idempotent
  for (const LinearSpec& s : {spec, resolved}) {
    std::unique_ptr<StructuredLinear> layer = make_linear(s, 48, 96);
    auto* gblr = dynamic_cast<Gblr*>(layer.get());
    ASSERT_NE(gblr, nullptr);
    EXPECT_EQ(gblr->components(), 48);
    EXPECT_LE(layer->flops(1), int64_t(0.5 * 2 * 48 * 96));
    EXPECT_GE(layer->flops(1), int64_t(0.4 * 2 * 48 * 96));
  }
  // from_dense: the budget keeps floor(K w) = 16 components at full width.
  Tensor w = testing::random_tensor({96, 48}, 3, DType::f64, false);
  Projection p = from_dense(w, spec, {.dtype = DType::f64});
  EXPECT_EQ(p.layer->flops(1), 2 * 16 * (48 + 96));
  EXPECT_EQ(dynamic_cast<Gblr*>(p.layer.get())->live_components().size(), 16u);
  EXPECT_LT(p.relative_error, 1.0);
}

}  // namespace
}  // namespace strata
