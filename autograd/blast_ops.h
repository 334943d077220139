#pragma once
// blast_linear: BLAST's y = x W^T + bias as one differentiable op, never
// forming W. With b x b blocks, p = out/b, q = in/b and rank r,
//   W_ij = U_i diag(s_ij) V_j^T,  U (b, p, r), V (b, q, r), s (b, b, r),
// and x (..., in) viewed as N rows of b column blocks x_j (N, q):
//   1. z_j = x_j V_j                  (b, N, r)   one strided batched GEMM
//   2. w_i = sum_j s_ij * z_j         (b, N, r)   fused kernel (ops::blast_mix)
//   3. y_i = w_i U_i^T (+ bias_i)     (N, b, p)   one strided batched GEMM into y
// Backward, with g = dL/dy viewed as (b, N, p):
//   dw_i = g_i U_i, dU_i = g_i^T w_i, (dz, ds) = blast_mix_backward(s, z, dw),
//   dV_j = x_j^T dz_j, dx_j = dz_j V_j^T (written into dx's column block j),
//   dbias = sum over rows of g.
// Every stage reads and writes column blocks in place (no transposes or
// copies of x, y, dx); each GEMM is 2 N r p or 2 N r q flops per block.
// The GEMMs may run at a rank zero-padded to a multiple of 8 (at most 1/64
// more work), where OpenBLAS is faster; the results are the same.
#include "core/tensor.h"

namespace strata {

// bias may be undefined. x (..., in) -> (..., out). Registered as "blast_linear".
Tensor blast_linear(const Tensor& x, const Tensor& U, const Tensor& V, const Tensor& s, const Tensor& bias = Tensor());

}  // namespace strata
