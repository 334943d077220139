#include "train/optimizer.h"

#include <cmath>

#include "core/ops.h"

namespace strata {

Optimizer::Optimizer(ParameterArena& arena, double lr) : arena_(arena), lr_(0.0) { set_lr(lr); }

void Optimizer::set_lr(double lr) {
  if (!(lr >= 0.0) || !std::isfinite(lr)) fail("Optimizer", "learning rate must be finite and >= 0, got {}", lr);
  lr_ = lr;
}

void Optimizer::set_step_count(int64_t step) {
  if (step < 0) fail("Optimizer", "step count must be >= 0, got {}", step);
  step_ = step;
}

Tensor Optimizer::zeros_like_arena() const { return zeros_like(arena_.params()); }

Tensor Optimizer::DecayRange::of(const Tensor& flat) const {
  return flat.defined() ? ops::slice(flat, 0, begin, end) : Tensor();
}

std::vector<Optimizer::DecayRange> Optimizer::decay_ranges(double weight_decay) const {
  const int64_t n = arena_.numel(), d = arena_.decay_numel();
  std::vector<DecayRange> ranges;
  if (d > 0) ranges.push_back({0, d, weight_decay});
  if (n > d) ranges.push_back({d, n, 0.0});
  return ranges;
}

}  // namespace strata
