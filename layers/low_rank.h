#pragma once
// LowRank: W = U V^T of rank r, U (out x r), V (in x r).
//   forward:  y = (x V) U^T (+ b)   two GEMMs, x (..., in) -> h (..., r) -> y (..., out)
//   params:   r (in + out) (+ out);  flops(T) = 2 T r (in + out)
//   project:  truncated SVD W ~ U_r S_r V_r^T, U = U_r sqrt(S_r), V = V_r sqrt(S_r)
//             (optimal in Frobenius norm, Eckart-Young)
//   init:     U, V ~ N(0, sigma^2) with r sigma^4 = 1/(3 in): an entry of
//             U V^T sums r products of two independent N(0, sigma^2), so it has
//             the dense init's variance 1/(3 in) (U(-1/sqrt(in), 1/sqrt(in))).
//             The factors share one scale (balanced), like an SVD projection.
// Parameters in order: U, V, bias.
#include "layers/linear.h"
#include "layers/linear_spec.h"

namespace strata {

class LowRank : public StructuredLinear {
 public:
  LowRank(int64_t in_features, int64_t out_features, int64_t rank, LinearOptions options = {});

  Tensor forward(const Tensor& x) override;
  int64_t num_params() const override;
  int64_t flops(int64_t tokens) const override;
  Tensor to_dense() const override;
  double project(const Tensor& weight) override;

  int64_t rank() const { return rank_; }

  // Weight parameters and FLOPs per token at a rank (no bias).
  static StructureCost cost(int64_t in_features, int64_t out_features, int64_t rank);
  // The spec with rank solved (budget) or checked (1 <= rank <= min(in, out));
  // `blocks` is an error.
  static LinearSpec resolve(const LinearSpec& spec, int64_t in_features, int64_t out_features);

  Tensor U;  // (out, r)
  Tensor V;  // (in, r)

 private:
  int64_t rank_;
};

}  // namespace strata
