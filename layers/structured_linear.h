#pragma once
// StructuredLinear: the one interface of every linear layer, dense or
// structured. It maps x (..., in_features) to y (..., out_features),
//   y = x W^T + b,
// where W (out x in) is represented in some structured form (dense, low-rank,
// Monarch, block-diagonal, BLAST, GBLR) and b (out) is optional.
//
//   num_params()  every parameter element, bias included;
//   flops(tokens) 2 x multiply-adds of the W product for `tokens` rows of x
//                 (the bias add is not counted, as in fvcore/the papers);
//   to_dense()    W as a fresh (out x in) tensor, outside autograd;
//   project(W)    sets the parameters to the best approximation of a dense
//                 W (out x in) that the structure can represent, at its
//                 current size, and returns ||W - to_dense()||_F / ||W||_F.
//                 The bias is left alone.
#include <cstdint>

#include "core/random.h"
#include "core/tensor.h"
#include "layers/module.h"

namespace strata {

// ||W - W_hat||_F / ||W||_F, computed in f64 (0 when W is zero and W_hat too).
double relative_error(const Tensor& weight, const Tensor& approximation);

class StructuredLinear : public Module {
 public:
  StructuredLinear(int64_t in_features, int64_t out_features);

  virtual Tensor forward(const Tensor& x) = 0;
  virtual int64_t num_params() const = 0;
  virtual int64_t flops(int64_t tokens) const = 0;
  virtual Tensor to_dense() const = 0;
  virtual double project(const Tensor& weight) = 0;

  int64_t in_features() const { return in_features_; }
  int64_t out_features() const { return out_features_; }

  Tensor bias;  // (out) or undefined

 protected:
  // Registers "bias" ~ U(-1/sqrt(in), 1/sqrt(in)) like torch.nn.Linear. Call
  // it after registering the weights so the names come in PyTorch's order.
  void init_bias(TensorOptions options, Generator* gen);
  int64_t bias_numel() const { return bias.defined() ? bias.numel() : 0; }
  // Checks x's last dim against in_features, naming the layer.
  void check_input(const char* layer, const Tensor& x) const;
  // Checks that W is (out x in) floating, naming the layer.
  void check_projection_target(const char* layer, const Tensor& weight) const;

 private:
  int64_t in_features_, out_features_;
};

}  // namespace strata
