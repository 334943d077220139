#pragma once
// Fixtures for the training tests: a CIFAR-10 binary set in the real file
// format (data_batch_1..5.bin, test_batch.bin) whose classes are easy to
// learn (each class a distinct colour, plus noise), and a tiny ViT run
// config over it.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>

#include <cstdint>
#include <string>
#include <vector>

#include "core/philox.h"
#include "tests/data/fixtures.h"

namespace strata::testing {

// `per_batch` records in each of the five training files, `test_count` in
// the test file. Record r has label r % 10; its pixels are the class colour
// (distinct per channel and class) plus uniform noise in [-24, 24].
inline void write_cifar10_fixture(const std::string& root, int64_t per_batch, int64_t test_count) {
  auto records = [](int64_t first, int64_t count) {
    std::vector<uint8_t> bytes;
    for (int64_t r = first; r < first + count; ++r) {
      const int64_t label = r % 10;
      bytes.push_back(uint8_t(label));
      for (int64_t c = 0; c < 3; ++c) {
        const int64_t colour = 40 + 18 * ((label + 3 * c) % 10);
        for (int64_t i = 0; i < 32 * 32; i += 4) {
          const auto noise = philox4x32(uint64_t(r * 3 + c), uint64_t(i), 7);
          for (int k = 0; k < 4; ++k) bytes.push_back(uint8_t(colour + int64_t(noise[size_t(k)] % 49) - 24));
        }
      }
    }
    return bytes;
  };
  for (int b = 1; b <= 5; ++b) {
    data::testing::write_bytes(fmt::format("{}/data_batch_{}.bin", root, b), records((b - 1) * per_batch, per_batch));
  }
  data::testing::write_bytes(root + "/test_batch.bin", records(1'000'000, test_count));
}

// A tiny ViT over the fixture (16x16 patches: 4 patches and the class
// token), logging every step and evaluating only at the end.
inline std::string tiny_run_config(const std::string& root, int64_t steps) {
  return fmt::format(R"(model:
  patch_size: 16
  width: 32
  depth: 1
  heads: 2
  mlp_ratio: 2.0
data:
  dataset: cifar10
  root: {}
  batch_size: 16
  workers: 1
optim:
  lr: 3.0e-3
schedule:
  kind: cosine
  warmup_steps: 2
train:
  steps: {}
  seed: 3
eval:
  every_epochs: 0
log:
  every_steps: 1
  progress: never
checkpoint:
  every_epochs: 0
)",
                     root, steps);
}

// Where the console output of test runs goes: nowhere.
inline FILE* quiet_console() {
  static FILE* null = std::fopen("/dev/null", "w");
  return null;
}

// The records of a run's metrics.jsonl.
inline std::vector<nlohmann::json> read_metrics_file(const std::string& path) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

}  // namespace strata::testing
