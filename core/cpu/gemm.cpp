// GEMM through OpenBLAS. Row-major, transposes passed as BLAS transposes.
// Batches of small matrices run one matrix per thread (OpenBLAS's OpenMP
// build is single-threaded inside a parallel region); large ones run one
// after another, each on all threads.
#include <cblas.h>

#include "core/cpu/cpu_backend.h"

namespace strata::cpu {

namespace {

template <typename T>
void gemm_one(const GemmArgs& g, const T* a, const T* b, T* c) {
  CBLAS_TRANSPOSE ta = g.trans_a ? CblasTrans : CblasNoTrans;
  CBLAS_TRANSPOSE tb = g.trans_b ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<T, float>) {
    cblas_sgemm(CblasRowMajor, ta, tb, int(g.m), int(g.n), int(g.k), float(g.alpha), a, int(g.lda), b,
                int(g.ldb), float(g.beta), c, int(g.ldc));
  } else {
    cblas_dgemm(CblasRowMajor, ta, tb, int(g.m), int(g.n), int(g.k), g.alpha, a, int(g.lda), b, int(g.ldb),
                g.beta, c, int(g.ldc));
  }
}

}  // namespace

void CpuBackend::gemm(const GemmArgs& g) {
  dispatch_floating(g.dtype, "gemm", [&](auto t) {
    using T = decltype(t);
    const T* a = static_cast<const T*>(g.a);
    const T* b = static_cast<const T*>(g.b);
    T* c = static_cast<T*>(g.c);
    const bool small = g.m * g.n * g.k < 128 * 128 * 128;
#pragma omp parallel for schedule(static) if (g.batch > 1 && small)
    for (int64_t i = 0; i < g.batch; ++i) {
      gemm_one<T>(g, a + i * g.stride_a, b + i * g.stride_b, c + i * g.stride_c);
    }
  });
}

}  // namespace strata::cpu
