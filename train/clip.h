#pragma once
// Gradient clipping by global L2 norm (torch.nn.utils.clip_grad_norm_):
//   norm = sqrt(sum_i g_i^2) over all gradients;
//   c = max_norm / (norm + 1e-6); if c < 1: g <- g * c.
// Returns the norm before clipping. The sum is the core's chunked reduction,
// so the result does not depend on the thread count. A non-finite norm
// leaves the gradients untouched (the caller decides whether to skip the step).
#include <vector>

#include "core/tensor.h"
#include "layers/parameter_arena.h"

namespace strata {

double clip_grad_norm(ParameterArena& arena, double max_norm);
// Same over separate gradient tensors (undefined ones are skipped).
double clip_grad_norm(const std::vector<Tensor>& grads, double max_norm);
// The global L2 norm alone.
double grad_norm(const std::vector<Tensor>& grads);

}  // namespace strata
