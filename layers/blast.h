#pragma once
// Blast: the BLAST linear (Block-Level Adaptive STructured, Lee et al. 2024).
// W (out x in) in b x b blocks of p x q, p = out/b, q = in/b:
//   W_ij = U_i diag(s_ij) V_j^T,   U (b, p, r), V (b, q, r), s (b, b, r);
// U_i is shared along block row i, V_j along block column j, s_ij is per block.
// forward: y = x W^T + bias by three stages that never form W or a per-block
// product (autograd/blast_ops.h): z_j = x_j V_j; w_i = sum_j s_ij * z_j;
// y_i = w_i U_i^T.
//   params   r (out + in + b^2) (+ out for the bias)
//   flops(T) 2 T r (out + in + b^2)   (stage 1: 2 T in r, stage 2: 2 T b^2 r, stage 3: 2 T out r)
// V is stored (b, q, r), not as the reference's V^T (b, r, q): the GEMMs run
// as fast either way, and U and V then share one layout and one set of
// formulas (blast_factorize.h).
//
// Init (from scratch): V ~ N(0, 1/q), s ~ N(0, 1), U ~ N(0, 1/(3 b r)), so
// z and w stay of unit order and every entry of W has variance
//   r var(U) var(V) E[s^2] = r / (3 b r q) = 1 / (3 in),
// that of the dense init U(-1/sqrt(in), 1/sqrt(in)). Bias as Linear.
//
// Size from a spec: `blocks` is required (it must divide in and out); the
// rank is given or the largest whose cost fits the budget, capped at
// min(in, out): at that rank BLAST already represents every matrix (Monarch
// with full-rank blocks is BLAST with r = b min(p, q)), so more costs only.
//
// project(W): the paper's preconditioned gradient descent (blast_factorize.h)
// with the options in `projection` (300 iterations by default).
#include "layers/blast_factorize.h"
#include "layers/linear_spec.h"

namespace strata {

class Blast : public StructuredLinear {
 public:
  Blast(int64_t in_features, int64_t out_features, int64_t blocks, int64_t rank, LinearOptions options = {});

  // The spec with blocks checked and the rank solved (errors name the key).
  static LinearSpec resolve(const LinearSpec& spec, int64_t in_features, int64_t out_features);
  static StructureCost cost(int64_t in_features, int64_t out_features, int64_t blocks, int64_t rank);

  Tensor forward(const Tensor& x) override;
  int64_t num_params() const override;
  int64_t flops(int64_t tokens) const override;
  Tensor to_dense() const override;
  double project(const Tensor& weight) override;

  int64_t blocks() const { return blocks_; }
  int64_t rank() const { return rank_; }

  Tensor U, V, s;                    // (b, p, r), (b, q, r), (b, b, r)
  BlastFactorizeOptions projection;  // what project() runs

 private:
  int64_t blocks_, rank_;
};

}  // namespace strata
