// Monarch: fly's blockdiag butterfly against a naive reference and its dense
// matrix, gradients, counts, block-wise SVD projection (rectangular too),
// init variance, and rank solving.
#include <gtest/gtest.h>

#include "layers/low_rank.h"
#include "layers/monarch.h"
#include "tests/support/structured_checks.h"

namespace strata {
namespace {

using namespace strata::testing;

LinearOptions f64_options(Generator* gen, bool bias = true) {
  return {.bias = bias, .dtype = DType::f64, .generator = gen};
}

// fly's blockdiag_butterfly_multiply_reference (version 2), written out, on
// fly's weights: w1_fly[k, t b + i] = blkdiag1[k, i r' + t] (monarch.h):
//   out1[k, q] = sum_p w1[k, q, p] x[k p + p']            (x in chunks of n/b)
//   out1 flattened (k q), regrouped '(r l) -> l r' with l = b blocks
//   out2[l, s] = sum_r w2[l, s, r] out1[l][r];  y[s b + l] = out2[l, s]
std::vector<double> fly_reference(const std::vector<double>& x, const Monarch& layer, int64_t rows) {
  const int64_t b = layer.blocks(), n = layer.in_features(), m = layer.out_features();
  const int64_t q = layer.rank(), p = n / b, s = m / b, r = q;  // r: stage-2 input size = k q / l
  std::vector<double> ours = layer.blkdiag1.to_vector<double>(), w2 = layer.blkdiag2.to_vector<double>();
  const int64_t rb = layer.block_rank();
  std::vector<double> w1(ours.size());
  for (int64_t k = 0; k < b; ++k)
    for (int64_t i = 0; i < b; ++i)
      for (int64_t t = 0; t < rb; ++t)
        for (int64_t pi = 0; pi < p; ++pi)
          w1[size_t((k * q + t * b + i) * p + pi)] = ours[size_t((k * q + i * rb + t) * p + pi)];
  std::vector<double> y(size_t(rows * m), 0.0);
  for (int64_t row = 0; row < rows; ++row) {
    std::vector<double> out1(size_t(b * q), 0.0);  // flattened (k q)
    for (int64_t k = 0; k < b; ++k)
      for (int64_t qi = 0; qi < q; ++qi)
        for (int64_t pi = 0; pi < p; ++pi)
          out1[size_t(k * q + qi)] += w1[size_t((k * q + qi) * p + pi)] * x[size_t(row * n + k * p + pi)];
    for (int64_t l = 0; l < b; ++l)
      for (int64_t si = 0; si < s; ++si) {
        double acc = 0.0;
        for (int64_t ri = 0; ri < r; ++ri) acc += w2[size_t((l * s + si) * r + ri)] * out1[size_t(ri * b + l)];
        y[size_t(row * m + si * b + l)] = acc;
      }
  }
  if (layer.bias.defined()) {
    std::vector<double> bias = layer.bias.to_vector<double>();
    for (int64_t row = 0; row < rows; ++row)
      for (int64_t o = 0; o < m; ++o) y[size_t(row * m + o)] += bias[size_t(o)];
  }
  return y;
}

TEST(Monarch, ForwardMatchesFlysReference) {
  Generator gen(1);
  for (auto [in, out, b, rank] : {std::tuple<int64_t, int64_t, int64_t, int64_t>{8, 8, 2, 4}, {12, 8, 2, 2},
                                  {6, 15, 3, 6}, {16, 16, 4, 8}}) {
    Monarch layer(in, out, b, rank, f64_options(&gen));
    Tensor x = randn({5, in}, {DType::f64}, &gen);
    expect_close(layer.forward(x).to_vector<double>(), fly_reference(x.to_vector<double>(), layer, 5), 1e-12);
  }
}

TEST(Monarch, ForwardMatchesToDense) {
  Generator gen(2);
  Monarch square(16, 16, 4, 8, f64_options(&gen));
  check_forward_matches_to_dense(square);
  Monarch wide(8, 20, 4, 8, f64_options(&gen, /*bias=*/false));  // rectangular
  check_forward_matches_to_dense(wide);
  Monarch tall(18, 6, 3, 6, f64_options(&gen));
  check_forward_matches_to_dense(tall);
  Monarch one(6, 4, 1, 3, f64_options(&gen));  // one block: low-rank
  check_forward_matches_to_dense(one);
  Monarch single(32, 48, 4, 16, {.generator = &gen});  // f32
  check_forward_matches_to_dense(single, 1e-5);
}

TEST(Monarch, ForwardTakesNonContiguousInput) {
  Generator gen(3);
  Monarch layer(6, 4, 2, 2, f64_options(&gen));
  Tensor x = noncontiguous_tensor({5, 6}, 3, /*grad=*/false);
  expect_close(layer.forward(x).to_vector<double>(), layer.forward(ops::contiguous(x)).to_vector<double>(), 1e-12);
}

TEST(Monarch, GradcheckInputAndParameters) {
  Generator gen(4);
  Monarch layer(6, 4, 2, 4, f64_options(&gen));
  check_gradcheck_input_and_params(layer);
  Monarch no_bias(6, 9, 3, 3, f64_options(&gen, false));
  check_gradcheck_input_and_params(no_bias);
}

TEST(Monarch, ParametersAndCounts) {
  Generator gen(5);
  Monarch layer(12, 8, 4, 8, f64_options(&gen));  // r' = 2
  std::vector<NamedTensor> named = layer.named_parameters();
  ASSERT_EQ(named.size(), 3u);
  EXPECT_EQ(named[0].first, "blkdiag1");
  EXPECT_EQ(named[1].first, "blkdiag2");
  EXPECT_EQ(named[2].first, "bias");
  EXPECT_EQ(layer.blkdiag1.shape(), (Shape{4, 8, 3}));
  EXPECT_EQ(layer.blkdiag2.shape(), (Shape{4, 2, 8}));
  EXPECT_EQ(layer.block_rank(), 2);
  EXPECT_EQ(layer.num_params(), 8 * (12 + 8) + 8);
  check_num_params_matches_parameter_list(layer);
  EXPECT_EQ(layer.flops(3), 2 * 3 * 8 * (12 + 8));
  check_flops_matches_op_count(layer, 3);
  check_flops_matches_op_count(layer, 10);
}

TEST(Monarch, RejectsBadSizes) {
  EXPECT_THROW(Monarch(6, 4, 3, 3), Error);  // 3 does not divide 4
  EXPECT_THROW(Monarch(8, 8, 2, 3), Error);  // rank not a multiple of blocks
  EXPECT_THROW(Monarch(8, 4, 2, 6), Error);  // rank above min(in, out)
  EXPECT_THROW(Monarch(8, 8, 2, 0), Error);
}

TEST(Monarch, ProjectionRecoversMember) {
  Generator gen(6);
  for (auto [in, out, b, rank] : {std::tuple<int64_t, int64_t, int64_t, int64_t>{16, 16, 4, 8}, {12, 30, 3, 6},
                                  {40, 10, 5, 10}, {16, 16, 4, 16}}) {
    Monarch member(in, out, b, rank, f64_options(&gen)), fresh(in, out, b, rank, f64_options(&gen));
    check_projection_recovers_member(member, fresh);
  }
}

TEST(Monarch, ProjectionErrorNonIncreasingWithRank) {
  Generator gen(7);
  Tensor w = randn({24, 12}, {DType::f64}, &gen);  // rectangular; blocks (8 x 4) with b = 3
  check_projection_error_nonincreasing(w, {3, 6, 9, 12}, [&](int64_t r) {
    return std::make_unique<Monarch>(12, 24, 3, r, f64_options(&gen));
  });
  EXPECT_LT(Monarch(12, 24, 3, 12, f64_options(&gen)).project(w), 1e-12);  // full block rank is exact
}

TEST(Monarch, OneBlockProjectsLikeLowRank) {
  Generator gen(8);
  Tensor w = randn({10, 14}, {DType::f64}, &gen);
  EXPECT_NEAR(Monarch(14, 10, 1, 4, f64_options(&gen)).project(w), LowRank(14, 10, 4, f64_options(&gen)).project(w),
              1e-12);
}

TEST(Monarch, ProjectionIsOptimalBlockByBlock) {
  // The error of the whole equals the Frobenius sum of each block's SVD tail,
  // which no other member can beat: compare with a few random members.
  Generator gen(9);
  Tensor w = randn({8, 8}, {DType::f64}, &gen);
  Monarch best(8, 8, 2, 4, f64_options(&gen));
  double err = best.project(w);
  for (int k = 0; k < 5; ++k) {
    Monarch other(8, 8, 2, 4, f64_options(&gen));
    EXPECT_LT(err, relative_error(w, other.to_dense()));
  }
}

TEST(Monarch, InitVarianceMatchesDense) {
  check_init_variance_matches_dense([](Generator* g) { return std::make_unique<Monarch>(256, 512, 4, 64, LinearOptions{.generator = g}); });
  check_init_variance_matches_dense([](Generator* g) { return std::make_unique<Monarch>(512, 256, 8, 64, LinearOptions{.generator = g}); });
}

TEST(Monarch, ResolveSolvesTheLargestRankWithinBudget) {
  LinearSpec spec;
  spec.type = "monarch";
  for (auto [in, out] : {std::pair<int64_t, int64_t>{768, 768}, {768, 3072}, {3072, 768}}) {
    for (double ratio : {0.1, 0.25, 0.5, 1.0}) {
      spec.flops_ratio = ratio;
      LinearSpec r = Monarch::resolve(spec, in, out);
      EXPECT_EQ(r.blocks, Monarch::kDefaultBlocks);
      EXPECT_EQ(r.rank % r.blocks, 0);
      double budget = ratio * 2.0 * double(in) * double(out);
      EXPECT_LE(double(Monarch::cost(in, out, r.rank).flops_per_token), budget);
      if (r.rank < std::min(in, out)) {
        EXPECT_GT(double(Monarch::cost(in, out, r.rank + r.blocks).flops_per_token), budget);
      }
    }
  }
  spec.flops_ratio = 0.5;
  EXPECT_EQ(Monarch::resolve(spec, 768, 768).rank, 192);  // r (m + n) = m n / 2
  spec.flops_ratio = 0.0;
  spec.blocks = 4;
  spec.rank = 192;  // GPT-2's "Monarch (192, 4)"
  LinearSpec explicit_size = Monarch::resolve(spec, 768, 3072);
  EXPECT_EQ(explicit_size.rank, 192);
  EXPECT_EQ(Monarch(768, 3072, 4, 192).block_rank(), 48);
}

std::string resolve_error(const LinearSpec& spec, int64_t in, int64_t out) {
  try {
    Monarch::resolve(spec, in, out);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(Monarch, ResolveErrorsNameTheKey) {
  LinearSpec spec;
  spec.type = "monarch";
  spec.source = "gpt2.yaml:4";
  spec.blocks = 5;
  spec.rank = 10;
  std::string msg = resolve_error(spec, 768, 768);
  EXPECT_NE(msg.find("blocks"), std::string::npos) << msg;
  EXPECT_NE(msg.find("gpt2.yaml:4"), std::string::npos) << msg;
  spec.blocks = 4;
  spec.rank = 6;  // not a multiple of 4
  msg = resolve_error(spec, 768, 768);
  EXPECT_NE(msg.find("rank"), std::string::npos) << msg;
  spec.rank = 772;
  EXPECT_NE(resolve_error(spec, 768, 768).find("rank"), std::string::npos);
  spec.rank = 8;
  spec.flops_ratio = 0.5;
  EXPECT_NE(resolve_error(spec, 768, 768).find("rank"), std::string::npos);  // size and budget
  spec.rank = 0;
  spec.flops_ratio = 0.001;
  msg = resolve_error(spec, 768, 768);
  EXPECT_NE(msg.find("flops_ratio"), std::string::npos) << msg;
  EXPECT_NE(msg.find("rank 4 (1 per block)"), std::string::npos) << msg;
}

}  // namespace
}  // namespace strata
