#include "layers/linear.h"

#include <cmath>

#include "autograd/functions.h"

namespace strata {

Linear::Linear(int64_t in_features, int64_t out_features, LinearOptions options)
    : StructuredLinear(in_features, out_features) {
  TensorOptions to{options.dtype, options.device};
  double bound = 1.0 / std::sqrt(double(in_features));
  Tensor w = empty({out_features, in_features}, to);
  uniform_(w, -bound, bound, options.generator);
  weight = register_parameter("weight", w);
  if (options.bias) init_bias(to, options.generator);
}

Tensor Linear::forward(const Tensor& x) {
  check_input("Linear", x);
  return linear(x, weight, bias);
}

int64_t Linear::num_params() const { return out_features() * in_features() + bias_numel(); }

int64_t Linear::flops(int64_t tokens) const { return 2 * tokens * in_features() * out_features(); }

Tensor Linear::to_dense() const { return ops::clone(weight); }

double Linear::project(const Tensor& w) {
  check_projection_target("Linear", w);
  NoGradGuard no_grad;
  ops::copy_(weight, w);
  return relative_error(w, weight);
}

}  // namespace strata
