// BLAST's coupling stage as ops: argument checks, allocation, dispatch to
// the backend's fused kernels (core/cpu/blast.cpp). The GEMM stages around
// it use matmul and matmul_out (ops.cpp).
#include "core/ops.h"

namespace strata::ops {

namespace {

// s (b, b, r) and z (b, N, r) of one floating dtype and device.
void check_mix_args(const char* op, const Tensor& s, const Tensor& z) {
  if (!s.defined() || !z.defined()) fail(op, "got an undefined tensor");
  check_same_device(op, s, z);
  check_same_dtype(op, s, z);
  check_floating(op, s);
  if (s.dim() != 3 || s.size(0) != s.size(1) || z.dim() != 3 || z.size(0) != s.size(0) ||
      z.size(2) != s.size(2)) {
    fail(op, "expected s (b, b, r) and z (b, N, r), got {} and {}", shape_str(s.shape()), shape_str(z.shape()));
  }
}

}  // namespace

Tensor blast_mix(const Tensor& s, const Tensor& z) {
  check_mix_args("blast_mix", s, z);
  Tensor w = empty(z.shape(), z.options());
  if (w.numel()) backend_of(w).blast_mix(contiguous(s), contiguous(z), w);
  return w;
}

BlastMixGrads blast_mix_backward(const Tensor& s, const Tensor& z, const Tensor& dw, bool need_dz, bool need_ds) {
  check_mix_args("blast_mix_backward", s, z);
  check_mix_args("blast_mix_backward", s, dw);
  if (dw.shape() != z.shape()) {
    fail("blast_mix_backward", "dw {} must have z's shape {}", shape_str(dw.shape()), shape_str(z.shape()));
  }
  BlastMixGrads g;
  if (need_dz) g.dz = empty(z.shape(), z.options());
  if (need_ds) g.ds = empty(s.shape(), s.options());
  if (!need_dz && !need_ds) return g;
  if (z.numel() == 0) {  // no tokens: nothing flows to s
    if (need_ds) fill_(g.ds, 0.0);
    return g;
  }
  backend_of(z).blast_mix_backward(contiguous(s), contiguous(z), contiguous(dw), g.dz, g.ds);
  return g;
}

}  // namespace strata::ops
