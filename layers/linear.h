#pragma once
// Linear: the dense StructuredLinear, torch.nn.Linear.
//   x (..., in) -> y = x W^T + b (..., out),  W (out, in), b (out).
// Init as PyTorch: W, b ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming-uniform with
// a = sqrt(5)). params = out*in (+ out); flops(T) = 2*T*in*out.
#include "layers/structured_linear.h"

namespace strata {

struct LinearOptions {
  bool bias = true;
  DType dtype = DType::f32;
  Device device = Device::cpu();
  Generator* generator = nullptr;  // null: the default generator
};

class Linear : public StructuredLinear {
 public:
  Linear(int64_t in_features, int64_t out_features, LinearOptions options = {});

  Tensor forward(const Tensor& x) override;
  int64_t num_params() const override;
  int64_t flops(int64_t tokens) const override;
  Tensor to_dense() const override;
  double project(const Tensor& weight) override;  // copies W: error 0

  Tensor weight;  // (out, in)
};

}  // namespace strata
