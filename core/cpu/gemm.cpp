// GEMM through OpenBLAS, row-major, transposes passed as BLAS transposes.
//
// We split the work ourselves and call OpenBLAS single-threaded on each
// piece. Multi-threaded OpenBLAS sums in a different order for different
// thread counts (measured: 1 vs 2 threads differ in the last bits for most
// shapes), and Strata promises results independent of the thread count. So
// each matrix is cut into tiles along its larger output dim, the tiles depend
// on the shape alone, and the same tile calls run whatever the threads.
// OpenBLAS's OpenMP build runs single-threaded inside an active parallel
// region, and with one thread there is only one to use. Measured against
// 2-thread OpenBLAS on this machine the tiling costs nothing (bench/).
//
// bf16 operands (autocast, core/autocast.h): OpenBLAS here has no bf16
// GEMM, so the operands are rounded to bf16 into f32 copies and multiplied
// in f32. Products of two bf16 values are exact in f32, so this is the
// result a bf16 tensor core with f32 accumulation computes, up to summation
// order: the CPU is the reference for the policy, not a fast path.
#include <cblas.h>

#include <algorithm>
#include <vector>

#include "core/cpu/cpu_backend.h"

namespace strata::cpu {

namespace {

template <typename T>
void gemm_tile(const GemmArgs& g, int64_t m, int64_t n, const T* a, const T* b, T* c) {
  CBLAS_TRANSPOSE ta = g.trans_a ? CblasTrans : CblasNoTrans;
  CBLAS_TRANSPOSE tb = g.trans_b ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<T, float>) {
    cblas_sgemm(CblasRowMajor, ta, tb, int(m), int(n), int(g.k), float(g.alpha), a, int(g.lda), b, int(g.ldb),
                float(g.beta), c, int(g.ldc));
  } else {
    cblas_dgemm(CblasRowMajor, ta, tb, int(m), int(n), int(g.k), g.alpha, a, int(g.lda), b, int(g.ldb), g.beta, c,
                int(g.ldc));
  }
}

// Tiles of one matrix: up to 8 chunks of at least 128 rows (or columns).
struct Tiling {
  bool split_rows;
  int64_t chunk, count;
};

Tiling tiling_for(const GemmArgs& g) {
  Tiling t;
  t.split_rows = g.m >= g.n;  // repack the smaller operand once per tile
  int64_t dim = t.split_rows ? g.m : g.n;
  t.chunk = std::max<int64_t>(128, ((dim + 7) / 8 + 15) / 16 * 16);
  t.count = (dim + t.chunk - 1) / t.chunk;
  return t;
}

// The elements [data, data + extent) rounded to the nearest bf16, as f32.
std::vector<float> rounded_to_bf16(const float* data, int64_t extent) {
  std::vector<float> out(static_cast<size_t>(extent));
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < extent; ++i) out[size_t(i)] = bf16_to_float(float_to_bf16(data[i]));
  return out;
}

}  // namespace

void CpuBackend::gemm(const GemmArgs& g) {
  if (g.bf16_operands) return gemm_bf16_operands(g);
  dispatch_floating(g.dtype, "gemm", [&](auto zero) {
    using T = decltype(zero);
    const T* a = static_cast<const T*>(g.a);
    const T* b = static_cast<const T*>(g.b);
    T* c = static_cast<T*>(g.c);
    const Tiling t = tiling_for(g);
    const int64_t units = g.batch * t.count;
    // No `if` clause: even one tile must run inside the region, or OpenBLAS
    // would thread it internally and change its summation order.
#pragma omp parallel for schedule(dynamic)
    for (int64_t u = 0; u < units; ++u) {
      const int64_t i = u / t.count, start = (u % t.count) * t.chunk;
      const T* ai = a + i * g.stride_a;
      const T* bi = b + i * g.stride_b;
      T* ci = c + i * g.stride_c;
      if (t.split_rows) {
        const int64_t rows = std::min(t.chunk, g.m - start);
        const T* a_rows = ai + start * (g.trans_a ? 1 : g.lda);
        gemm_tile<T>(g, rows, g.n, a_rows, bi, ci + start * g.ldc);
      } else {
        const int64_t cols = std::min(t.chunk, g.n - start);
        const T* b_cols = bi + start * (g.trans_b ? g.ldb : 1);
        gemm_tile<T>(g, g.m, cols, ai, b_cols, ci + start);
      }
    }
  });
}

void CpuBackend::gemm_bf16_operands(const GemmArgs& g) {
  if (g.dtype != DType::f32) fail("gemm", "bf16 operands need f32 tensors, got {}", dtype_name(g.dtype));
  const std::vector<float> a = rounded_to_bf16(
      static_cast<const float*>(g.a), gemm_operand_extent(g.trans_a, g.m, g.k, g.lda, g.batch, g.stride_a));
  const std::vector<float> b = rounded_to_bf16(
      static_cast<const float*>(g.b), gemm_operand_extent(g.trans_b, g.k, g.n, g.ldb, g.batch, g.stride_b));
  GemmArgs rounded = g;
  rounded.bf16_operands = false;
  rounded.a = a.data();
  rounded.b = b.data();
  gemm(rounded);
}

}  // namespace strata::cpu
