#include "train/clip.h"

#include <cmath>

#include "core/ops.h"

namespace strata {

namespace {

double sum_of_squares(const Tensor& g) {
  if (g.numel() == 0) return 0.0;
  return ops::sum(ops::mul(g, g)).item<double>();
}

void check_max_norm(double max_norm) {
  if (!(max_norm > 0.0)) fail("clip_grad_norm", "max_norm must be positive, got {}", max_norm);
}

}  // namespace

double grad_norm(const std::vector<Tensor>& grads) {
  double total = 0.0;
  for (const Tensor& g : grads) {
    if (g.defined()) total += sum_of_squares(g);
  }
  return std::sqrt(total);
}

double clip_grad_norm(const std::vector<Tensor>& grads, double max_norm) {
  check_max_norm(max_norm);
  double norm = grad_norm(grads);
  double coef = max_norm / (norm + 1e-6);  // torch's coefficient, applied when < 1
  if (std::isfinite(norm) && coef < 1.0) {
    for (const Tensor& g : grads) {
      if (g.defined()) ops::mul_scalar_(g, coef);
    }
  }
  return norm;
}

double clip_grad_norm(ParameterArena& arena, double max_norm) {
  return clip_grad_norm(std::vector<Tensor>{arena.grads()}, max_norm);
}

}  // namespace strata
