#include "train/optimizer.h"

#include <cmath>

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

}  // namespace strata
