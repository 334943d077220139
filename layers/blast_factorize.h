#pragma once
// Factorising a dense W (m x n) into BLAST factors (the paper's
// preconditioned gradient descent, PrecGD; plain GD for comparison).
//
//   W ~ W_hat,  W_hat_ij = U_i diag(s_ij) V_j^T,  U (b, p, r), V (b, q, r), s (b, b, r),
//   p = m/b, q = n/b, minimising L = ||W_hat - W||_F^2.
//
// Algorithm (shared/research/structures.md, "Factorising a pre-trained W"):
//  - W is divided by its scalar standard deviation; s is multiplied back at the end.
//  - Init: U, V ~ N(0, 1) * 1e-3 / sqrt(r); s ~ N(0, 1).
//  - T iterations with step lr_t = lr (1 - t/T). Each updates U, then V, then
//    s, each from the residual R = W_hat - W of the factors so far, with
//    damping eps = delta * ||R||_F and the block gradients of L
//      G_Ui = 2 R_i Cbar_i^T,     Cbar_i = [s_i1 * V_1^T ... s_ib * V_b^T]   (r x n)
//      G_Vj = 2 R_:j^T Bbar_j,    Bbar_j = [U_1 diag(s_1j); ...; U_b diag(s_bj)] (m x r)
//      G_sij = 2 diag(U_i^T R_ij V_j)
//    PrecGD steps along
//      G_Ui (Cbar_i Cbar_i^T + eps I)^-1,  G_Vj (Bbar_j^T Bbar_j + eps I)^-1,
//      ((U_i^T U_i) o (V_j^T V_j) + eps I)^-1 G_sij
//    (the s preconditioner as the formula states, U_i with V_j; the reference
//    code swaps i and j there). We store V (q x r), so the paper's left
//    preconditioner of V^T is the right one of V. As in the reference, L has
//    no 1/2, so lr = 1 is twice the damped alternating least-squares step:
//    it overshoots early, which measured better than the exact step (lr 0.5)
//    at r = r*, where the exact step stalls more often in poor stationary
//    points; with r > r* both converge.
//  - GD takes the raw gradients with one scalar step per factor:
//    lr_t G / lambda_max, lambda_max the largest eigenvalue over the blocks
//    of the same Gram matrices (without eps). At lr = 1 that starts at the
//    edge of stability of each block's quadratic subproblem and moves inside
//    it as lr_t decays, so GD needs no tuning to W's scale. What it lacks is
//    the matrix preconditioner: with r > r* the small eigen-directions then
//    converge slowly and GD stalls (the paper's figure; `strata bench
//    factorize`).
// Everything runs in f64 whatever W's dtype.
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace strata {

struct BlastFactors {
  Tensor U, V, s;  // (b, p, r), (b, q, r), (b, b, r)
};

// The dense (b p) x (b q) matrix of BLAST factors, in their dtype.
Tensor blast_dense(const Tensor& U, const Tensor& V, const Tensor& s);

struct BlastFactorizeOptions {
  int64_t iterations = 300;  // T (the reference's Llama setting)
  bool precondition = true;  // false: plain GD
  double lr = 1.0;           // initial step, decayed linearly towards 0
  double delta = 0.1;        // damping eps = delta ||R||_F (the reference's Llama setting)
  uint64_t seed = 0;         // of the random initialisation
};

struct BlastFactorization {
  BlastFactors factors;            // f64, in W's scale
  std::vector<double> rel_errors;  // ||W - W_hat||_F / ||W||_F after each iteration
  double rel_error = 0.0;          // the final one
};

BlastFactorization blast_factorize(const Tensor& weight, int64_t blocks, int64_t rank,
                                   const BlastFactorizeOptions& options = {});

}  // namespace strata
