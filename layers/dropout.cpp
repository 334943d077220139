#include "layers/dropout.h"

#include "autograd/functions.h"

namespace strata {

Dropout::Dropout(double p, Generator* gen) : p_(p), gen_(gen) {
  if (!(p >= 0.0 && p < 1.0)) fail("Dropout", "p = {} not in [0, 1)", p);
}

Tensor Dropout::forward(const Tensor& x) { return dropout(x, p_, is_training(), gen_); }

}  // namespace strata
