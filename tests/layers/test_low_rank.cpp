// LowRank: W = U V^T against its dense matrix, gradients, counts, SVD
// projection, init variance, and budget solving.
#include <gtest/gtest.h>

#include "core/linalg.h"
#include "layers/low_rank.h"
#include "tests/support/structured_checks.h"

namespace strata {
namespace {

using namespace strata::testing;

LinearOptions f64_options(Generator* gen, bool bias = true) {
  return {.bias = bias, .dtype = DType::f64, .generator = gen};
}

TEST(LowRank, ForwardMatchesToDense) {
  Generator gen(1);
  LowRank square(12, 12, 5, f64_options(&gen));
  check_forward_matches_to_dense(square);
  LowRank wide(8, 20, 3, f64_options(&gen, /*bias=*/false));
  EXPECT_FALSE(wide.bias.defined());
  check_forward_matches_to_dense(wide);
  LowRank tall(20, 6, 6, f64_options(&gen));
  check_forward_matches_to_dense(tall);
  LowRank single(16, 24, 4, {.generator = &gen});  // f32, the training dtype
  check_forward_matches_to_dense(single, 1e-5);
}

TEST(LowRank, ForwardTakesNonContiguousInput) {
  Generator gen(2);
  LowRank layer(6, 5, 2, f64_options(&gen));
  Tensor x = noncontiguous_tensor({4, 6}, 3, /*grad=*/false);
  expect_close(layer.forward(x).to_vector<double>(), layer.forward(ops::contiguous(x)).to_vector<double>(), 1e-12);
}

TEST(LowRank, GradcheckInputAndParameters) {
  Generator gen(3);
  LowRank layer(5, 4, 2, f64_options(&gen));
  check_gradcheck_input_and_params(layer);
  LowRank no_bias(4, 6, 3, f64_options(&gen, false));
  check_gradcheck_input_and_params(no_bias);
}

TEST(LowRank, ParametersAndCounts) {
  Generator gen(4);
  LowRank layer(10, 7, 3, f64_options(&gen));
  std::vector<NamedTensor> named = layer.named_parameters();
  ASSERT_EQ(named.size(), 3u);
  EXPECT_EQ(named[0].first, "U");
  EXPECT_EQ(named[1].first, "V");
  EXPECT_EQ(named[2].first, "bias");
  EXPECT_EQ(layer.U.shape(), (Shape{7, 3}));
  EXPECT_EQ(layer.V.shape(), (Shape{10, 3}));
  EXPECT_EQ(layer.num_params(), 3 * (10 + 7) + 7);
  check_num_params_matches_parameter_list(layer);
  EXPECT_EQ(layer.flops(5), 2 * 5 * 3 * (10 + 7));
  check_flops_matches_op_count(layer, 5);
  LowRank no_bias(10, 7, 3, f64_options(&gen, false));
  check_num_params_matches_parameter_list(no_bias);
  check_flops_matches_op_count(no_bias, 9);
}

TEST(LowRank, RejectsBadRank) {
  EXPECT_THROW(LowRank(6, 4, 0), Error);
  EXPECT_THROW(LowRank(6, 4, 5), Error);
}

TEST(LowRank, ProjectionRecoversMember) {
  Generator gen(5);
  LowRank member(14, 9, 4, f64_options(&gen)), fresh(14, 9, 4, f64_options(&gen));
  check_projection_recovers_member(member, fresh);
  LowRank member32(14, 9, 4, {.generator = &gen}), fresh32(14, 9, 4, {.generator = &gen});
  check_projection_recovers_member(member32, fresh32, 1e-5);
}

TEST(LowRank, ProjectionIsTheTruncatedSvd) {
  Generator gen(6);
  Tensor w = randn({12, 9}, {DType::f64}, &gen);
  std::vector<double> s = linalg::svd(w).s.to_vector<double>();
  double total = 0.0, tail = 0.0;
  for (size_t k = 0; k < s.size(); ++k) total += s[k] * s[k];
  for (size_t k = 4; k < s.size(); ++k) tail += s[k] * s[k];
  LowRank layer(9, 12, 4, f64_options(&gen));
  EXPECT_NEAR(layer.project(w), std::sqrt(tail / total), 1e-12);  // Eckart-Young
  // U and V carry sqrt(S) each: U^T U = V^T V = diag(S_r).
  Tensor utu = ops::matmul(ops::transpose(layer.U, 0, 1), layer.U);
  Tensor vtv = ops::matmul(ops::transpose(layer.V, 0, 1), layer.V);
  expect_close(utu.to_vector<double>(), vtv.to_vector<double>(), 1e-10);
  for (int64_t k = 0; k < 4; ++k) EXPECT_NEAR(utu.to_vector<double>()[size_t(k * 5)], s[size_t(k)], 1e-10);
}

TEST(LowRank, ProjectionErrorNonIncreasingWithRank) {
  Generator gen(7);
  Tensor w = randn({16, 12}, {DType::f64}, &gen);
  check_projection_error_nonincreasing(w, {1, 2, 3, 5, 8, 12}, [&](int64_t r) {
    return std::make_unique<LowRank>(12, 16, r, f64_options(&gen));
  });
  EXPECT_LT(LowRank(12, 16, 12, f64_options(&gen)).project(w), 1e-12);  // full rank is exact
}

TEST(LowRank, InitVarianceMatchesDense) {
  check_init_variance_matches_dense([](Generator* g) { return std::make_unique<LowRank>(256, 512, 64, LinearOptions{.generator = g}); });
  check_init_variance_matches_dense([](Generator* g) { return std::make_unique<LowRank>(512, 256, 16, LinearOptions{.generator = g}); });
}

TEST(LowRank, InitIsSeeded) {
  Generator g1(9), g2(9);
  LowRank a(8, 6, 2, {.generator = &g1}), b(8, 6, 2, {.generator = &g2});
  EXPECT_EQ(a.U.to_vector<float>(), b.U.to_vector<float>());
  EXPECT_EQ(a.V.to_vector<float>(), b.V.to_vector<float>());
  EXPECT_NE(a.U.to_vector<float>(), a.V.to_vector<float>());
}

TEST(LowRank, ResolveSolvesTheLargestRankWithinBudget) {
  for (auto [in, out] : {std::pair<int64_t, int64_t>{768, 768}, {768, 3072}, {3072, 768}, {100, 30}}) {
    for (double ratio : {0.05, 0.25, 0.5, 1.0}) {
      LinearSpec spec;
      spec.type = "low_rank";
      spec.flops_ratio = ratio;
      int64_t r = LowRank::resolve(spec, in, out).rank;
      double budget = ratio * 2.0 * double(in) * double(out);
      EXPECT_LE(double(LowRank::cost(in, out, r).flops_per_token), budget) << in << "->" << out << " " << ratio;
      if (r < std::min(in, out)) {
        EXPECT_GT(double(LowRank::cost(in, out, r + 1).flops_per_token), budget);
      }
      spec.flops_ratio = 0.0;
      spec.params_ratio = ratio;
      EXPECT_EQ(LowRank::resolve(spec, in, out).rank, r);  // same ratio: params and flops scale alike
    }
  }
  LinearSpec spec;
  spec.type = "low_rank";
  spec.params_ratio = 0.5;
  EXPECT_EQ(LowRank::resolve(spec, 768, 768).rank, 192);  // floor(beta m n / (m + n))
}

TEST(LowRank, ResolveErrorsNameTheKey) {
  LinearSpec spec;
  spec.type = "low_rank";
  spec.source = "model.yaml:3";
  auto message = [&](const LinearSpec& s) {
    try {
      LowRank::resolve(s, 64, 32);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(spec).find("rank"), std::string::npos);  // no size at all
  LinearSpec blocks = spec;
  blocks.blocks = 2;
  blocks.rank = 4;
  EXPECT_NE(message(blocks).find("blocks"), std::string::npos);
  LinearSpec too_big = spec;
  too_big.rank = 33;
  EXPECT_NE(message(too_big).find("rank"), std::string::npos);
  LinearSpec tiny = spec;
  tiny.flops_ratio = 0.001;
  EXPECT_NE(message(tiny).find("flops_ratio"), std::string::npos);
  EXPECT_NE(message(tiny).find("model.yaml:3"), std::string::npos);
}

}  // namespace
}  // namespace strata
