// The run-config schema: defaults, every kind of error with its file:line,
// the resolved config reading back to itself, and every shipped config
// reading without error.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/data/fixtures.h"
#include "train/run_config.h"

namespace strata {
namespace {

using data::testing::expect_error;
using data::testing::TempDir;
namespace fs = std::filesystem;

RunConfig parse(const std::string& text) { return read_run_config(config::Document::parse(text, "run.yaml")); }

TEST(RunConfig, EmptyConfigTakesEveryDefault) {
  RunConfig c = parse("");
  EXPECT_EQ(c.optim.name, "adamw");
  EXPECT_DOUBLE_EQ(c.optim.lr, 1e-3);
  EXPECT_DOUBLE_EQ(c.optim.weight_decay, 0.05);
  EXPECT_EQ(c.schedule.kind, "cosine");
  EXPECT_EQ(c.train.epochs, 1);
  EXPECT_EQ(c.train.steps, 0);
  EXPECT_EQ(c.train.grad_accum, 1);
  EXPECT_DOUBLE_EQ(c.train.gblr.target_width, 0.05);
  EXPECT_TRUE(c.eval.at_end);
  EXPECT_EQ(c.checkpoint.keep_last, 3);
  EXPECT_EQ(c.log.progress, "auto");
  EXPECT_EQ(c.data.dataset, "fashion_mnist");
  EXPECT_EQ(c.image.num_classes, 10);
  EXPECT_EQ(c.image.image_size, 28);
  // The resolved config names every section and the model's derived sizes.
  for (const char* section : {"model", "data", "optim", "schedule", "train", "eval", "checkpoint", "log"}) {
    EXPECT_TRUE(c.resolved[section].IsMap()) << section;
  }
  EXPECT_EQ(c.resolved["model"]["image_size"].as<int64_t>(), 28);
  EXPECT_EQ(c.resolved["train"]["gblr"]["thres"].as<double>(), 0.02);
}

TEST(RunConfig, SgdDefaultsAndKeys) {
  RunConfig c = parse("optim:\n  name: sgd\n  lr: 0.1\n  nesterov: true\n");
  EXPECT_DOUBLE_EQ(c.optim.weight_decay, 0.0);
  EXPECT_DOUBLE_EQ(c.optim.momentum, 0.9);
  EXPECT_TRUE(c.optim.nesterov);
  EXPECT_FALSE(c.resolved["optim"]["betas"]) << "adamw-only keys stay out of an sgd config";
}

TEST(RunConfig, UnknownTopLevelSectionNamesLineAndSuggests) {
  expect_error([] { parse("optim:\n  lr: 0.1\noptimizer:\n  lr: 0.1\n"); },
               {"run.yaml:3:1", "optimizer: unknown key", "valid keys: model, data, optim, schedule"});
  expect_error([] { parse("optm:\n  lr: 0.1\n"); }, {"run.yaml:1:1", "did you mean 'optim'"});
  expect_error([] { parse("trian:\n  epochs: 3\n"); }, {"run.yaml:1:1", "did you mean 'train'"});
}

TEST(RunConfig, UnknownKeysNameLineAndSuggest) {
  expect_error([] { parse("optim:\n  lr: 0.1\n  wieght_decay: 0.1\n"); },
               {"run.yaml:3:3", "optim.wieght_decay", "did you mean 'weight_decay'"});
  expect_error([] { parse("train:\n  gblr:\n    thresh: 0.1\n"); },
               {"run.yaml:3:5", "train.gblr.thresh", "did you mean 'thres'"});
  expect_error([] { parse("eval:\n  every_step: 10\n"); }, {"run.yaml:2:3", "did you mean 'every_steps'"});
  expect_error([] { parse("checkpoint:\n  keep: 2\n"); }, {"run.yaml:2:3", "checkpoint.keep"});
  expect_error([] { parse("log:\n  progres: never\n"); }, {"run.yaml:2:3", "did you mean 'progress'"});
  // Delegated sections keep file:line too.
  expect_error([] { parse("model:\n  widht: 64\n"); }, {"run.yaml:2:3", "model.widht", "did you mean 'width'"});
  expect_error([] { parse("data:\n  batchsize: 64\n"); }, {"run.yaml:2:3", "did you mean 'batch_size'"});
}

TEST(RunConfig, DeviceKey) {
  EXPECT_EQ(parse("").train.device, Device::cpu());
  EXPECT_EQ(parse("train:\n  device: cuda:1\n").train.device, Device::cuda(1));
  expect_error([] { parse("train:\n  device: gpu\n"); }, {"run.yaml:2:3", "train.device", "expected cpu, cuda or cuda:N"});
}

TEST(RunConfig, PrecisionKey) {
  EXPECT_EQ(parse("").train.precision, Precision::f32);
  EXPECT_EQ(parse("train:\n  precision: bf16\n").train.precision, Precision::bf16);
  expect_error([] { parse("train:\n  precision: fp16\n"); }, {"run.yaml:2:3", "train.precision", "not one of [f32, bf16]"});
}

TEST(RunConfig, LanguageModelConfigsReadTokenData) {
  const RunConfig c = parse("model:\n  name: gpt2\n  context: 256\ndata:\n  train: [a.bin, b.bin]\n  val: v.bin\n");
  EXPECT_EQ(c.kind, ModelKind::language_model);
  EXPECT_EQ(c.tokens.train, (std::vector<std::string>{"a.bin", "b.bin"}));
  EXPECT_EQ(c.tokens.val, std::vector<std::string>{"v.bin"});
  EXPECT_EQ(c.tokens.context, 256);  // from the model
  expect_error([] { parse("model:\n  name: gpt2\n  context: 64\ndata:\n  context: 128\n"); },
               {"run.yaml:5:3", "data.context", "longer than model.context (64)"});
  expect_error([] { parse("model:\n  name: gpt2\ndata:\n  dataset: cifar10\n"); }, {"run.yaml:4:3", "data.dataset"});
}

TEST(RunConfig, WrongTypesNameLineAndExpectedType) {
  expect_error([] { parse("optim:\n  lr: fast\n"); }, {"run.yaml:2:3", "optim.lr", "expected a number", "'fast'"});
  expect_error([] { parse("train:\n  epochs: 1.5\n"); }, {"run.yaml:2:3", "train.epochs", "expected an integer"});
  expect_error([] { parse("eval:\n  at_end: maybe\n"); }, {"run.yaml:2:3", "eval.at_end", "expected a boolean"});
  expect_error([] { parse("optim:\n  betas: 0.9\n"); }, {"run.yaml:2:3", "optim.betas", "expected a list of numbers"});
  expect_error([] { parse("train:\n  gblr: 0.1\n"); }, {"run.yaml:2:3", "train.gblr", "expected a section"});
  expect_error([] { parse("optim: adamw\n"); }, {"run.yaml:1:1", "optim", "expected a section"});
}

TEST(RunConfig, BadValuesNameLineAndRange) {
  expect_error([] { parse("optim:\n  lr: 0\n"); }, {"run.yaml:2:3", "optim.lr", "must be > 0"});
  expect_error([] { parse("optim:\n  name: adam\n"); }, {"run.yaml:2:3", "not one of", "did you mean 'adamw'"});
  expect_error([] { parse("optim:\n  betas: [0.9]\n"); }, {"optim.betas", "expected 2 values"});
  expect_error([] { parse("optim:\n  betas: [0.9, 1.0]\n"); }, {"optim.betas", "not in [0, 1)"});
  expect_error([] { parse("optim:\n  name: sgd\n  eps: 1e-6\n"); }, {"run.yaml:3:3", "optim.eps", "only applies to"});
  expect_error([] { parse("optim:\n  momentum: 0.9\n"); }, {"run.yaml:2:3", "optim.momentum", "only applies to"});
  expect_error([] { parse("optim:\n  name: sgd\n  momentum: 0\n  nesterov: true\n"); },
               {"run.yaml:4:3", "needs momentum > 0"});
  expect_error([] { parse("schedule:\n  kind: cosin\n"); }, {"run.yaml:2:3", "did you mean 'cosine'"});
  expect_error([] { parse("optim:\n  lr: 0.001\nschedule:\n  min_lr: 0.01\n"); },
               {"run.yaml:4:3", "schedule.min_lr", "must be in [0, optim.lr"});
  expect_error([] { parse("schedule:\n  warmup_epochs: -1\n"); }, {"run.yaml:2:3", "must be >= 0"});
  expect_error([] { parse("train:\n  epochs: 0\n"); }, {"run.yaml:2:3", "train.epochs", "or give train.steps"});
  expect_error([] { parse("train:\n  grad_accum: 0\n"); }, {"run.yaml:2:3", "must be > 0"});
  expect_error([] { parse("train:\n  threads: -2\n"); }, {"run.yaml:2:3", "train.threads", "must be in [0, 4096]"});
  expect_error([] { parse("train:\n  gblr:\n    target_width: 2\n"); }, {"run.yaml:3:5", "must be in [0, 1]"});
  expect_error([] { parse("checkpoint:\n  keep_last: 0\n"); }, {"run.yaml:2:3", "must be > 0"});
  expect_error([] { parse("log:\n  every_steps: 0\n"); }, {"run.yaml:2:3", "must be > 0"});
  expect_error([] { parse("log:\n  progress: sometimes\n"); }, {"run.yaml:2:3", "not one of [auto, always, never]"});
}

TEST(RunConfig, StepsWinOverEpochs) {
  RunConfig c = parse("train:\n  epochs: 300\n  steps: 5\nschedule:\n  warmup_epochs: 5\n  warmup_steps: 1\n");
  EXPECT_EQ(c.train.steps, 5);
  EXPECT_EQ(c.schedule.warmup_steps, 1);
  EXPECT_NO_THROW(parse("train:\n  epochs: 0\n  steps: 7\n")) << "epochs may be 0 when steps gives the length";
}

TEST(RunConfig, ErrorsInBaseFilesAndOverridesNameTheirSource) {
  TempDir dir;
  {
    std::ofstream(dir / "base.yaml") << "optim:\n  lr: 0.1\n\n  mommentum: 0.9\n";
    std::ofstream(dir / "run.yaml") << "base: base.yaml\ntrain:\n  epochs: 2\n";
  }
  expect_error([&] { read_run_config(config::Document::load(dir / "run.yaml")); },
               {"base.yaml:4:3", "optim.mommentum"});
  {
    std::ofstream(dir / "base.yaml") << "optim:\n  lr: 0.1\n";
  }
  config::Document doc = config::Document::load(dir / "run.yaml");
  doc.apply_override("train.epochs=two");
  expect_error([&] { read_run_config(std::move(doc)); }, {"--set train.epochs=two", "expected an integer"});
}

// What OUT/config.yaml holds reads back to the same config, for every
// optimizer and dataset family (keys only some choices take stay out).
TEST(RunConfig, ResolvedConfigReadsBackToItself) {
  for (const char* text : {"", "optim:\n  name: sgd\n",
                           "data:\n  dataset: cifar100\n  label: coarse\n  mixup_alpha: 0.8\n",
                           "data:\n  dataset: cifar10\nmodel:\n  linear: {type: low_rank, flops_ratio: 0.5}\n",
                           "train:\n  steps: 9\n  gblr:\n    thres: 0.1\nschedule:\n  kind: linear\n"}) {
    RunConfig first = parse(text);
    const std::string yaml = resolved_yaml(first);
    RunConfig second = read_run_config(config::Document::parse(yaml, "config.yaml"));
    EXPECT_EQ(resolved_yaml(second), yaml) << "from:\n" << text;
  }
}

// Every config in configs/ reads, the bases in models/ and datasets/ too (with
// defaults for the rest); reading a config needs no data files.
TEST(RunConfig, EveryShippedConfigReads) {
  const fs::path root = fs::path(STRATA_SOURCE_DIR) / "configs";
  int count = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    const fs::path& p = entry.path();
    if (p.extension() != ".yaml") continue;
    if (p.parent_path().filename() == "sweeps") continue;  // sweep files, read by the sweep tests
    SCOPED_TRACE(p.string());
    EXPECT_NO_THROW(read_run_config(config::Document::load(p.string())));
    ++count;
  }
  EXPECT_GT(count, 10);
}

}  // namespace
}  // namespace strata
