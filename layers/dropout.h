#pragma once
// Dropout (torch.nn.Dropout): in training, each element is zeroed with
// probability p and the survivors are scaled by 1/(1-p), so E[y] = x; in
// eval mode (or p = 0) the identity. Any shape.
#include "core/random.h"
#include "core/tensor.h"
#include "layers/module.h"

namespace strata {

class Dropout : public Module {
 public:
  // p in [0, 1). gen: the masks' generator (null: the default generator).
  explicit Dropout(double p = 0.5, Generator* gen = nullptr);

  Tensor forward(const Tensor& x);
  double p() const { return p_; }

 private:
  double p_;
  Generator* gen_;
};

}  // namespace strata
