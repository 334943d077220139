#include "models/init.h"

#include <cmath>
#include <vector>

#include "core/ops.h"

namespace strata {

void trunc_normal_(const Tensor& t, double std, Generator* gen) {
  if (!(std > 0.0)) fail("trunc_normal_", "std must be positive, got {}", std);
  Tensor draw = randn(t.shape(), {DType::f64}, gen);
  double* x = draw.data<double>();
  // Redraw the tails in rounds; each round keeps 95% of what it redraws.
  std::vector<int64_t> outside;
  for (int64_t i = 0; i < draw.numel(); ++i) {
    if (std::abs(x[i]) > 2.0) outside.push_back(i);
  }
  while (!outside.empty()) {
    Tensor again = randn({int64_t(outside.size())}, {DType::f64}, gen);
    const double* y = again.data<double>();
    std::vector<int64_t> still;
    for (size_t j = 0; j < outside.size(); ++j) {
      if (std::abs(y[j]) > 2.0) still.push_back(outside[j]);
      else x[outside[j]] = y[j];
    }
    outside.swap(still);
  }
  ops::mul_scalar_(draw, std);
  ops::copy_(t, draw);
}

void init_dense_timm(const Tensor& weight, const Tensor& bias, Generator* gen) {
  trunc_normal_(weight, 0.02, gen);
  if (bias.defined()) ops::fill_(bias, 0.0);
}

}  // namespace strata
