// LinearSpec: YAML parsing with errors naming key, file:line and a
// suggestion; resolving and building through the factory; and the generic
// structured checks run on the dense Linear.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include "layers/block_diagonal.h"
#include "layers/linear_spec.h"
#include "layers/low_rank.h"
#include "layers/monarch.h"
#include "tests/support/structured_checks.h"

namespace strata {
namespace {

using namespace strata::testing;

LinearOptions f64_options(Generator* gen, bool bias = true) {
  return {.bias = bias, .dtype = DType::f64, .generator = gen};
}

LinearSpec parse(const std::string& yaml, const std::string& file = "model.yaml") {
  return parse_linear_spec(YAML::Load(yaml), file);
}

// The message of the strata::Error that f throws ("no error" otherwise).
template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

void expect_contains(const std::string& text, const std::string& part) {
  EXPECT_NE(text.find(part), std::string::npos) << "'" << part << "' not in: " << text;
}

// ---- the dense layer through the generic checks ----------------------------------

TEST(DenseStructured, GenericChecks) {
  Generator gen(5);
  Linear fc(6, 4, f64_options(&gen));
  check_forward_matches_to_dense(fc);
  check_gradcheck_input_and_params(fc);
  check_num_params_matches_parameter_list(fc);
  check_flops_matches_op_count(fc, 7);
  Linear other(6, 4, f64_options(&gen));
  check_projection_recovers_member(fc, other);
  check_init_variance_matches_dense(
      [](Generator* g) { return std::make_unique<Linear>(256, 512, LinearOptions{.generator = g}); });
}

// ---- parsing -----------------------------------------------------------------------

TEST(LinearSpecParse, ReadsEveryKey) {
  LinearSpec s = parse("{type: blast, blocks: 3, rank: 96, bias: false}");
  EXPECT_EQ(s.type, "blast");
  EXPECT_EQ(s.blocks, 3);
  EXPECT_EQ(s.rank, 96);
  EXPECT_FALSE(s.bias);
  EXPECT_EQ(s.source, "model.yaml:1");
  s = parse("type: low_rank\nflops_ratio: 0.5\n");
  EXPECT_EQ(s.type, "low_rank");
  EXPECT_EQ(s.flops_ratio, 0.5);
  EXPECT_EQ(s.rank, 0);
  EXPECT_TRUE(s.bias);
  s = parse("{type: monarch, params_ratio: 1}");  // an integer is a number
  EXPECT_EQ(s.params_ratio, 1.0);
  s = parse("{}");
  EXPECT_EQ(s.type, "dense");
}

TEST(LinearSpecParse, SourceIsTheSpecsLine) {
  YAML::Node doc = YAML::Load(
      "model: vit\n"
      "linear:\n"
      "  qkv: {type: low_rank, rank: 16}\n"
      "  mlp_in:\n"
      "    type: monarch\n"
      "    blocks: 4\n");
  EXPECT_EQ(parse_linear_spec(doc["linear"]["qkv"], "vit.yaml").source, "vit.yaml:3");
  EXPECT_EQ(parse_linear_spec(doc["linear"]["mlp_in"], "vit.yaml").source, "vit.yaml:5");
}

TEST(LinearSpecParse, UnknownKeyNamesKeyLineAndSuggestion) {
  std::string yaml =
      "linear:\n"
      "  mlp_in:\n"
      "    type: monarch\n"
      "    blocks: 4\n"
      "    rnak: 8\n";
  std::string msg = error_of([&] { parse_linear_spec(YAML::Load(yaml)["linear"]["mlp_in"], "gpt2.yaml"); });
  expect_contains(msg, "rnak");
  expect_contains(msg, "gpt2.yaml:5");
  expect_contains(msg, "did you mean 'rank'?");
  expect_contains(msg, "valid keys: type, blocks, rank, flops_ratio, params_ratio, bias");
  expect_contains(error_of([] { parse("{type: blast, flop_ratio: 0.3}"); }), "did you mean 'flops_ratio'?");
  msg = error_of([] { parse("{type: blast, colour: red}"); });
  expect_contains(msg, "colour");
  EXPECT_EQ(msg.find("did you mean"), std::string::npos) << msg;  // nothing close
}

TEST(LinearSpecParse, WrongTypeNamesKeyLineAndExpectedType) {
  std::string msg = error_of([] { parse("type: low_rank\nrank: lots\n", "a.yaml"); });
  expect_contains(msg, "rank");
  expect_contains(msg, "a.yaml:2");
  expect_contains(msg, "expected an integer");
  expect_contains(msg, "lots");
  expect_contains(error_of([] { parse("{type: low_rank, rank: 1.5}"); }), "expected an integer");
  msg = error_of([] { parse("{type: blast, blocks: [1, 2]}"); });
  expect_contains(msg, "blocks");
  expect_contains(msg, "got a sequence");
  msg = error_of([] { parse("{type: low_rank, flops_ratio: half}"); });
  expect_contains(msg, "flops_ratio");
  expect_contains(msg, "expected a number");
  msg = error_of([] { parse("{type: dense, bias: maybe}"); });
  expect_contains(msg, "bias");
  expect_contains(msg, "expected true or false");
  expect_contains(error_of([] { parse("{type: {a: 1}}"); }), "expected a structure name");
}

TEST(LinearSpecParse, UnknownTypeListsValidTypes) {
  std::string msg = error_of([] { parse("\ntype: lowrank\n", "c.yaml"); });
  expect_contains(msg, "type");
  expect_contains(msg, "c.yaml:2");
  expect_contains(msg, "unknown structure 'lowrank'");
  expect_contains(msg, "did you mean 'low_rank'?");
  expect_contains(msg, "valid types: dense, low_rank, block_diagonal, monarch, gblr, blast");
}

TEST(LinearSpecParse, NotAMapIsAnError) {
  expect_contains(error_of([] { parse("[low_rank, 8]", "d.yaml"); }), "d.yaml:1");
  expect_contains(error_of([] { parse("low_rank"); }), "must be a map");
}

// ---- resolving and building ------------------------------------------------------

TEST(LinearSpecFactory, BuildsEveryStructure) {
  Generator gen(3);
  auto build = [&](const std::string& yaml, int64_t in, int64_t out) {
    return make_linear(parse(yaml), in, out, f64_options(&gen));
  };
  auto dense = build("{type: dense}", 8, 12);
  EXPECT_NE(dynamic_cast<Linear*>(dense.get()), nullptr);
  auto lr = build("{type: low_rank, rank: 3, bias: false}", 8, 12);
  ASSERT_NE(dynamic_cast<LowRank*>(lr.get()), nullptr);
  EXPECT_EQ(dynamic_cast<LowRank*>(lr.get())->rank(), 3);
  EXPECT_FALSE(lr->bias.defined());
  auto bd = build("{type: block_diagonal, blocks: 4}", 8, 12);
  ASSERT_NE(dynamic_cast<BlockDiagonal*>(bd.get()), nullptr);
  EXPECT_EQ(dynamic_cast<BlockDiagonal*>(bd.get())->blocks(), 4);
  EXPECT_TRUE(bd->bias.defined());
  auto mo = build("{type: monarch, blocks: 2, rank: 4}", 8, 12);
  ASSERT_NE(dynamic_cast<Monarch*>(mo.get()), nullptr);
  EXPECT_EQ(dynamic_cast<Monarch*>(mo.get())->rank(), 4);
  for (auto* layer : {dense.get(), lr.get(), bd.get(), mo.get()}) {
    EXPECT_EQ(layer->in_features(), 8);
    EXPECT_EQ(layer->out_features(), 12);
    EXPECT_EQ(layer_dtype(*layer), DType::f64);
    check_forward_matches_to_dense(*layer);
  }
}

TEST(LinearSpecFactory, BudgetSolvesTheLargestSize) {
  LinearSpec r = resolve_linear_spec(parse("{type: low_rank, flops_ratio: 0.5}"), 768, 768);
  EXPECT_EQ(r.rank, 192);
  EXPECT_EQ(r.flops_ratio, 0.0);  // explicit now, so resolving again is a no-op
  EXPECT_EQ(resolve_linear_spec(r, 768, 768).rank, 192);
  r = resolve_linear_spec(parse("{type: low_rank, params_ratio: 0.25}"), 768, 3072);
  EXPECT_LE(LowRank::cost(768, 3072, r.rank).params, 0.25 * 768 * 3072);
  EXPECT_GT(LowRank::cost(768, 3072, r.rank + 1).params, 0.25 * 768 * 3072);
  r = resolve_linear_spec(parse("{type: block_diagonal, flops_ratio: 0.25}"), 768, 3072);
  EXPECT_EQ(r.blocks, 4);
  r = resolve_linear_spec(parse("{type: monarch, blocks: 4, flops_ratio: 0.5}"), 768, 768);
  EXPECT_EQ(r.rank, 192);
  EXPECT_EQ(r.blocks, 4);
  // make_linear resolves too: the built layer has the solved size.
  auto layer = make_linear(parse("{type: monarch, flops_ratio: 0.25}"), 768, 3072);
  EXPECT_LE(layer->flops(1), 0.25 * 2 * 768 * 3072);
  EXPECT_GT(Monarch::cost(768, 3072, dynamic_cast<Monarch*>(layer.get())->rank() + 4).flops_per_token,
            0.25 * 2 * 768 * 3072);
}

TEST(LinearSpecFactory, BlocksNotDividingNamesBlocks) {
  for (const char* yaml : {"{type: block_diagonal, blocks: 5}", "{type: monarch, blocks: 5, rank: 10}"}) {
    std::string msg = error_of([&] { make_linear(parse(yaml, "e.yaml"), 768, 3072); });
    expect_contains(msg, "blocks");
    expect_contains(msg, "e.yaml:1");
    expect_contains(msg, "do not divide");
  }
}

TEST(LinearSpecFactory, InfeasibleSpecsNameTheKey) {
  expect_contains(error_of([] { make_linear(parse("{type: low_rank}"), 64, 64); }), "rank: missing");
  expect_contains(error_of([] { make_linear(parse("{type: low_rank, flops_ratio: 0.001}"), 64, 64); }),
                  "flops_ratio: budget 0.001 is too small");
  expect_contains(error_of([] { make_linear(parse("{type: low_rank, rank: 8, flops_ratio: 0.5}"), 64, 64); }),
                  "rank: give a rank or a budget");
  expect_contains(error_of([] { make_linear(parse("{type: low_rank, flops_ratio: 0.5, params_ratio: 0.5}"), 64, 64); }),
                  "flops_ratio");
  expect_contains(error_of([] { make_linear(parse("{type: low_rank, rank: 65}"), 64, 64); }), "rank: must be in [1, 64]");
  expect_contains(error_of([] { make_linear(parse("{type: dense, rank: 4}"), 64, 64); }), "type: dense takes no");
  LinearSpec unknown;
  unknown.type = "butterfly";
  expect_contains(error_of([&] { make_linear(unknown, 8, 8); }), "valid types:");
}

TEST(LinearSpecFactory, FromDenseProjects) {
  Generator gen(4);
  Monarch member(16, 24, 4, 8, f64_options(&gen));
  Projection p = from_dense(member.to_dense(), parse("{type: monarch, blocks: 4, rank: 8}"), f64_options(&gen));
  EXPECT_LT(p.relative_error, 1e-10);
  EXPECT_EQ(p.layer->in_features(), 16);
  EXPECT_EQ(p.layer->out_features(), 24);
  Tensor w = randn({24, 16}, {DType::f64}, &gen);
  double low = from_dense(w, parse("{type: low_rank, rank: 4}"), f64_options(&gen)).relative_error;
  double high = from_dense(w, parse("{type: low_rank, rank: 12}"), f64_options(&gen)).relative_error;
  EXPECT_LT(high, low);
  EXPECT_GT(low, 0.0);
}

}  // namespace
}  // namespace strata
