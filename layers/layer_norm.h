#pragma once
// LayerNorm over the last dim (torch.nn.LayerNorm(C)):
//   y = (x - mean(x)) / sqrt(var(x) + eps) * weight + bias,  x (..., C),
// var biased (divides by C); weight (C) = 1 and bias (C) = 0 at init.
#include "core/tensor.h"
#include "layers/module.h"

namespace strata {

struct LayerNormOptions {
  double eps = 1e-5;
  bool elementwise_affine = true;  // learn weight (and bias)
  bool bias = true;                // learn bias too (GPT-2 style); false: weight only
  DType dtype = DType::f32;
  Device device = Device::cpu();
};

class LayerNorm : public Module {
 public:
  explicit LayerNorm(int64_t normalized_dim, LayerNormOptions options = {});

  Tensor forward(const Tensor& x);
  int64_t normalized_dim() const { return dim_; }
  double eps() const { return eps_; }

  Tensor weight, bias;  // (C) each, or undefined

 private:
  int64_t dim_;
  double eps_;
};

}  // namespace strata
