// The Trainer's helpers: metrics lines and their truncation on resume, the
// soft-target loss, the single-process communicator, durations.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

#include "autograd/functions.h"
#include "tests/data/fixtures.h"
#include "train/classification.h"
#include "train/communicator.h"
#include "train/metrics.h"
#include "train/progress.h"

namespace strata {
namespace {

using data::testing::expect_error;
using data::testing::TempDir;

TEST(Metrics, RecordsHaveTheRequiredKeysFirstAndTruncationDropsLaterAndBrokenLines) {
  TempDir dir;
  const std::string path = dir / "metrics.jsonl";
  {
    MetricsLog log(path);
    for (int64_t step = 1; step <= 4; ++step) {
      MetricsRecord r;
      r.step = step;
      r.epoch = 0.5 * double(step);
      r.loss = 1.0 / double(step);
      r.extra["img_per_s"] = 100.0;
      log.write(r);
    }
  }
  std::ofstream(path, std::ios::app) << "{\"step\": 5, \"lo";  // a line cut short by a crash
  MetricsLog::truncate_after(path, 2);
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].rfind("{\"step\":1,\"epoch\":0.5,\"split\":\"train\",\"loss\":1.0,\"accuracy\":0.0,\"lr\":0.0,"
                           "\"time\":0.0,\"img_per_s\":100.0}",
                           0),
            0u)
      << lines[0];
  EXPECT_EQ(nlohmann::json::parse(lines[1])["step"], 2);
}

TEST(Classification, SoftCrossEntropyMatchesTheFormulaAndCountsCorrectRows) {
  Tensor logits = from_vector(std::vector<float>{2.0f, 0.0f, 0.0f, 0.0f, 1.0f, 3.0f}, {2, 3});
  Tensor targets = from_vector(std::vector<float>{0.8f, 0.1f, 0.1f, 0.0f, 0.5f, 0.5f}, {2, 3});
  const double lse0 = std::log(std::exp(2.0) + 2.0), lse1 = std::log(1.0 + std::exp(1.0) + std::exp(3.0));
  const double expected = ((0.8 * (lse0 - 2) + 0.2 * lse0) + (0.5 * (lse1 - 1) + 0.5 * (lse1 - 3))) / 2;
  EXPECT_NEAR(soft_cross_entropy(logits, targets).item<double>(), expected, 1e-6);
  EXPECT_EQ(count_correct(logits, from_vector(std::vector<int64_t>{0, 1}, {2})), 1);
  expect_error([&] { soft_cross_entropy(logits, zeros({2, 4})); }, {"soft_cross_entropy", "[2, 4]"});
}

TEST(Communicator, SingleProcessCollectivesAreTheIdentity) {
  SingleProcessCommunicator c;
  EXPECT_EQ(c.world_size(), 1);
  EXPECT_TRUE(c.is_main());
  Tensor t = from_vector(std::vector<float>{1, 2, 3}, {3});
  c.all_reduce_sum(t);
  c.broadcast(t, 0);
  c.barrier();
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{1, 2, 3}));
  expect_error([&] { c.broadcast(t, 1); }, {"broadcast", "root 1"});
  expect_error([&] { c.all_reduce_sum(zeros({2, 3}).t()); }, {"all_reduce_sum", "contiguous"});
}

TEST(Progress, DurationsReadNaturally) {
  EXPECT_EQ(format_duration(45.2), "45s");
  EXPECT_EQ(format_duration(192), "3m12s");
  EXPECT_EQ(format_duration(3840), "1h04m");
  EXPECT_EQ(format_duration(std::nan("")), "?");
}

}  // namespace
}  // namespace strata
