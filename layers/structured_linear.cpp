#include "layers/structured_linear.h"

#include <cmath>

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

}  // namespace strata
