// ViT: patch embedding against naive loops, shapes for every structure and
// both poolings, per-role specs landing on the right layers, gradients to
// every parameter, costs against independent counts, and a tiny ViT
// overfitting 32 random images.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <typeinfo>

#include "layers/blast.h"
#include "layers/block_diagonal.h"
#include "layers/gblr.h"
#include "layers/low_rank.h"
#include "layers/monarch.h"
#include "layers/parameter_arena.h"
#include "models/init.h"
#include "models/patch_embed.h"
#include "tests/models/vit_fixtures.h"
#include "tests/support/structured_checks.h"
#include "train/adamw.h"

namespace strata {
namespace {

using namespace strata::testing;

Tensor random_images(int64_t batch, uint64_t seed, int64_t size = 8, int64_t channels = 3) {
  Generator gen(seed);
  return randn({batch, channels, size, size}, {}, &gen);
}

// ---- patch embedding -------------------------------------------------------------------

TEST(Patchify, MatchesNaiveLoop) {
  const int64_t b = 2, c = 3, h = 8, w = 12, p = 4;
  Tensor img = random_tensor({b, c, h, w}, 1, DType::f64, false);
  Tensor patches = patchify(img, p);
  ASSERT_EQ(patches.shape(), (Shape{b, (h / p) * (w / p), c * p * p}));
  std::vector<double> x = img.to_vector<double>(), y = patches.to_vector<double>();
  for (int64_t n = 0; n < b; ++n)
    for (int64_t gi = 0; gi < h / p; ++gi)
      for (int64_t gj = 0; gj < w / p; ++gj)
        for (int64_t ch = 0; ch < c; ++ch)
          for (int64_t i = 0; i < p; ++i)
            for (int64_t j = 0; j < p; ++j) {
              const int64_t patch = gi * (w / p) + gj, feature = (ch * p + i) * p + j;
              EXPECT_EQ(y[size_t((n * (h / p) * (w / p) + patch) * c * p * p + feature)],
                        x[size_t(((n * c + ch) * h + gi * p + i) * w + gj * p + j)]);
            }
}

TEST(Patchify, RefusesPatchesThatDoNotTile) {
  expect_contains(error_of([] { patchify(zeros({1, 3, 8, 8}), 3); }), "patch 3 does not tile a 8x8 image");
}

// PatchEmbed is Conv2d(C, E, kernel p, stride p) with the weight (E, C p p).
TEST(PatchEmbed, EqualsStridedConvolution) {
  const int64_t c = 2, p = 2, e = 5, h = 4, w = 6;
  Generator gen(3);
  auto proj = std::make_shared<Linear>(c * p * p, e, LinearOptions{.dtype = DType::f64, .generator = &gen});
  PatchEmbed embed(p, c, proj);
  Tensor img = random_tensor({1, c, h, w}, 4, DType::f64, false);
  std::vector<double> y = embed.forward(img).to_vector<double>();
  std::vector<double> x = img.to_vector<double>(), wt = proj->weight.to_vector<double>(),
                      bias = proj->bias.to_vector<double>();
  for (int64_t oi = 0; oi < h / p; ++oi)
    for (int64_t oj = 0; oj < w / p; ++oj)
      for (int64_t o = 0; o < e; ++o) {
        double acc = bias[size_t(o)];
        for (int64_t ch = 0; ch < c; ++ch)
          for (int64_t i = 0; i < p; ++i)
            for (int64_t j = 0; j < p; ++j)
              acc += wt[size_t(((o * c + ch) * p + i) * p + j)] * x[size_t((ch * h + oi * p + i) * w + oj * p + j)];
        EXPECT_NEAR(y[size_t((oi * (w / p) + oj) * e + o)], acc, 1e-12);
      }
}

// ---- every structure, both poolings ------------------------------------------------------

struct StructureCase {
  const char* name;
  const char* spec;
  const std::type_info& type;
};

const std::vector<StructureCase>& structure_cases() {
  static const std::vector<StructureCase> cases = {
      {"dense", "{type: dense}", typeid(Linear)},
      {"low_rank", "{type: low_rank, rank: 4}", typeid(LowRank)},
      {"block_diagonal", "{type: block_diagonal, blocks: 2}", typeid(BlockDiagonal)},
      {"monarch", "{type: monarch, blocks: 2, rank: 4}", typeid(Monarch)},
      {"gblr", "{type: gblr, flops_ratio: 0.5}", typeid(Gblr)},
      {"blast", "{type: blast, blocks: 2, rank: 4}", typeid(Blast)},
  };
  return cases;
}

class EveryStructure : public ::testing::TestWithParam<StructureCase> {};

INSTANTIATE_TEST_SUITE_P(ViT, EveryStructure, ::testing::ValuesIn(structure_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST_P(EveryStructure, ForwardShapesWithBothPoolings) {
  for (const char* pool : {"cls", "mean"}) {
    Generator gen(7);
    auto vit = tiny_vit(fmt::format("  pool: {}\n  linear: {}\n", pool, GetParam().spec), &gen);
    Tensor logits = vit->forward(random_images(3, 8));
    EXPECT_EQ(logits.shape(), (Shape{3, 5})) << pool;
    EXPECT_EQ(vit->cls_token.defined(), std::string(pool) == "cls");
    EXPECT_EQ(vit->pos_embed.shape(), (Shape{1, std::string(pool) == "cls" ? 5 : 4, 32})) << pool;
    for (float v : logits.to_vector<float>()) EXPECT_TRUE(std::isfinite(v));
  }
}

TEST_P(EveryStructure, SingleSpecGoesToTheFourSharedRoles) {
  auto vit = tiny_vit(fmt::format("  linear: {}\n", GetParam().spec));
  const std::vector<NamedLinear> linears = vit->structured_linears();
  ASSERT_EQ(linears.size(), 2u + 2u * 4u);  // patch_embed, head, and 4 per block
  for (const NamedLinear& l : linears) {
    const bool shared = l.role != "patch_embed" && l.role != "head";
    EXPECT_EQ(typeid(*l.layer), shared ? GetParam().type : typeid(Linear)) << l.name;
    EXPECT_EQ(l.spec.type, shared ? std::string(GetParam().name) : "dense") << l.name;
  }
}

// The cost rows cover every parameter exactly once.
TEST_P(EveryStructure, LayerCostParamsSumToTheModel) {
  auto vit = tiny_vit(fmt::format("  linear: {}\n", GetParam().spec));
  int64_t params = 0;
  for (const LayerCost& c : vit->layer_costs()) params += c.params;
  EXPECT_EQ(params, vit->num_parameters());
}

// One backward reaches every parameter with a finite gradient.
TEST_P(EveryStructure, GradientReachesEveryParameter) {
  Generator gen(11);
  auto vit = tiny_vit(fmt::format("  linear: {}\n", GetParam().spec), &gen);
  Tensor logits = vit->forward(random_images(4, 12));
  Tensor loss = cross_entropy(logits, from_vector<int64_t>({0, 1, 2, 3}, {4}));
  loss.backward();
  for (const auto& [name, p] : vit->named_parameters()) {
    ASSERT_TRUE(p.grad().defined()) << name;
    ASSERT_EQ(p.grad().shape(), p.shape()) << name;
    double norm = 0.0;
    for (double g : p.grad().to(DType::f64).to_vector<double>()) {
      ASSERT_TRUE(std::isfinite(g)) << name;
      norm += g * g;
    }
    // GBLR's widths and locations may sit where the mask is flat; every
    // other parameter must actually receive signal.
    const bool mask_param = name.find("width_") != std::string::npos || name.find("location_") != std::string::npos;
    if (!mask_param) {
      EXPECT_GT(norm, 0.0) << name;
    }
  }
}

// ---- attention and the whole model against references ------------------------------------

// softmax(q k^T / sqrt(D)) v per head, by loops, with timm's head layout:
// q, k, v are the column blocks [0, C), [C, 2C), [2C, 3C) of qkv (B, T, 3C)
// and head h owns columns [h D, (h + 1) D) of each.
std::vector<double> naive_attention(const std::vector<double>& qkv, int64_t b, int64_t t, int64_t c, int64_t heads) {
  const int64_t d = c / heads;
  std::vector<double> out(size_t(b * t * c), 0.0);
  auto at = [&](int64_t n, int64_t i, int64_t part, int64_t h, int64_t e) {
    return qkv[size_t((n * t + i) * 3 * c + part * c + h * d + e)];
  };
  for (int64_t n = 0; n < b; ++n)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < t; ++i) {
        std::vector<double> score(static_cast<size_t>(t));
        double top = -1e300, total = 0.0;
        for (int64_t j = 0; j < t; ++j) {
          double s = 0.0;
          for (int64_t e = 0; e < d; ++e) s += at(n, i, 0, h, e) * at(n, j, 1, h, e);
          score[size_t(j)] = s / std::sqrt(double(d));
          top = std::max(top, score[size_t(j)]);
        }
        for (double& s : score) total += (s = std::exp(s - top));
        for (int64_t e = 0; e < d; ++e) {
          double acc = 0.0;
          for (int64_t j = 0; j < t; ++j) acc += score[size_t(j)] / total * at(n, j, 2, h, e);
          out[size_t((n * t + i) * c + h * d + e)] = acc;
        }
      }
  return out;
}

TEST(SelfAttention, MatchesNaiveHeadsFusedAndSplit) {
  const int64_t b = 2, t = 5, c = 12, heads = 3;
  Generator gen(21);
  LinearOptions lo{.dtype = DType::f64, .generator = &gen};
  auto qkv = std::make_shared<Linear>(c, 3 * c, lo);
  auto proj = std::make_shared<Linear>(c, c, lo);
  SelfAttention fused(heads, qkv, proj);
  Tensor x = random_tensor({b, t, c}, 22, DType::f64, false);
  std::vector<double> o = naive_attention(qkv->forward(x).to_vector<double>(), b, t, c, heads);
  std::vector<double> expected = proj->forward(from_vector<double>(o, {b, t, c})).to_vector<double>();
  expect_close(fused.forward(x).to_vector<double>(), expected, 1e-12, "fused");
  // The same weights as three C x C linears.
  auto part = [&](int64_t i) {
    auto l = std::make_shared<Linear>(c, c, lo);
    ops::copy_(l->weight, ops::slice(qkv->weight, 0, i * c, (i + 1) * c));
    ops::copy_(l->bias, ops::slice(qkv->bias, 0, i * c, (i + 1) * c));
    return l;
  };
  SelfAttention split(heads, part(0), part(1), part(2), proj);
  expect_close(split.forward(x).to_vector<double>(), expected, 1e-12, "split");
}

// The whole model in f64: analytic gradients of the images and of every
// parameter match finite differences, for both poolings and a structure.
TEST(ViTGradcheck, ImagesAndEveryParameter) {
  for (const char* extra : {"  pool: cls\n", "  pool: mean\n  qkv_split: true\n",
                            "  linear: {type: blast, blocks: 2, rank: 2}\n"}) {
    ViTConfig c = tiny_vit_config(std::string(extra) +
                                  "  image_size: 4\n  patch_size: 2\n  in_channels: 2\n  num_classes: 3\n"
                                  "  width: 8\n  depth: 1\n  mlp_ratio: 2\n");
    Generator gen(31);
    ViT vit(c, {.dtype = DType::f64, .generator = &gen});
    // Scale the tiny inits up so every path carries signal well above the
    // finite-difference noise.
    {
      NoGradGuard no_grad;
      for (const Tensor& p : vit.parameters()) ops::mul_scalar_(p, 4.0);
    }
    Tensor images = random_tensor({2, 2, 4, 4}, 32);
    std::vector<Tensor> inputs{images};
    for (const Tensor& p : vit.parameters()) inputs.push_back(p);
    expect_gradcheck([&](const std::vector<Tensor>& in) { return vit.forward(in[0]); }, inputs);
  }
}

// ---- roles -------------------------------------------------------------------------------------

const NamedLinear& find_linear(const std::vector<NamedLinear>& linears, const std::string& name) {
  for (const NamedLinear& l : linears) {
    if (l.name == name) return l;
  }
  throw Error("no linear " + name);
}

TEST(ViTRoles, PerRoleSpecsLandOnTheirLayers) {
  auto vit = tiny_vit(
      "  linear:\n"
      "    qkv: {type: low_rank, rank: 4}\n"
      "    mlp_out: {type: block_diagonal, blocks: 4}\n"
      "    head: {type: low_rank, rank: 2}\n"
      "    patch_embed: {type: monarch, blocks: 2, rank: 2}\n");
  const auto linears = vit->structured_linears();
  for (int b = 0; b < 2; ++b) {
    const std::string p = fmt::format("blocks.{}.", b);
    EXPECT_EQ(typeid(*find_linear(linears, p + "attn.qkv").layer), typeid(LowRank));
    EXPECT_EQ(find_linear(linears, p + "attn.qkv").role, "qkv");
    EXPECT_EQ(typeid(*find_linear(linears, p + "attn.proj").layer), typeid(Linear));
    EXPECT_EQ(find_linear(linears, p + "attn.proj").role, "attn_out");
    EXPECT_EQ(typeid(*find_linear(linears, p + "mlp.fc1").layer), typeid(Linear));
    EXPECT_EQ(find_linear(linears, p + "mlp.fc1").role, "mlp_in");
    EXPECT_EQ(typeid(*find_linear(linears, p + "mlp.fc2").layer), typeid(BlockDiagonal));
    EXPECT_EQ(find_linear(linears, p + "mlp.fc2").role, "mlp_out");
  }
  EXPECT_EQ(typeid(*find_linear(linears, "head").layer), typeid(LowRank));
  EXPECT_EQ(typeid(*find_linear(linears, "patch_embed.proj").layer), typeid(Monarch));
  EXPECT_EQ(find_linear(linears, "blocks.0.mlp.fc2").spec.blocks, 4);
  EXPECT_EQ(vit->forward(random_images(2, 3)).shape(), (Shape{2, 5}));
}

TEST(ViTRoles, QkvSplitBuildsThreeSquareLinearsWithTheQkvSpec) {
  auto split = tiny_vit("  qkv_split: true\n  linear: {qkv: {type: low_rank, rank: 4}}\n");
  const auto linears = split->structured_linears();
  for (const char* name : {"q", "k", "v"}) {
    const NamedLinear& l = find_linear(linears, std::string("blocks.1.attn.") + name);
    EXPECT_EQ(typeid(*l.layer), typeid(LowRank)) << name;
    EXPECT_EQ(l.role, "qkv");
    EXPECT_EQ(l.layer->in_features(), 32);
    EXPECT_EQ(l.layer->out_features(), 32);
  }
  EXPECT_THROW(find_linear(linears, "blocks.1.attn.qkv"), Error);
  EXPECT_EQ(split->forward(random_images(2, 3)).shape(), (Shape{2, 5}));
  // Dense split and fused hold the same parameters.
  EXPECT_EQ(tiny_vit("  qkv_split: true\n")->num_parameters(), tiny_vit()->num_parameters());
}

// Split and fused dense attention compute the same function when the
// split weights are the fused weight's row blocks.
TEST(ViTRoles, QkvSplitEqualsFusedWithTheSameWeights) {
  Generator g1(5), g2(6);
  auto fused = tiny_vit("", &g1);
  auto split = tiny_vit("  qkv_split: true\n", &g2);
  StateDict dict = fused->state_dict();
  StateDict converted;
  for (const auto& [name, t] : dict) {
    const size_t at = name.find("attn.qkv.");
    if (at == std::string::npos) {
      converted.insert(name, t);
      continue;
    }
    const std::string prefix = name.substr(0, at + 5), param = name.substr(at + 9);
    const char* parts[] = {"q.", "k.", "v."};
    for (int i = 0; i < 3; ++i) converted.insert(prefix + parts[i] + param, ops::slice(t, 0, i * 32, (i + 1) * 32));
  }
  split->load_state_dict(converted);
  Tensor images = random_images(3, 9);
  expect_close(split->forward(images).to(DType::f64).to_vector<double>(),
               fused->forward(images).to(DType::f64).to_vector<double>(), 1e-5);
}

TEST(ViTRoles, QkvBiasFalseRemovesTheQkvBias) {
  auto vit = tiny_vit("  qkv_bias: false\n");
  const auto linears = vit->structured_linears();
  EXPECT_FALSE(find_linear(linears, "blocks.0.attn.qkv").layer->bias.defined());
  EXPECT_TRUE(find_linear(linears, "blocks.0.attn.proj").layer->bias.defined());
}

TEST(ViTRoles, ParameterNamesFollowTimm) {
  std::vector<std::string> names;
  for (const auto& [name, p] : tiny_vit()->named_parameters()) names.push_back(name);
  const std::vector<std::string> head = {"cls_token", "pos_embed", "patch_embed.proj.weight", "patch_embed.proj.bias",
                                         "blocks.0.norm1.weight", "blocks.0.norm1.bias", "blocks.0.attn.qkv.weight",
                                         "blocks.0.attn.qkv.bias", "blocks.0.attn.proj.weight"};
  ASSERT_GE(names.size(), head.size());
  EXPECT_EQ(std::vector<std::string>(names.begin(), names.begin() + long(head.size())), head);
  EXPECT_EQ(names.back(), "head.bias");
}

// ---- initialisation ----------------------------------------------------------------------------

double std_of(const Tensor& t) {
  std::vector<double> v = t.to(DType::f64).to_vector<double>();
  double s = 0.0, s2 = 0.0;
  for (double x : v) s += x, s2 += x * x;
  const double m = s / double(v.size());
  return std::sqrt(s2 / double(v.size()) - m * m);
}

TEST(ViTInit, FollowsTimm) {
  ViTConfig c = tiny_vit_config("  width: 192\n  heads: 3\n");
  Generator gen(2);
  ViT vit(c, {.generator = &gen});
  const double trunc_std = 0.02 * 0.8796;  // N(0, 1) truncated to [-2, 2] has std 0.8796
  const auto& fc1 = static_cast<Linear&>(*vit.blocks[0]->mlp->fc1);
  EXPECT_NEAR(std_of(fc1.weight), trunc_std, 0.05 * trunc_std);
  EXPECT_LE(std::abs(fc1.weight.to(DType::f64).to_vector<double>()[0]), 0.04 + 1e-7);
  EXPECT_EQ(std_of(fc1.bias), 0.0);
  EXPECT_NEAR(std_of(vit.pos_embed), trunc_std, 0.05 * trunc_std);
  EXPECT_LT(std_of(vit.cls_token), 1e-5);
  for (float w : vit.blocks[1]->norm2->weight.to_vector<float>()) EXPECT_EQ(w, 1.0f);
  // The patch embedding keeps PyTorch's conv default: U(+-1/sqrt(C p p)).
  const double bound = 1.0 / std::sqrt(3.0 * 16.0);
  EXPECT_NEAR(std_of(static_cast<Linear&>(*vit.patch_embed->proj).weight), bound / std::sqrt(3.0), 0.1 * bound);
}

TEST(ViTInit, StructuredLinearsGetZeroBias) {
  auto vit = tiny_vit("  linear: {type: low_rank, rank: 4}\n");
  for (const NamedLinear& l : vit->structured_linears()) {
    if (l.role == "patch_embed") continue;
    EXPECT_EQ(std_of(l.layer->bias), 0.0) << l.name;
    EXPECT_EQ(l.layer->bias.to(DType::f64).to_vector<double>()[0], 0.0) << l.name;
  }
}

TEST(TruncNormal, StaysWithinTwoStd) {
  Tensor t = empty({20000});
  Generator gen(4);
  trunc_normal_(t, 0.5, &gen);
  for (float v : t.to_vector<float>()) ASSERT_LE(std::abs(v), 1.0f + 1e-6f);
  EXPECT_NEAR(std_of(t), 0.5 * 0.8796, 0.01);
}

// ---- regularisation -------------------------------------------------------------------------

TEST(ViTModes, DropoutAndDropPathOnlyInTraining) {
  Generator gen(3);
  auto vit = tiny_vit("  dropout: 0.3\n  attn_dropout: 0.3\n  drop_path: 0.5\n", &gen);
  Tensor images = random_images(4, 5);
  vit->eval();
  std::vector<float> a = vit->forward(images).to_vector<float>(), b = vit->forward(images).to_vector<float>();
  EXPECT_EQ(a, b);
  vit->train();
  EXPECT_NE(vit->forward(images).to_vector<float>(), a);
  EXPECT_DOUBLE_EQ(vit->blocks[0]->drop_path1->p(), 0.0);  // linear in depth: 0 ... drop_path
  EXPECT_DOUBLE_EQ(vit->blocks[1]->drop_path2->p(), 0.5);
}

TEST(DropPath, DropsWholeSamplesAndKeepsTheMean) {
  Generator gen(8);
  DropPath dp(0.25, &gen);
  Tensor x = ones({4000, 3, 2});
  std::vector<float> y = dp.forward(x).to_vector<float>();
  double total = 0.0;
  for (size_t s = 0; s < 4000; ++s) {
    for (size_t i = 1; i < 6; ++i) ASSERT_EQ(y[s * 6 + i], y[s * 6]) << "sample " << s;
    EXPECT_TRUE(y[s * 6] == 0.0f || std::abs(y[s * 6] - 1.0f / 0.75f) < 1e-6f);
    total += y[s * 6];
  }
  EXPECT_NEAR(total / 4000.0, 1.0, 0.05);
  dp.eval();
  EXPECT_TRUE(dp.forward(x).is_same(x));
}

// ---- costs ------------------------------------------------------------------------------------------

// Independent count of a dense ViT's forward FLOPs per sample (2 x MACs of
// every product), from the architecture alone.
int64_t dense_vit_flops(int64_t image, int64_t patch, int64_t channels, int64_t width, int64_t depth, int64_t hidden,
                        int64_t classes, bool cls) {
  const int64_t n = (image / patch) * (image / patch), t = n + (cls ? 1 : 0);
  int64_t f = 2 * n * (channels * patch * patch) * width;  // patch embedding
  const int64_t per_block = 2 * t * width * 3 * width     // qkv
                            + 2 * 2 * t * t * width       // q k^T and P v over all heads
                            + 2 * t * width * width       // proj
                            + 2 * 2 * t * width * hidden;  // fc1, fc2
  return f + depth * per_block + 2 * width * classes;
}

TEST(ViTCosts, DenseFlopsMatchAnIndependentCount) {
  auto cls = tiny_vit();
  EXPECT_EQ(cls->flops_per_sample(), dense_vit_flops(8, 4, 3, 32, 2, 128, 5, true));
  EXPECT_EQ(cls->dense_flops_per_sample(), cls->flops_per_sample());
  auto mean = tiny_vit("  pool: mean\n  mlp_ratio: 3\n");
  EXPECT_EQ(mean->flops_per_sample(), dense_vit_flops(8, 4, 3, 32, 2, 96, 5, false));
  // ViT-S/4 on CIFAR: 2.84 GFLOPs per image by the same count.
  ViTConfig s = tiny_vit_config("  image_size: 32\n  width: 384\n  depth: 12\n  heads: 6\n  num_classes: 10\n");
  EXPECT_EQ(ViT(s).flops_per_sample(), dense_vit_flops(32, 4, 3, 384, 12, 1536, 10, true));
}

// The GEMMs a forward actually runs, counted by the backend, plus the fused
// attention (which runs its own tiles), equal flops_per_sample per image.
TEST(ViTCosts, FlopsMatchTheOperationsAForwardRuns) {
  for (const StructureCase& c : structure_cases()) {
    if (std::string(c.name) == "gblr") continue;  // its flops() counts the mask supports, not its GEMMs
    auto vit = tiny_vit(fmt::format("  linear: {}\n", c.spec));
    const int64_t batch = 3, t = 5;
    Tensor images = random_images(batch, 4);
    NoGradGuard no_grad;
    ScopedFlopCounter counter;
    vit->forward(images);
    const int64_t attention = 2 * SelfAttention::attention_flops(t, 32);
    EXPECT_EQ(counter.flops() + batch * attention, batch * vit->flops_per_sample()) << c.name;
  }
}

TEST(ViTCosts, DenseCostsOfAStructuredModelAreTheDenseModel) {
  auto dense = tiny_vit();
  auto blast = tiny_vit("  linear: {type: blast, blocks: 2, flops_ratio: 0.5}\n");
  EXPECT_EQ(blast->dense_flops_per_sample(), dense->flops_per_sample());
  int64_t dense_params = 0;
  for (const LayerCost& c : blast->layer_costs()) dense_params += c.dense_params;
  EXPECT_EQ(dense_params, dense->num_parameters());
  EXPECT_LT(blast->flops_per_sample(), dense->flops_per_sample());
}

// ---- factory --------------------------------------------------------------------------------------

TEST(ImageModelFactory, FillsSizesFromTheData) {
  config::Document doc = config::Document::parse("model: {name: vit, width: 32, depth: 1, heads: 2}\n", "m.yaml");
  config::Section model = config::Section(doc).section("model");
  auto net = make_image_model(model, {.num_classes = 7, .channels = 1, .image_size = 28});
  EXPECT_EQ(net->num_classes(), 7);
  EXPECT_EQ(net->forward(zeros({2, 1, 28, 28})).shape(), (Shape{2, 7}));
  EXPECT_EQ(model.resolved()["image_size"].as<int64_t>(), 28);
}

TEST(ImageModelFactory, RefusesImagesOfTheWrongShape) {
  expect_contains(error_of([] { tiny_vit()->forward(zeros({2, 1, 8, 8})); }), "expected images (B, 3, 8, 8)");
}

// ---- training --------------------------------------------------------------------------------------

// 32 random images with random labels: memorised to 100% train accuracy.
TEST(ViTTraining, TinyViTOverfits32RandomImages) {
  Generator gen(1);
  auto vit = tiny_vit("  num_classes: 10\n", &gen);
  Tensor images = random_images(32, 2);
  std::vector<int64_t> label_values;
  Generator label_gen(3);
  for (float u : rand({32}, {}, &label_gen).to_vector<float>()) label_values.push_back(std::min<int64_t>(9, int64_t(u * 10)));
  Tensor labels = from_vector<int64_t>(label_values, {32});
  ParameterArena arena(*vit);
  AdamW opt(arena, {.lr = 3e-3, .weight_decay = 0.0});
  double accuracy = 0.0;
  int step = 0;
  const auto start = std::chrono::steady_clock::now();
  for (; step < 300 && accuracy < 1.0; ++step) {
    opt.zero_grad();
    Tensor logits = vit->forward(images);
    cross_entropy(logits, labels).backward();
    opt.step();
    auto [values, predicted] = ops::max(logits.detach(), 1);
    std::vector<int64_t> p = predicted.to_vector<int64_t>();
    int correct = 0;
    for (size_t i = 0; i < p.size(); ++i) correct += p[i] == label_values[i];
    accuracy = correct / 32.0;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(accuracy, 1.0) << "after " << step << " steps";
  std::printf("tiny ViT: 100%% of 32 random labels after %d steps, %.2f s\n", step, seconds);
}

}  // namespace
}  // namespace strata
