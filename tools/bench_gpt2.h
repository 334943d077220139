#pragma once
// `strata bench gpt2 [--batch B] [--context T] [--steps N] [--threads N] [--set model.key=value]...`
//
// Full GPT-2 training steps (forward, cross-entropy over every position,
// backward, AdamW over the parameter arena) on random tokens, f32, no
// dropout: the median step time as tokens/s and achieved GFLOP/s (6 x the
// forward FLOPs of `strata info` per token), and the peak resident memory
// of the process. GPT-2 small (124M) unless --set changes the model
// section. bench/torch_gpt2.py runs the same step in PyTorch.
#include <cstdint>
#include <string>
#include <vector>

namespace strata::tools {

struct BenchGpt2Options {
  int64_t batch = 4;
  int64_t context = 64;
  int steps = 5;    // timed steps after one warm-up; the median is reported
  int threads = 0;  // 0: OpenMP's default
  std::vector<std::string> overrides;  // of the model section, e.g. model.linear={type: blast, ...}
  bool json = false;
};

int run_bench_gpt2(const BenchGpt2Options& options);

}  // namespace strata::tools
