#pragma once
// MLP: the transformer feed-forward block (timm Mlp, GPT-2 MLP).
//   x (..., in) -> fc1 (..., hidden) -> GELU -> fc2 (..., out) -> dropout
// fc1 and fc2 are StructuredLinears: dense Linears by default, or any
// structured layers passed in by the caller (a model's LinearSpec).
#include <memory>

#include "layers/dropout.h"
#include "layers/gelu.h"
#include "layers/structured_linear.h"

namespace strata {

struct MLPOptions {
  GeluApprox approx = GeluApprox::none;
  bool bias = true;
  double dropout = 0.0;  // after fc2, training only
  DType dtype = DType::f32;
  Device device = Device::cpu();
  Generator* generator = nullptr;  // initialisation and dropout masks
};

class MLP : public Module {
 public:
  // Dense: Linear(in, hidden) and Linear(hidden, out).
  MLP(int64_t in_features, int64_t hidden_features, int64_t out_features, MLPOptions options = {});
  // Given layers; fc1's out_features must equal fc2's in_features.
  MLP(std::shared_ptr<StructuredLinear> fc1, std::shared_ptr<StructuredLinear> fc2, MLPOptions options = {});

  Tensor forward(const Tensor& x);
  int64_t flops(int64_t tokens) const { return fc1->flops(tokens) + fc2->flops(tokens); }

  std::shared_ptr<StructuredLinear> fc1;
  std::shared_ptr<GELU> act;
  std::shared_ptr<StructuredLinear> fc2;
  std::shared_ptr<Dropout> drop;
};

}  // namespace strata
