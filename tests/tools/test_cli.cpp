// The `strata train` and `strata eval` commands, run as a user runs them:
// the built binary in a shell, checking exit codes and messages. Includes
// the README's CIFAR-10 command on files written in CIFAR's format.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "tests/cuda/cuda_test_util.h"
#include "tests/support/cli.h"
#include "tests/train/train_fixtures.h"

namespace strata {
namespace {

using data::testing::TempDir;
namespace fs = std::filesystem;

using testing::Command;
using testing::run_strata;


void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// A directory with the CIFAR fixture and the tiny config over it.
struct Workspace {
  TempDir dir;
  std::string config = dir / "tiny.yaml";
  Workspace() {
    testing::write_cifar10_fixture(dir / "cifar", 20, 20);
    write_text(config, testing::tiny_run_config(dir / "cifar", 3));
  }
};

TEST(Cli, TrainRefusesABadConfigWithExit2AndFileLine) {
  TempDir dir;
  write_text(dir / "bad.yaml", "optim:\n  lr: 0.1\n  wieght_decay: 0.1\n");
  const Command c = run_strata(fmt::format("train '{}' --out '{}'", dir / "bad.yaml", dir / "out"));
  EXPECT_EQ(c.exit_code, 2) << c.output;
  EXPECT_NE(c.output.find("bad.yaml:3:3: optim.wieght_decay: unknown key (did you mean 'weight_decay'?)"),
            std::string::npos)
      << c.output;
  const Command set = run_strata(fmt::format("train '{}' --set train.epochs=x", dir / "bad.yaml"));
  EXPECT_EQ(set.exit_code, 2) << set.output;
  const Command usage = run_strata("train");
  EXPECT_EQ(usage.exit_code, 2) << usage.output;
  EXPECT_EQ(run_strata("train --help").exit_code, 0);
  EXPECT_EQ(run_strata("eval --help").exit_code, 0);
}

TEST(Cli, TrainEvalAndResume) {
  Workspace w;
  const std::string out = w.dir / "run";
  const Command train = run_strata(fmt::format("train '{}' --out '{}'", w.config, out));
  ASSERT_EQ(train.exit_code, 0) << train.output;
  EXPECT_TRUE(fs::exists(out + "/metrics.jsonl"));
  EXPECT_TRUE(fs::exists(out + "/config.yaml"));

  // A second fresh run into the same folder is refused unless asked for.
  const Command again = run_strata(fmt::format("train '{}' --out '{}'", w.config, out));
  EXPECT_EQ(again.exit_code, 2) << again.output;
  EXPECT_NE(again.output.find("--resume"), std::string::npos) << again.output;
  EXPECT_EQ(run_strata(fmt::format("train '{}' --out '{}' --overwrite", w.config, out)).exit_code, 0);

  // Resuming a run with more steps, without naming the config again.
  const Command resume = run_strata(fmt::format("train --resume '{}' --set train.steps=5", out));
  EXPECT_EQ(resume.exit_code, 0) << resume.output;
  EXPECT_NE(resume.output.find("resumed from"), std::string::npos) << resume.output;

  const Command eval = run_strata(fmt::format("eval --checkpoint '{}/checkpoints/last.safetensors'", out));
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  const nlohmann::json j = nlohmann::json::parse(eval.output);
  EXPECT_EQ(j["count"], 20);
  EXPECT_EQ(j["step"], 5);
  EXPECT_GE(j["accuracy"].get<double>(), 0.0);
  EXPECT_GT(j["loss"].get<double>(), 0.0);
}

TEST(Cli, DamagedCheckpointsAreRefusedWithExit2NamingTheFile) {
  Workspace w;
  const std::string out = w.dir / "run";
  ASSERT_EQ(run_strata(fmt::format("train '{}' --out '{}'", w.config, out)).exit_code, 0);
  const std::string last = out + "/checkpoints/last.safetensors";
  const std::string damaged = w.dir / "damaged.safetensors";
  fs::copy_file(fs::path(out) / "checkpoints/step_3.safetensors", damaged);
  data::testing::truncate_file(damaged, 100);

  const Command eval = run_strata(fmt::format("eval --checkpoint '{}'", damaged));
  EXPECT_EQ(eval.exit_code, 2) << eval.output;
  EXPECT_NE(eval.output.find(damaged), std::string::npos) << eval.output;

  const Command resume = run_strata(fmt::format("train '{}' --resume '{}'", w.config, damaged));
  EXPECT_EQ(resume.exit_code, 2) << resume.output;
  EXPECT_NE(resume.output.find(damaged), std::string::npos) << resume.output;

  const Command missing = run_strata(fmt::format("train --resume '{}'", w.dir / "nowhere"));
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  // The run's own checkpoint is untouched and still evaluates.
  EXPECT_EQ(run_strata(fmt::format("eval --checkpoint '{}'", last)).exit_code, 0);
}

// The README's CIFAR-10 command (configs/runs/vit_s_cifar10.yaml) on files
// in CIFAR's format, made tiny by overrides: it runs and its first steps
// lower the loss.
TEST(Cli, Cifar10RunConfigTrainsOnCifarFormatFiles) {
  TempDir dir;
  testing::write_cifar10_fixture(dir / "cifar", 64, 20);
  const std::string config = std::string(STRATA_SOURCE_DIR) + "/configs/runs/vit_s_cifar10.yaml";
  const Command c = run_strata(fmt::format(
      "train '{}' --out '{}' --set data.root='{}' --set model.depth=1 --set model.width=32 --set model.heads=2 "
      "--set data.batch_size=32 --set train.steps=8 --set schedule.warmup_steps=1 --set log.every_steps=1 "
      "--set data.mixup_alpha=0 --set data.cutmix_alpha=0",
      config, dir / "run", dir / "cifar"));
  ASSERT_EQ(c.exit_code, 0) << c.output;
  std::vector<double> losses;
  std::ifstream in(dir / "run/metrics.jsonl");
  for (std::string line; std::getline(in, line);) {
    const nlohmann::json j = nlohmann::json::parse(line);
    if (j["split"] == "train") losses.push_back(j["loss"].get<double>());
  }
  ASSERT_EQ(losses.size(), 8u);
  EXPECT_LT((losses[6] + losses[7]) / 2, (losses[0] + losses[1]) / 2) << c.output;
}

// The benchmark commands take --device and --precision: a tiny GPT-2 runs
// in bf16 autocast on the CPU and reports it; bad values exit 2 naming the
// option, and a missing GPU is named as such.
TEST(Cli, BenchGpt2TakesDeviceAndPrecision) {
  const std::string tiny = "--set model.depth=1 --set model.width=32 --set model.heads=2 --set model.context=16 "
                           "--batch 2 --context 16 --steps 1";
  const Command bf16 = run_strata("bench gpt2 --precision bf16 --json " + tiny);
  ASSERT_EQ(bf16.exit_code, 0) << bf16.output;
  EXPECT_NE(bf16.output.find("\"precision\": \"bf16\""), std::string::npos) << bf16.output;
  EXPECT_NE(bf16.output.find("\"device\": \"cpu\""), std::string::npos) << bf16.output;
  EXPECT_NE(bf16.output.find("\"mfu\": null"), std::string::npos) << "no MFU without a known peak: " << bf16.output;
  const Command fp16 = run_strata("bench gpt2 --precision fp16 " + tiny);
  EXPECT_EQ(fp16.exit_code, 2) << fp16.output;
  EXPECT_NE(fp16.output.find("--precision"), std::string::npos) << fp16.output;
  const Command layers = run_strata("bench layers --device gpu --tokens 8 --repeats 1");
  EXPECT_EQ(layers.exit_code, 2) << layers.output;
  EXPECT_NE(layers.output.find("--device gpu"), std::string::npos) << layers.output;
  if (!testing::cuda_available()) {
    const Command gpu = run_strata("bench gpt2 --device cuda " + tiny);
    EXPECT_EQ(gpu.exit_code, 2) << gpu.output;
    EXPECT_NE(gpu.output.find("CUDA"), std::string::npos) << gpu.output;
  }
}

}  // namespace
}  // namespace strata
