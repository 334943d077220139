#pragma once
// AdamW (Loshchilov & Hutter), exactly torch.optim.AdamW (amsgrad off):
//   t += 1
//   p <- p * (1 - lr * wd)                      (decoupled decay; decayed group only)
//   m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2
//   p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// over the arena's two groups: [0, decay_numel) with weight_decay and the
// rest with 0, each one fused backend loop.
#include "train/optimizer.h"

namespace strata {

struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.01;
};

class AdamW : public Optimizer {
 public:
  AdamW(ParameterArena& arena, AdamWOptions options = {});

  void step() override;
  std::vector<NamedTensor> state() const override;  // "exp_avg", "exp_avg_sq"
  const AdamWOptions& options() const { return options_; }

 private:
  // The views of one decay group, made once so a step allocates nothing.
  struct Group {
    Tensor param, grad, m, v;
    double weight_decay;
  };

  AdamWOptions options_;
  Tensor m_, v_;
  std::vector<Group> groups_;
};

}  // namespace strata
