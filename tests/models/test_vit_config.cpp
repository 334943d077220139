// The ViT model section: every error names file:line and the key, also
// for linear specs inherited from a base file or set with --set.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "layers/blast.h"
#include "models/model_factory.h"
#include "tests/models/vit_fixtures.h"

namespace strata {
namespace {

using namespace strata::testing;
namespace fs = std::filesystem;

class ViTConfigFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("strata_vit_config_{}", ::getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  // Loads the file, applies the overrides and reads the model section.
  ViTConfig read(const std::string& path, const std::vector<std::string>& sets = {}, const ImageShape& data = {}) {
    config::Document doc = config::Document::load(path);
    for (const std::string& s : sets) doc.apply_override(s);
    config::Section model = config::Section(doc).section("model");
    return read_vit_config(model, data);
  }
  // The error of reading `yaml` (the tiny config plus extra lines).
  std::string error_with(const std::string& extra, const ImageShape& data = {}) {
    const std::string path = write("vit.yaml", tiny_vit_yaml(extra));
    return error_of([&] { read(path, {}, data); });
  }

  fs::path dir_;
};

// Line numbers: tiny_vit_yaml puts the extra lines first, from line 2.

TEST_F(ViTConfigFiles, UnknownKeySuggestsTheClosest) {
  const std::string e = error_with("  widht: 64\n");
  expect_contains(e, "vit.yaml:2:3");
  expect_contains(e, "model.widht: unknown key (did you mean 'width'?)");
}

TEST_F(ViTConfigFiles, WrongType) {
  const std::string e = error_with("  mlp_ratio: four\n");
  expect_contains(e, "vit.yaml:2:3: model.mlp_ratio: expected a number, got 'four'");
}

TEST_F(ViTConfigFiles, WidthNotDivisibleByHeads) {
  const std::string e = error_with("  heads: 3\n");
  expect_contains(e, "vit.yaml:2:3: model.heads: 3 heads do not divide width 32");
}

TEST_F(ViTConfigFiles, ImageNotDivisibleByPatch) {
  const std::string e = error_with("  patch_size: 3\n");
  expect_contains(e, "vit.yaml:2:3: model.patch_size: 3 does not divide image_size 8");
}

TEST_F(ViTConfigFiles, BadPoolAndDropout) {
  expect_contains(error_with("  pool: avg\n"), "vit.yaml:2:3: model.pool: 'avg' is not one of [cls, mean]");
  expect_contains(error_with("  drop_path: 1.5\n"), "vit.yaml:2:3: model.drop_path: must be in [0, 1)");
  expect_contains(error_with("  name: resnet\n"), "model.name: 'resnet' is not one of [vit]");
}

TEST_F(ViTConfigFiles, UnknownRoleSuggestsTheClosest) {
  const std::string e = error_with("  linear:\n    qvk: {type: low_rank, rank: 4}\n");
  expect_contains(e, "vit.yaml:3:5: model.linear.qvk: unknown key (did you mean 'qkv'?)");
}

TEST_F(ViTConfigFiles, UnknownSpecKeyAndStructure) {
  expect_contains(error_with("  linear: {type: blast, blocks: 2, rnak: 4}\n"),
                  "model.linear.rnak: unknown key (did you mean 'rank'?)");
  const std::string e = error_with("  linear:\n    mlp_in: {type: blsat, blocks: 2, rank: 4}\n");
  expect_contains(e, "vit.yaml:3:");
  expect_contains(e, "model.linear.mlp_in.type: 'blsat' is not one of");
  expect_contains(e, "(did you mean 'blast'?)");
  expect_contains(error_with("  linear: {type: low_rank, rank: four}\n"),
                  "model.linear.rank: expected an integer, got 'four'");
}

TEST_F(ViTConfigFiles, SpecThatCannotBuildItsLayerNamesRoleAndKey) {
  // 3 blocks divide neither 32 nor 96.
  const std::string e = error_with("  linear:\n    qkv: {type: blast, blocks: 3, rank: 4}\n");
  expect_contains(e, "vit.yaml:3:5: model.linear.qkv: role qkv (32 -> 96): blocks: 3 blocks do not divide");
  const std::string budget = error_with("  linear: {type: low_rank, flops_ratio: 0.001}\n");
  expect_contains(budget, "vit.yaml:2:3: model.linear: role qkv (32 -> 96): flops_ratio: budget 0.001 is too small");
}

TEST_F(ViTConfigFiles, LinearMustBeAMap) {
  expect_contains(error_with("  linear: blast\n"), "vit.yaml:2:3: model.linear: expected a linear spec");
}

TEST_F(ViTConfigFiles, SizesComeFromTheDataOrMustAgreeWithIt) {
  const std::string path = write("m.yaml", "model:\n  width: 32\n  heads: 2\n");
  expect_contains(error_of([&] { read(path); }), "model.image_size: required");
  ViTConfig c = read(path, {}, {.num_classes = 10, .channels = 1, .image_size = 28});
  EXPECT_EQ(c.image_size, 28);
  EXPECT_EQ(c.in_channels, 1);
  EXPECT_EQ(c.num_classes, 10);
  expect_contains(error_with("", {.num_classes = 10, .channels = 3, .image_size = 8}),
                  "vit.yaml:6:3: model.num_classes: is 5 but the data gives 10");
}

// A spec inherited from a base file and one from --set are located where
// they were written (yaml-cpp's marks do not survive the base merge; the
// config's own source map does).
TEST_F(ViTConfigFiles, ErrorsInInheritedAndOverriddenSpecsNameTheirSource) {
  write("base.yaml", tiny_vit_yaml("  linear:\n    mlp_in: {type: blast, blocks: 2, rank: 4}\n"));
  const std::string child = write("child.yaml", "base: base.yaml\nmodel:\n  depth: 1\n  linear:\n    mlp_out: {type: blast, blocks: 5, rank: 4}\n");
  const std::string e = error_of([&] { read(child); });
  expect_contains(e, "child.yaml:5:5: model.linear.mlp_out: role mlp_out (128 -> 32): blocks: 5 blocks do not divide");
  const std::string s = error_of([&] { read(child, {"model.linear.mlp_out={type: blast, blocks: 2, rnk: 4}"}); });
  expect_contains(s, "--set model.linear.mlp_out={type: blast, blocks: 2, rnk: 4}");
  expect_contains(s, "model.linear.mlp_out.rnk: unknown key (did you mean 'rank'?)");
  // Valid: both roles built, the others dense.
  ViTConfig c = read(child, {"model.linear.mlp_out={type: blast, blocks: 2, rank: 4}"});
  EXPECT_EQ(c.linear.at("mlp_in").type, "blast");
  EXPECT_EQ(c.linear.at("mlp_out").type, "blast");
  EXPECT_EQ(c.linear.at("qkv").type, "dense");
  EXPECT_EQ(c.linear.at("mlp_out").source, "model.linear.mlp_out");
  ViT vit(c);
  EXPECT_NE(dynamic_cast<Blast*>(vit.blocks[0]->mlp->fc2.get()), nullptr);
}

TEST_F(ViTConfigFiles, ReadsEveryKey) {
  const std::string path = write(
      "all.yaml",
      "model:\n  name: vit\n  image_size: 16\n  in_channels: 1\n  num_classes: 3\n  patch_size: 8\n  width: 48\n"
      "  depth: 3\n  heads: 4\n  mlp_ratio: 2.5\n  pool: mean\n  dropout: 0.1\n  attn_dropout: 0.2\n"
      "  drop_path: 0.3\n  qkv_bias: false\n  qkv_split: true\n  layer_norm_eps: 1e-5\n"
      "  linear: {type: low_rank, params_ratio: 0.5, bias: false}\n");
  ViTConfig c = read(path);
  EXPECT_EQ(c.image_size, 16);
  EXPECT_EQ(c.in_channels, 1);
  EXPECT_EQ(c.num_classes, 3);
  EXPECT_EQ(c.patch_size, 8);
  EXPECT_EQ(c.width, 48);
  EXPECT_EQ(c.depth, 3);
  EXPECT_EQ(c.heads, 4);
  EXPECT_EQ(c.mlp_hidden(), 120);
  EXPECT_EQ(c.pool, "mean");
  EXPECT_DOUBLE_EQ(c.dropout, 0.1);
  EXPECT_DOUBLE_EQ(c.attn_dropout, 0.2);
  EXPECT_DOUBLE_EQ(c.drop_path, 0.3);
  EXPECT_FALSE(c.qkv_bias);
  EXPECT_TRUE(c.qkv_split);
  EXPECT_DOUBLE_EQ(c.layer_norm_eps, 1e-5);
  EXPECT_EQ(c.tokens(), 4);
  for (const char* role : {"qkv", "attn_out", "mlp_in", "mlp_out"}) {
    EXPECT_EQ(c.linear.at(role).type, "low_rank") << role;
    EXPECT_DOUBLE_EQ(c.linear.at(role).params_ratio, 0.5) << role;
    EXPECT_FALSE(c.linear.at(role).bias) << role;
  }
  EXPECT_EQ(c.linear.at("head").type, "dense");
  EXPECT_EQ(c.linear.at("patch_embed").type, "dense");
}

// Every structure the spec reader offers is one make_linear builds.
TEST(LinearRoles, EveryTypeBuilds) {
  for (const std::string& type : linear_structure_types()) {
    LinearSpec spec;
    spec.type = type;
    if (type != "dense") spec.flops_ratio = 0.5;
    if (type == "blast" || type == "block_diagonal" || type == "monarch") spec.blocks = 2;
    if (type == "block_diagonal") spec.flops_ratio = 0.0;
    EXPECT_NE(make_linear(spec, 16, 32), nullptr) << type;
  }
}

}  // namespace
}  // namespace strata
