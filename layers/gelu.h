#pragma once
// GELU activation (torch.nn.GELU), elementwise on any shape:
//   none: x * Phi(x) = x/2 * (1 + erf(x / sqrt(2)))
//   tanh: x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))   (GPT-2)
#include "autograd/functions.h"
#include "layers/module.h"

namespace strata {

class GELU : public Module {
 public:
  explicit GELU(GeluApprox approx = GeluApprox::none) : approx_(approx) {}
  Tensor forward(const Tensor& x) { return gelu(x, approx_); }
  GeluApprox approx() const { return approx_; }

 private:
  GeluApprox approx_;
};

}  // namespace strata
