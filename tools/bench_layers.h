#pragma once
// `strata bench layers`: forward and forward+backward time of every
// structured linear at FLOP budgets 1, 0.5 and 0.25 of dense, on the shapes
// 768->768 and 768->3072 with 4096 tokens, against dense in the same run,
// on the CPU or a GPU (--device), in f32 or bf16 autocast (--precision).
#include <cstdint>
#include <string>

namespace strata::tools {

struct BenchLayersOptions {
  bool json = false;
  int64_t tokens = 4096;
  int repeats = 5;  // timed runs per case after one warm-up; the median is reported
  int threads = 0;  // 0: OpenMP's default
  std::string device = "cpu";
  std::string precision = "f32";
};

int run_bench_layers(const BenchLayersOptions& options);

}  // namespace strata::tools
