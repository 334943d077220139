#pragma once
// BlockDiagonal: W = diag(W_1, ..., W_b), b blocks W_k ((out/b) x (in/b)),
// stored as weight (b, p, q) with p = out/b, q = in/b; rectangular allowed.
// Input column block k (features k q .. (k+1) q) feeds output block k only:
//   forward:  y_k = x_k W_k^T (+ b_k)   one strided batched GEMM over k that
//             reads x's column blocks in place, then one pass to lay y out
//   params:   out in / b (+ out);  flops(T) = 2 T out in / b
//   project:  keep the diagonal blocks of W (the Frobenius-optimal member)
//   init:     W_k ~ U(-1/sqrt(q), 1/sqrt(q)), PyTorch's rule for a block's
//             own fan-in q. A fraction 1/b of to_dense() is nonzero, so its
//             entries have variance (1/b) (1/(3 q)) = 1/(3 in): the dense init's.
// Parameters in order: weight, bias.
#include "layers/linear.h"
#include "layers/linear_spec.h"

namespace strata {

class BlockDiagonal : public StructuredLinear {
 public:
  BlockDiagonal(int64_t in_features, int64_t out_features, int64_t blocks, LinearOptions options = {});

  Tensor forward(const Tensor& x) override;
  int64_t num_params() const override;
  int64_t flops(int64_t tokens) const override;
  Tensor to_dense() const override;
  double project(const Tensor& weight) override;

  int64_t blocks() const { return blocks_; }

  // Weight parameters and FLOPs per token with b blocks (no bias).
  static StructureCost cost(int64_t in_features, int64_t out_features, int64_t blocks);
  // The spec with blocks given (checked to divide both dims) or solved from
  // the budget: the fewest blocks dividing both dims whose cost fits. `rank`
  // is an error.
  static LinearSpec resolve(const LinearSpec& spec, int64_t in_features, int64_t out_features);

  Tensor weight;  // (b, out/b, in/b)

 private:
  int64_t blocks_;
};

}  // namespace strata
