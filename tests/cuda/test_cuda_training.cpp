// `train.device: cuda` end to end: a tiny ViT and a tiny GPT-2 trained a
// few steps by the Trainer on the GPU follow the CPU run (losses and final
// weights within f32 tolerance), and the checkpoint is written from host
// copies; in bf16 autocast too (GPT-2). Skipped, with the reason, without a GPU; without one, asking for
// it is a clear error instead of a crash.
#include <gtest/gtest.h>

#include "data/token_shard.h"
#include "tests/cuda/cuda_test_util.h"
#include "tests/train/train_fixtures.h"
#include "train/checkpoint.h"
#include "train/trainer.h"

namespace strata {
namespace {

using data::testing::TempDir;

RunConfig vit_config(const std::string& root, const std::string& device) {
  config::Document doc = config::Document::parse(testing::tiny_run_config(root, 3), "tiny.yaml");
  doc.apply_override("train.device=" + device);
  doc.apply_override("data.workers=0");
  return read_run_config(std::move(doc));
}

TrainerOptions quiet_options(const std::string& out) {
  TrainerOptions o;
  o.out_dir = out;
  o.console = testing::quiet_console();
  return o;
}

TEST(CudaTraining, AskingForAMissingDeviceIsAClearError) {
  if (testing::cuda_available()) GTEST_SKIP() << "a CUDA device is present: nothing to refuse";
  TempDir dir;
  testing::write_cifar10_fixture(dir / "cifar", 20, 10);
  try {
    Trainer trainer(vit_config(dir / "cifar", "cuda"), quiet_options(dir / "run"));
    FAIL() << "training on a missing GPU did not fail";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("CUDA"), std::string::npos) << e.what();
  }
}

TEST(CudaTraining, TinyVitStepsFollowTheCpuRun) {
  STRATA_REQUIRE_CUDA();
  TempDir dir;
  testing::write_cifar10_fixture(dir / "cifar", 20, 10);
  Trainer cpu(vit_config(dir / "cifar", "cpu"), quiet_options(dir / "cpu"));
  const TrainResult on_cpu = cpu.run();
  Trainer gpu(vit_config(dir / "cifar", "cuda"), quiet_options(dir / "gpu"));
  const TrainResult on_gpu = gpu.run();
  ASSERT_TRUE(on_cpu.final_eval && on_gpu.final_eval);
  EXPECT_NEAR(on_gpu.final_eval->loss, on_cpu.final_eval->loss, 1e-3);
  const std::vector<float> a = cpu.arena().params().to_vector<float>();
  const std::vector<float> b = gpu.arena().params().to(Device::cpu()).to_vector<float>();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-4 + 1e-3 * std::abs(a[i])) << "parameter " << i;
  // The checkpoint holds host tensors and loads into a CPU model.
  EXPECT_EQ(load_checkpoint(on_gpu.checkpoint).step, 3);
}

TEST(CudaTraining, TinyGpt2StepsFollowTheCpuRun) {
  STRATA_REQUIRE_CUDA();
  TempDir dir;
  {
    data::TokenShardWriter writer(dir / "tokens.bin");
    std::vector<int32_t> ids;
    for (int i = 0; i < 4000; ++i) ids.push_back((i * 7 + i / 13) % 32);
    writer.write(ids);
    writer.close();
  }
  auto config = [&](const std::string& device, const char* precision) {
    return read_run_config(config::Document::parse(
        fmt::format("model: {{name: gpt2, vocab_size: 32, context: 16, width: 32, depth: 2, heads: 2}}\n"
                    "data: {{train: {0}, val: {0}, batch_size: 4}}\n"
                    "train: {{steps: 3, device: {1}, precision: {2}}}\n"
                    "eval: {{every_epochs: 0}}\ncheckpoint: {{every_epochs: 0}}\n",
                    dir / "tokens.bin", device, precision),
        "gpt2.yaml"));
  };
  // bf16 autocast follows the CPU's bf16 emulation: the same rounded
  // operands, summed in a different order, after three steps (2e-3).
  for (const char* precision : {"f32", "bf16"}) {
    const double tolerance = std::string(precision) == "f32" ? 1e-3 : 2e-3;
    Trainer cpu(config("cpu", precision), quiet_options(dir / (std::string("cpu_") + precision)));
    const TrainResult on_cpu = cpu.run();
    Trainer gpu(config("cuda", precision), quiet_options(dir / (std::string("gpu_") + precision)));
    const TrainResult on_gpu = gpu.run();
    ASSERT_TRUE(on_cpu.final_eval && on_gpu.final_eval);
    EXPECT_NEAR(on_gpu.final_eval->loss, on_cpu.final_eval->loss, tolerance) << precision;
    EXPECT_NEAR(on_gpu.final_eval->perplexity, on_cpu.final_eval->perplexity, 10 * tolerance) << precision;
  }
}

}  // namespace
}  // namespace strata
