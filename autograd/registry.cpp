// The registry of differentiable ops: every name passed to record(). The
// gradcheck test suite walks it and fails for any op without a case, so an
// op added here without a gradient test cannot go unnoticed.
#include "autograd/node.h"

namespace strata {

const std::vector<std::string>& differentiable_ops() {
  static const std::vector<std::string> names = {
      // elementwise
      "add", "sub", "mul", "div", "add_scalar", "mul_scalar", "neg", "exp", "log", "sqrt", "rsqrt", "abs", "pow",
      "tanh", "sigmoid", "relu", "silu", "gelu", "gelu_tanh", "where", "masked_fill",
      // reductions
      "sum", "mean", "amax",
      // products
      "matmul", "linear", "blast_linear",
      // fused row ops and losses
      "softmax", "log_softmax", "layer_norm", "cross_entropy",
      // indexing and joining
      "embedding", "index_select", "cat", "stack",
      // regularisation, attention
      "dropout", "attention",
      // views and casts
      "reshape", "transpose", "permute", "slice", "expand", "contiguous", "cast",
  };
  return names;
}

}  // namespace strata
