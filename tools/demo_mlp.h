#pragma once
// `strata demo mlp`: trains a 2-layer MLP (Linear-GELU-Linear) on a seeded
// 3-class 2-D spiral problem with AdamW, a cosine schedule with warmup and
// gradient clipping, printing progress and the final train accuracy.
#include <cstdint>

namespace strata::tools {

struct MlpDemoOptions {
  int64_t steps = 1500;
  uint64_t seed = 0;
  int64_t hidden = 128;
  double lr = 1e-2;
  int threads = 0;            // 0: OpenMP's default
  int64_t batch = 128;
  int64_t points_per_class = 500;
  int64_t log_every = 100;
};

// Returns the process exit code (0).
int run_mlp_demo(const MlpDemoOptions& options);

}  // namespace strata::tools
