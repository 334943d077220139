#pragma once
// DropPath (stochastic depth, Huang et al. 2016; timm DropPath): in
// training, each SAMPLE's residual branch is dropped with probability p and
// kept ones are scaled by 1/(1-p), so E[y] = x:
//   x (B, ...) -> x * m[b] / (1 - p),  m[b] ~ Bernoulli(1 - p)
// The identity in eval mode or when p = 0.
#include "core/random.h"
#include "core/tensor.h"
#include "layers/module.h"

namespace strata {

class DropPath : public Module {
 public:
  // p in [0, 1). gen: the masks' generator (null: the default generator).
  explicit DropPath(double p = 0.0, Generator* gen = nullptr);

  Tensor forward(const Tensor& x);
  double p() const { return p_; }

 private:
  double p_;
  Generator* gen_;
};

}  // namespace strata
