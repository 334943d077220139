// The Trainer end to end on a CIFAR-10-format fixture: a short run lowers
// the loss and writes metrics, config and checkpoints; a run stopped (by a
// hook or a signal) and resumed ends with weights bitwise equal to a run
// that never stopped, with dropout, drop-path, mixup/cutmix, gradient
// accumulation, clipping and GBLR structure learning on.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "layers/gblr.h"
#include "tests/train/train_fixtures.h"
#include "train/checkpoint.h"
#include "train/stop_signal.h"
#include "train/trainer.h"

namespace strata {
namespace {

using data::testing::TempDir;
namespace fs = std::filesystem;

constexpr int64_t kPerBatch = 50, kTestCount = 40;

RunConfig make_config(const std::string& root, int64_t steps, const std::vector<std::string>& overrides = {}) {
  config::Document doc = config::Document::parse(testing::tiny_run_config(root, steps), "tiny.yaml");
  for (const std::string& o : overrides) doc.apply_override(o);
  return read_run_config(std::move(doc));
}


TrainerOptions options_for(const std::string& out, std::string resume = "") {
  TrainerOptions o;
  o.out_dir = out;
  o.resume_from = std::move(resume);
  o.console = testing::quiet_console();
  return o;
}


std::vector<float> weights(Trainer& t) { return t.arena().params().to_vector<float>(); }

// The GBLR layers' mean width and largest sigma (0, 0 without GBLR layers).
std::pair<double, double> gblr_width_and_sigma(Trainer& t) {
  double width = 0.0, sigma = 0.0;
  int layers = 0;
  for (const NamedLinear& l : t.model().structured_linears()) {
    if (const auto* g = dynamic_cast<const Gblr*>(l.layer)) {
      width += g->mean_active_width();
      sigma = std::max(sigma, g->sigma());
      ++layers;
    }
  }
  return {layers > 0 ? width / layers : 0.0, sigma};
}

TEST(Trainer, ShortRunLowersTheLossAndWritesItsOutputs) {
  TempDir dir;
  testing::write_cifar10_fixture(dir / "cifar", kPerBatch, kTestCount);
  Trainer trainer(make_config(dir / "cifar", 20), options_for(dir / "run"));
  const TrainResult result = trainer.run();
  EXPECT_EQ(result.status, TrainStatus::finished);
  EXPECT_EQ(result.step, 20);
  ASSERT_TRUE(result.final_eval);
  EXPECT_EQ(result.final_eval->count, kTestCount);

  const std::vector<nlohmann::json> lines = testing::read_metrics_file(dir / "run/metrics.jsonl");
  ASSERT_EQ(lines.size(), 21u) << "20 train records (log every step) and the final evaluation";
  for (const nlohmann::json& j : lines) {
    for (const char* key : {"step", "epoch", "split", "loss", "accuracy", "lr", "time"}) {
      EXPECT_TRUE(j.contains(key)) << key << " missing in " << j.dump();
    }
    EXPECT_TRUE(j["step"].is_number_integer());
    EXPECT_TRUE(j["split"] == "train" || j["split"] == "test");
    EXPECT_GE(j["accuracy"].get<double>(), 0.0);
    EXPECT_LE(j["accuracy"].get<double>(), 1.0);
  }
  EXPECT_EQ(lines.back()["split"], "test");
  EXPECT_EQ(lines.back()["count"], kTestCount);
  EXPECT_EQ(lines[0]["step"], 1);
  EXPECT_DOUBLE_EQ(lines[0]["epoch"].get<double>(), 1.0 / 15.0) << "250 images in batches of 16: 15 per epoch";
  auto mean_loss = [&](size_t begin, size_t end) {
    double sum = 0.0;
    for (size_t i = begin; i < end; ++i) sum += lines[i]["loss"].get<double>();
    return sum / double(end - begin);
  };
  EXPECT_LT(mean_loss(16, 20), 0.85 * mean_loss(0, 4)) << "the loss falls over 20 steps";

  EXPECT_TRUE(fs::exists(dir / "run/checkpoints/last.safetensors"));
  EXPECT_TRUE(fs::exists(dir / "run/checkpoints/step_20.safetensors"));
  // config.yaml is the resolved config and reads back as such.
  RunConfig again = read_run_config(config::Document::load(dir / "run/config.yaml"));
  EXPECT_EQ(again.train.steps, 20);
  EXPECT_EQ(again.data.root, dir / "cifar");
}

// train.precision: bf16 trains through rounded products, but the master
// weights, their gradients and the checkpoint stay f32.
TEST(Trainer, Bf16AutocastTrainsF32MasterWeights) {
  TempDir dir;
  testing::write_cifar10_fixture(dir / "cifar", kPerBatch, kTestCount);
  Trainer f32_run(make_config(dir / "cifar", 20), options_for(dir / "f32"));
  f32_run.run();
  Trainer bf16_run(make_config(dir / "cifar", 20, {"train.precision=bf16"}), options_for(dir / "bf16"));
  const TrainResult result = bf16_run.run();
  EXPECT_EQ(result.status, TrainStatus::finished);
  EXPECT_EQ(bf16_run.arena().params().dtype(), DType::f32);
  EXPECT_EQ(bf16_run.arena().grads().dtype(), DType::f32);

  const std::vector<nlohmann::json> lines = testing::read_metrics_file(dir / "bf16/metrics.jsonl");
  ASSERT_GE(lines.size(), 20u);
  EXPECT_LT(lines[19]["loss"].get<double>() + lines[18]["loss"].get<double>(),
            0.85 * (lines[0]["loss"].get<double>() + lines[1]["loss"].get<double>()))
      << "the loss falls in bf16 too";

  // The rounding changed the trajectory, but only slightly.
  const std::vector<float> a = weights(f32_run), b = weights(bf16_run);
  double diff = 0.0, norm = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff += double(a[i] - b[i]) * double(a[i] - b[i]);
    norm += double(a[i]) * double(a[i]);
  }
  EXPECT_GT(diff, 0.0) << "bf16 products must differ from f32 ones";
  EXPECT_LT(std::sqrt(diff / norm), 0.05);

  const CheckpointState saved = load_checkpoint(dir / "bf16/checkpoints/last.safetensors");
  for (const auto& [name, t] : saved.model) EXPECT_EQ(t.dtype(), DType::f32) << name;
}

// Everything that draws random numbers or carries state across steps.
const std::vector<std::string> kStatefulRun = {
    "model.dropout=0.1",        "model.attn_dropout=0.1",  "model.drop_path=0.2",  "data.mixup_alpha=0.4",
    "data.cutmix_alpha=1.0",    "data.label_smoothing=0.1", "train.grad_accum=2",  "train.clip_grad_norm=0.5",
    "eval.every_steps=3",       "checkpoint.every_steps=4", "checkpoint.keep_last=2", "data.workers=2"};

class ResumeEquality : public ::testing::TestWithParam<const char*> {};

TEST_P(ResumeEquality, StopAndResumeGivesBitwiseEqualWeights) {
  TempDir dir;
  // 50 training images: 3 batches of 16 per epoch, so the 24 batches of the
  // run span 8 epochs (epoch boundaries inside accumulated steps included).
  testing::write_cifar10_fixture(dir / "cifar", 10, kTestCount);
  std::vector<std::string> overrides = kStatefulRun;
  if (std::string(GetParam()) == "gblr") {
    // Large thres so the widths really shrink within a few steps; a short
    // sigma schedule so sigma rises at the boundaries of epochs 6 and 7.
    for (const char* o : {"model.linear={type: gblr, flops_ratio: 0.5}", "train.gblr.thres=20.0",
                          "train.gblr.target_width=0.0", "train.gblr.sigma_epochs=7"}) {
      overrides.push_back(o);
    }
  }
  constexpr int64_t kSteps = 12, kStopAt = 5;  // 5: not a checkpoint step, so the stop writes its own

  Trainer straight(make_config(dir / "cifar", kSteps, overrides), options_for(dir / "straight"));
  const auto [width_before, sigma_before] = gblr_width_and_sigma(straight);
  ASSERT_EQ(straight.run().status, TrainStatus::finished);
  if (std::string(GetParam()) == "gblr") {
    // The structure learning really ran: widths shrank, sigma rose.
    const auto [width_after, sigma_after] = gblr_width_and_sigma(straight);
    EXPECT_LT(width_after, width_before);
    EXPECT_GT(sigma_after, sigma_before);
  }

  TrainerOptions stopping = options_for(dir / "split");
  stopping.should_stop = [](int64_t step) { return step == kStopAt; };
  Trainer first(make_config(dir / "cifar", kSteps, overrides), stopping);
  const TrainResult stopped = first.run();
  ASSERT_EQ(stopped.status, TrainStatus::stopped);
  EXPECT_EQ(stopped.step, kStopAt);
  EXPECT_EQ(stopped.checkpoint, dir / "split/checkpoints/step_5.safetensors");

  Trainer second(make_config(dir / "cifar", kSteps, overrides),
                 options_for(dir / "split", dir / "split/checkpoints/last.safetensors"));
  const TrainResult resumed = second.run();
  ASSERT_EQ(resumed.status, TrainStatus::finished);
  EXPECT_EQ(resumed.step, kSteps);

  const std::vector<float> a = weights(straight), b = weights(second);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0) << "final weights differ";
  // The optimizer state continues bit-identically too.
  const CheckpointState sa = load_checkpoint(dir / "straight/checkpoints/last.safetensors");
  const CheckpointState sb = load_checkpoint(dir / "split/checkpoints/last.safetensors");
  ASSERT_EQ(sa.optimizer.size(), sb.optimizer.size());
  for (size_t i = 0; i < sa.optimizer.size(); ++i) {
    const Tensor& x = sa.optimizer[i].second;
    const Tensor& y = sb.optimizer[i].second;
    EXPECT_EQ(std::memcmp(x.raw_data(), y.raw_data(), x.nbytes()), 0) << sa.optimizer[i].first;
  }
  // The resumed metrics repeat the straight run's lines from step 6 on.
  const auto ma = testing::read_metrics_file(dir / "straight/metrics.jsonl"), mb = testing::read_metrics_file(dir / "split/metrics.jsonl");
  ASSERT_EQ(ma.size(), mb.size());
  for (size_t i = 0; i < ma.size(); ++i) {
    EXPECT_EQ(ma[i]["step"], mb[i]["step"]);
    EXPECT_EQ(ma[i]["loss"], mb[i]["loss"]) << "line " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Trainer, ResumeEquality, ::testing::Values("dense", "gblr"));

TEST(Trainer, SignalStopsAfterTheStepWithACheckpoint) {
  TempDir dir;
  testing::write_cifar10_fixture(dir / "cifar", kPerBatch, kTestCount);
  StopSignalScope signals;
  TrainerOptions o = options_for(dir / "run");
  o.should_stop = [](int64_t step) {
    if (step == 3) std::raise(SIGTERM);  // as a scheduler's pre-emption would
    return false;
  };
  Trainer trainer(make_config(dir / "cifar", 10), o);
  const TrainResult result = trainer.run();
  EXPECT_EQ(result.status, TrainStatus::stopped);
  EXPECT_EQ(result.stop_signal, SIGTERM);
  EXPECT_EQ(result.step, 3);
  EXPECT_EQ(load_checkpoint(dir / "run/checkpoints/last.safetensors").step, 3);
  clear_stop_request();
}

TEST(Trainer, ResumingAFinishedRunDoesNothing) {
  TempDir dir;
  testing::write_cifar10_fixture(dir / "cifar", kPerBatch, kTestCount);
  Trainer first(make_config(dir / "cifar", 4), options_for(dir / "run"));
  first.run();
  Trainer again(make_config(dir / "cifar", 4), options_for(dir / "run", dir / "run/checkpoints/last.safetensors"));
  const TrainResult result = again.run();
  EXPECT_EQ(result.status, TrainStatus::finished);
  EXPECT_EQ(result.step, 4);
  EXPECT_EQ(weights(first), weights(again));
}

TEST(Trainer, InitFromACheckpointStartsAFreshRunFromItsWeights) {
  TempDir dir;
  testing::write_cifar10_fixture(dir / "cifar", kPerBatch, kTestCount);
  Trainer first(make_config(dir / "cifar", 3), options_for(dir / "first"));
  first.run();
  const std::vector<float> trained = weights(first);

  // A different seed would initialise other weights: --init must replace them all.
  TrainerOptions o = options_for(dir / "second");
  o.init_from = dir / "first/checkpoints/last.safetensors";
  Trainer second(make_config(dir / "cifar", 2, {"train.seed=7"}), o);
  EXPECT_EQ(weights(second), trained);
  const TrainResult result = second.run();
  EXPECT_EQ(result.step, 2);  // from step 0, not the checkpoint's 3
  EXPECT_NE(weights(second), trained);

  // A checkpoint of another architecture is refused by name and shape.
  TrainerOptions wrong = options_for(dir / "third");
  wrong.init_from = dir / "first/checkpoints/last.safetensors";
  EXPECT_THROW(Trainer(make_config(dir / "cifar", 2, {"model.width=64"}), wrong), Error);
}

}  // namespace
}  // namespace strata
