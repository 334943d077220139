#include "models/drop_path.h"

#include "autograd/functions.h"

namespace strata {

DropPath::DropPath(double p, Generator* gen) : p_(p), gen_(gen) {
  if (!(p >= 0.0 && p < 1.0)) fail("DropPath", "p = {} not in [0, 1)", p);
}

Tensor DropPath::forward(const Tensor& x) {
  if (!is_training() || p_ == 0.0) return x;
  if (x.dim() < 1) fail("DropPath", "expected (B, ...), got a scalar");
  // One draw per sample, broadcast over the rest: (B, 1, ..., 1).
  Shape mask_shape(size_t(x.dim()), 1);
  mask_shape[0] = x.size(0);
  Tensor mask = empty(mask_shape, x.options());
  ops::backend_of(mask).bernoulli(mask, 1.0 - p_, 1.0 / (1.0 - p_),
                                  (gen_ ? *gen_ : default_generator()).reserve(uint64_t(x.size(0))));
  return mul(x, mask);
}

}  // namespace strata
