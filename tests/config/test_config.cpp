// Config loading: base inheritance, overrides, typed fields, and errors that
// name file:line and the key.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "config/config.h"
#include "tests/data/fixtures.h"

namespace strata {
namespace {

namespace fs = std::filesystem;

// Each test in a directory of its own (named after the test and the
// process), so tests that ctest runs side by side never share one.
class ConfigFiles : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directories(dir_ / "sub"); }
  std::string write(const std::string& name, const std::string& text) {
    const std::string path = dir_ / name;
    std::ofstream(path) << text;
    return path;
  }
  data::testing::TempDir dir_;
};

// Runs f, expects a strata::Error whose message contains every fragment.
template <typename F>
void expect_error(F f, std::initializer_list<std::string> fragments) {
  try {
    f();
    ADD_FAILURE() << "no error thrown";
  } catch (const Error& e) {
    for (const auto& fragment : fragments) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << "'" << fragment << "' not in: " << e.what();
    }
  }
}

struct Optim {
  std::string name = "adamw";
  double lr = 1e-3;
  int64_t warmup = 0;
  bool nesterov = false;
  std::vector<int64_t> milestones;
};

Optim read_optim(const config::Document& doc) {
  config::Section root(doc);
  config::Section s = root.section("optim");
  Optim o;
  s.choice("name", o.name, {"adamw", "sgd"});
  s.field("lr", o.lr, config::positive<double>());
  s.field("warmup", o.warmup, config::non_negative<int64_t>());
  s.field("nesterov", o.nesterov);
  s.field("milestones", o.milestones);
  s.finish();
  return o;
}

TEST_F(ConfigFiles, BaseChainsMergeDeeplyAndChildWins) {
  write("base.yaml", "optim:\n  name: sgd\n  lr: 0.1\n  warmup: 5\nmodel:\n  depth: 12\n");
  write("sub/mid.yaml", "base: ../base.yaml\noptim:\n  lr: 0.05\n");
  std::string leaf = write("leaf.yaml", "base: sub/mid.yaml\noptim:\n  nesterov: true\n");
  config::Document doc = config::Document::load(leaf);
  Optim o = read_optim(doc);
  EXPECT_EQ(o.name, "sgd");
  EXPECT_DOUBLE_EQ(o.lr, 0.05);
  EXPECT_EQ(o.warmup, 5);
  EXPECT_TRUE(o.nesterov);
  EXPECT_EQ(doc.root()["model"]["depth"].as<int>(), 12);
  EXPECT_FALSE(doc.root()["base"]);
  EXPECT_NE(doc.source_of("optim.lr").str().find("mid.yaml:3"), std::string::npos);
  EXPECT_NE(doc.source_of("optim.warmup").str().find("base.yaml:4"), std::string::npos);
}

TEST_F(ConfigFiles, BaseCyclesAndMissingFilesAreErrors) {
  write("a.yaml", "base: b.yaml\n");
  write("b.yaml", "base: a.yaml\n");
  expect_error([&] { config::Document::load(dir_ / "a.yaml"); }, {"cycle", "a.yaml", "b.yaml"});
  std::string orphan = write("orphan.yaml", "base: nowhere.yaml\n");
  expect_error([&] { config::Document::load(orphan); }, {"nowhere.yaml", "not found", "orphan.yaml"});
}

TEST_F(ConfigFiles, SetOverridesAreTypedAndTracked) {
  config::Document doc = config::Document::parse("optim:\n  lr: 0.1\n", "run.yaml");
  doc.apply_override("optim.lr=2e-4");
  doc.apply_override("optim.milestones=[10, 20]");
  doc.apply_override("data.root=/tmp/x");
  Optim o = read_optim(doc);
  EXPECT_DOUBLE_EQ(o.lr, 2e-4);
  EXPECT_EQ(o.milestones, (std::vector<int64_t>{10, 20}));
  EXPECT_EQ(doc.root()["data"]["root"].as<std::string>(), "/tmp/x");
  doc.apply_override("optim.lr=fast");
  expect_error([&] { read_optim(doc); }, {"--set optim.lr=fast", "optim.lr", "expected a number", "'fast'"});
  expect_error([&] { doc.apply_override("optim.lr"); }, {"key.path=value"});
  expect_error([&] { doc.apply_override("optim.lr.x=1"); }, {"optim.lr", "not a section"});
}

TEST(Config, UnknownKeyNamesFileLineAndSuggests) {
  config::Document doc = config::Document::parse("optim:\n  name: adamw\n  lrr: 0.1\n", "configs/run.yaml");
  expect_error([&] { read_optim(doc); }, {"configs/run.yaml:3:3", "optim.lrr", "unknown key", "did you mean 'lr'"});
}

TEST(Config, WrongTypesAndRangesNameFileLineAndExpectation) {
  expect_error([] { read_optim(config::Document::parse("optim:\n  warmup: 2.5\n", "r.yaml")); },
               {"r.yaml:2:3", "optim.warmup", "expected an integer", "'2.5'"});
  expect_error([] { read_optim(config::Document::parse("optim:\n  lr: -1\n", "r.yaml")); }, {"r.yaml:2:3", "optim.lr", "must be > 0"});
  expect_error([] { read_optim(config::Document::parse("optim:\n  nesterov: maybe\n", "r.yaml")); },
               {"optim.nesterov", "boolean"});
  expect_error([] { read_optim(config::Document::parse("optim:\n  name: adan\n", "r.yaml")); },
               {"optim.name", "not one of", "did you mean 'adam"});
  expect_error([] { read_optim(config::Document::parse("optim:\n  milestones: 3\n", "r.yaml")); },
               {"optim.milestones", "a list of integers"});
  expect_error([] { read_optim(config::Document::parse("optim: 3\n", "r.yaml")); }, {"r.yaml:1:1", "optim", "expected a section"});
}

TEST(Config, SyntaxErrorsAndNonMapsNameTheFile) {
  expect_error([] { config::Document::parse("optim:\n  lr: [1, 2\n", "bad.yaml"); }, {"bad.yaml:", "YAML syntax error"});
  expect_error([] { config::Document::parse("- 1\n- 2\n", "list.yaml"); }, {"list.yaml", "top level"});
}

TEST(Config, ResolvedConfigHoldsDefaultsAndReadValues) {
  config::Document doc = config::Document::parse("optim:\n  lr: 0.5\n", "r.yaml");
  config::Section root(doc);
  config::Section s = root.section("optim");
  Optim o;
  s.field("lr", o.lr);
  s.field("warmup", o.warmup);
  s.finish();
  EXPECT_DOUBLE_EQ(root.resolved()["optim"]["lr"].as<double>(), 0.5);
  EXPECT_EQ(root.resolved()["optim"]["warmup"].as<int64_t>(), 0);
}

TEST(Config, ClosestMatch) {
  EXPECT_EQ(config::closest_match("lerning_rate", {"learning_rate", "weight_decay"}), "learning_rate");
  EXPECT_EQ(config::closest_match("zzzzzz", {"learning_rate", "weight_decay"}), "");
}

}  // namespace
}  // namespace strata
