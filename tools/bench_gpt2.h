#pragma once
// `strata bench gpt2 [--batch B] [--context T] [--steps N] [--threads N]
//                    [--device cpu|cuda] [--precision f32|bf16] [--set model.key=value]...`
//
// Full GPT-2 training steps (forward, cross-entropy over every position,
// backward, AdamW over the parameter arena) on random tokens, no dropout:
// the median step time as tokens/s and achieved GFLOP/s (3 x the forward
// FLOPs of `strata info` per token), the peak resident memory of the
// process and the allocator's peak. On a GPU also the MFU: achieved FLOP/s
// over the card's dense bf16 peak (H100/H200 SXM 989 TFLOP/s, A100 312;
// --peak-tflops for others), llm.c's convention. GPT-2 small (124M) unless
// --set changes the model section. bench/torch_gpt2.py runs the same step
// in PyTorch.
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
  std::string device = "cpu";
  std::string precision = "f32";  // bf16: autocast (core/autocast.h)
  double peak_tflops = 0.0;       // 0: from the card's name (GPU only)
  bool json = false;
};

int run_bench_gpt2(const BenchGpt2Options& options);

}  // namespace strata::tools
