#pragma once
// SGD with momentum and Nesterov, exactly torch.optim.SGD (dampening 0):
//   g <- g + wd * p                      (L2 decay; decayed group only)
//   buf <- momentum * buf + g            (buf starts at 0, so buf_1 = g_1)
//   g <- nesterov ? g + momentum * buf : buf      (when momentum != 0)
//   p <- p - lr * g
// Weight decay applies to the arena's decayed prefix only.
#include "train/optimizer.h"

namespace strata {

struct SGDOptions {
  double lr = 1e-2;
  double momentum = 0.0;
  bool nesterov = false;
  double weight_decay = 0.0;
};

class SGD : public Optimizer {
 public:
  SGD(ParameterArena& arena, SGDOptions options = {});

  void step() override;
  std::vector<NamedTensor> state() const override;  // "momentum_buffer" when momentum != 0
  const SGDOptions& options() const { return options_; }

 private:
  struct Group {
    Tensor param, grad, buf;  // buf undefined without momentum
    double weight_decay;
  };

  SGDOptions options_;
  Tensor buf_;
  std::vector<Group> groups_;
};

}  // namespace strata
