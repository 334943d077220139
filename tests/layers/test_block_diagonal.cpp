// BlockDiagonal: diag(W_1..W_b) against its dense matrix, gradients, counts,
// block-extraction projection, init variance, and blocks solving.
#include <gtest/gtest.h>

#include "layers/block_diagonal.h"
#include "tests/support/structured_checks.h"

namespace strata {
namespace {

using namespace strata::testing;

LinearOptions f64_options(Generator* gen, bool bias = true) {
  return {.bias = bias, .dtype = DType::f64, .generator = gen};
}

TEST(BlockDiagonal, ForwardMatchesToDense) {
  Generator gen(1);
  BlockDiagonal square(12, 12, 3, f64_options(&gen));
  check_forward_matches_to_dense(square);
  BlockDiagonal wide(8, 20, 4, f64_options(&gen, /*bias=*/false));  // rectangular blocks (5 x 2)
  check_forward_matches_to_dense(wide);
  BlockDiagonal tall(18, 6, 2, f64_options(&gen));
  check_forward_matches_to_dense(tall);
  BlockDiagonal one(6, 4, 1, f64_options(&gen));  // one block: dense
  check_forward_matches_to_dense(one);
  BlockDiagonal single(16, 24, 4, {.generator = &gen});  // f32
  check_forward_matches_to_dense(single, 1e-5);
}

TEST(BlockDiagonal, ToDenseIsBlockDiagonal) {
  Generator gen(2);
  BlockDiagonal layer(6, 4, 2, f64_options(&gen));  // blocks 2 x 3
  std::vector<double> w = layer.to_dense().to_vector<double>(), blocks = layer.weight.to_vector<double>();
  for (int64_t o = 0; o < 4; ++o) {
    for (int64_t i = 0; i < 6; ++i) {
      double expected = o / 2 == i / 3 ? blocks[size_t((o / 2) * 6 + (o % 2) * 3 + i % 3)] : 0.0;
      EXPECT_EQ(w[size_t(o * 6 + i)], expected) << o << "," << i;
    }
  }
}

TEST(BlockDiagonal, ForwardTakesNonContiguousInput) {
  Generator gen(3);
  BlockDiagonal layer(6, 4, 2, f64_options(&gen));
  Tensor x = noncontiguous_tensor({5, 6}, 3, /*grad=*/false);
  expect_close(layer.forward(x).to_vector<double>(), layer.forward(ops::contiguous(x)).to_vector<double>(), 1e-12);
}

TEST(BlockDiagonal, GradcheckInputAndParameters) {
  Generator gen(4);
  BlockDiagonal layer(6, 4, 2, f64_options(&gen));
  check_gradcheck_input_and_params(layer);
  BlockDiagonal no_bias(6, 9, 3, f64_options(&gen, false));
  check_gradcheck_input_and_params(no_bias);
}

TEST(BlockDiagonal, ParametersAndCounts) {
  Generator gen(5);
  BlockDiagonal layer(12, 8, 4, f64_options(&gen));
  std::vector<NamedTensor> named = layer.named_parameters();
  ASSERT_EQ(named.size(), 2u);
  EXPECT_EQ(named[0].first, "weight");
  EXPECT_EQ(named[1].first, "bias");
  EXPECT_EQ(layer.weight.shape(), (Shape{4, 2, 3}));
  EXPECT_EQ(layer.num_params(), 12 * 8 / 4 + 8);
  check_num_params_matches_parameter_list(layer);
  EXPECT_EQ(layer.flops(3), 2 * 3 * 12 * 8 / 4);
  check_flops_matches_op_count(layer, 3);
  check_flops_matches_op_count(layer, 11);
}

TEST(BlockDiagonal, RejectsBlocksNotDividing) {
  EXPECT_THROW(BlockDiagonal(6, 4, 3), Error);
  EXPECT_THROW(BlockDiagonal(6, 4, 0), Error);
}

TEST(BlockDiagonal, ProjectionRecoversMember) {
  Generator gen(6);
  BlockDiagonal member(12, 9, 3, f64_options(&gen)), fresh(12, 9, 3, f64_options(&gen));
  check_projection_recovers_member(member, fresh);
}

TEST(BlockDiagonal, ProjectionKeepsTheDiagonalBlocks) {
  Generator gen(7);
  Tensor w = randn({4, 6}, {DType::f64}, &gen);
  BlockDiagonal layer(6, 4, 2, f64_options(&gen));
  double err = layer.project(w);
  std::vector<double> wv = w.to_vector<double>(), kept = layer.to_dense().to_vector<double>();
  double total = 0.0, off = 0.0;
  for (int64_t o = 0; o < 4; ++o) {
    for (int64_t i = 0; i < 6; ++i) {
      double v = wv[size_t(o * 6 + i)];
      total += v * v;
      if (o / 2 == i / 3) {
        EXPECT_EQ(kept[size_t(o * 6 + i)], v);
      } else {
        off += v * v;
      }
    }
  }
  EXPECT_NEAR(err, std::sqrt(off / total), 1e-12);
}

TEST(BlockDiagonal, ProjectionErrorNonIncreasingWithFewerBlocks) {
  Generator gen(8);
  Tensor w = randn({24, 12}, {DType::f64}, &gen);
  // Nested classes (each block count divides the previous): 12, 6, 3, 1.
  check_projection_error_nonincreasing(w, {12, 6, 3, 1}, [&](int64_t b) {
    return std::make_unique<BlockDiagonal>(12, 24, b, f64_options(&gen));
  });
}

TEST(BlockDiagonal, InitVarianceMatchesDense) {
  check_init_variance_matches_dense([](Generator* g) { return std::make_unique<BlockDiagonal>(256, 512, 4, LinearOptions{.generator = g}); });
  check_init_variance_matches_dense([](Generator* g) { return std::make_unique<BlockDiagonal>(512, 256, 16, LinearOptions{.generator = g}); });
}

TEST(BlockDiagonal, ResolvePicksTheFewestBlocksWithinBudget) {
  LinearSpec spec;
  spec.type = "block_diagonal";
  for (auto [ratio, blocks] : {std::pair<double, int64_t>{1.0, 1}, {0.5, 2}, {0.3, 4}, {0.25, 4}, {0.2, 6}}) {
    spec.flops_ratio = ratio;
    LinearSpec r = BlockDiagonal::resolve(spec, 768, 3072);
    EXPECT_EQ(r.blocks, blocks) << ratio;
    EXPECT_EQ(r.flops_ratio, 0.0);  // an explicit size now
  }
  spec.flops_ratio = 0.0;
  spec.params_ratio = 0.3;
  EXPECT_EQ(BlockDiagonal::resolve(spec, 768, 768).blocks, 4);
  spec.params_ratio = 0.0;
  spec.blocks = 3;
  EXPECT_EQ(BlockDiagonal::resolve(spec, 768, 768).blocks, 3);
}

std::string resolve_error(const LinearSpec& spec, int64_t in, int64_t out) {
  try {
    BlockDiagonal::resolve(spec, in, out);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(BlockDiagonal, ResolveErrorsNameTheKey) {
  LinearSpec spec;
  spec.type = "block_diagonal";
  spec.source = "vit.yaml:7";
  spec.blocks = 5;
  std::string msg = resolve_error(spec, 768, 768);
  EXPECT_NE(msg.find("blocks"), std::string::npos) << msg;
  EXPECT_NE(msg.find("vit.yaml:7"), std::string::npos) << msg;
  spec.blocks = 4;
  spec.rank = 8;
  EXPECT_NE(resolve_error(spec, 768, 768).find("rank"), std::string::npos);
  spec.rank = 0;
  spec.blocks = 0;
  EXPECT_NE(resolve_error(spec, 768, 768).find("blocks"), std::string::npos);  // no size
  spec.flops_ratio = 0.01;  // 7 and 13 share no divisor but 1
  msg = resolve_error(spec, 7, 13);
  EXPECT_NE(msg.find("flops_ratio"), std::string::npos) << msg;
  spec.blocks = 2;
  spec.flops_ratio = 0.5;
  EXPECT_NE(resolve_error(spec, 8, 8).find("blocks"), std::string::npos);  // size and budget
}

}  // namespace
}  // namespace strata
