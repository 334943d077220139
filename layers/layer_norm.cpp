#include "layers/layer_norm.h"

#include "autograd/functions.h"

namespace strata {

LayerNorm::LayerNorm(int64_t normalized_dim, LayerNormOptions options)
    : dim_(normalized_dim), eps_(options.eps) {
  if (normalized_dim <= 0) fail("LayerNorm", "normalized dim must be positive, got {}", normalized_dim);
  if (!(options.eps > 0.0)) fail("LayerNorm", "eps must be positive, got {}", options.eps);
  TensorOptions to{options.dtype, options.device};
  if (options.elementwise_affine) {
    weight = register_parameter("weight", ones({normalized_dim}, to));
    if (options.bias) bias = register_parameter("bias", zeros({normalized_dim}, to));
  }
}

Tensor LayerNorm::forward(const Tensor& x) {
  if (x.dim() < 1 || x.size(-1) != dim_) {
    fail("LayerNorm", "expected input (..., {}), got {}", dim_, shape_str(x.shape()));
  }
  return layer_norm(x, weight, bias, eps_);
}

}  // namespace strata
