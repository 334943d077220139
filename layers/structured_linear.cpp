#include "layers/structured_linear.h"

#include <cmath>

#include "core/ops.h"

namespace strata {

StructuredLinear::StructuredLinear(int64_t in_features, int64_t out_features)
    : in_features_(in_features), out_features_(out_features) {
  if (in_features <= 0 || out_features <= 0) {
    fail("StructuredLinear", "features must be positive, got in={} out={}", in_features, out_features);
  }
}

void StructuredLinear::init_bias(TensorOptions options, Generator* gen) {
  double bound = 1.0 / std::sqrt(double(in_features_));
  Tensor b = empty({out_features_}, options);
  uniform_(b, -bound, bound, gen);
  bias = register_parameter("bias", b);
}

void StructuredLinear::check_input(const char* layer, const Tensor& x) const {
  if (x.dim() < 1 || x.size(-1) != in_features_) {
    fail(layer, "expected input (..., {}), got {}", in_features_, shape_str(x.shape()));
  }
}

void StructuredLinear::check_projection_target(const char* layer, const Tensor& weight) const {
  if (weight.dim() != 2 || weight.size(0) != out_features_ || weight.size(1) != in_features_) {
    fail(layer, "projection target must be (out={}, in={}), got {}", out_features_, in_features_,
         shape_str(weight.shape()));
  }
  ops::check_floating(layer, weight);
}

double relative_error(const Tensor& weight, const Tensor& approximation) {
  Tensor w = ops::cast(weight, DType::f64), a = ops::cast(approximation, DType::f64);
  Tensor diff = ops::sub(w, a);
  double num = ops::sum(ops::mul(diff, diff)).item<double>();
  double den = ops::sum(ops::mul(w, w)).item<double>();
  if (den == 0.0) return num == 0.0 ? 0.0 : INFINITY;
  return std::sqrt(num / den);
}

}  // namespace strata
