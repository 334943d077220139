#pragma once
// Dense linear algebra on the CPU through LAPACK (the copy inside OpenBLAS):
// the SVD that projections onto low-rank and Monarch structures need, and
// the symmetric positive definite solves of BLAST's preconditioned gradient
// descent. Not differentiable, not on the Backend: these run once per
// projection, not per training step.
#include "core/tensor.h"

namespace strata::linalg {

// Reduced SVD of a (m x n): a = u diag(s) vt with u (m x k), s (k), vt (k x n),
// k = min(m, n), singular values in descending order. f32 or f64.
struct SVD {
  Tensor u, s, vt;
};
SVD svd(const Tensor& a);

// x = a^{-1} b for a symmetric positive definite a (n x n) and b (n x r),
// by Cholesky. Throws when a is not positive definite.
Tensor solve_spd(const Tensor& a, const Tensor& b);

}  // namespace strata::linalg
