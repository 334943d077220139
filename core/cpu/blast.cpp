// BLAST's coupling stage on the CPU: one pass over memory each way.
//   forward   w[i, n, :] = sum_j s[i, j, :] * z[j, n, :]
//   backward  dz[j, n, :] = sum_i s[i, j, :] * dw[i, n, :]
//             ds[i, j, :] = sum_n z[j, n, :] * dw[i, n, :]
// with s (b, b, r) and z, w, dz, dw (b, N, r), contiguous. Composing generic
// ops instead would materialise a (b, b, N, r) product (the reference's
// broadcast-and-sum) or take b^2 passes over z and dw.
//
// Results do not depend on the thread count: rows are cut into chunks of
// fixed size, every dz/w element sums over its block index in a fixed order
// within one thread, and ds is summed per chunk, then over chunks in order.
#include <algorithm>
#include <vector>

#include "core/cpu/cpu_backend.h"

namespace strata::cpu {

namespace {

constexpr int64_t kRowChunk = 64;  // rows per work item; small enough for z and dw rows to stay in L1/L2

int64_t row_chunks(int64_t rows) { return (rows + kRowChunk - 1) / kRowChunk; }

// out[:] = sum_t coef[t * coef_step][:] * in[t * in_step][:] over t < count, for r elements.
template <typename T>
inline void weighted_sum(T* out, const T* coef, int64_t coef_step, const T* in, int64_t in_step, int64_t count,
                         int64_t r) {
#pragma omp simd
  for (int64_t k = 0; k < r; ++k) out[k] = coef[k] * in[k];
  for (int64_t t = 1; t < count; ++t) {
    const T* c = coef + t * coef_step;
    const T* x = in + t * in_step;
#pragma omp simd
    for (int64_t k = 0; k < r; ++k) out[k] += c[k] * x[k];
  }
}

template <typename T>
void mix_forward(const T* s, const T* z, T* w, int64_t b, int64_t rows, int64_t r) {
  const int64_t chunks = row_chunks(rows);
#pragma omp parallel for schedule(static) if (b * b * rows * r >= kParallelGrain)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t n1 = std::min(rows, (c + 1) * kRowChunk);
    for (int64_t i = 0; i < b; ++i) {
      for (int64_t n = c * kRowChunk; n < n1; ++n) {
        // w[i, n] = sum_j s[i, j] * z[j, n]
        weighted_sum(w + (i * rows + n) * r, s + i * b * r, r, z + n * r, rows * r, b, r);
      }
    }
  }
}

// Adds z[j, n, :] * dw[i, n, :] into acc[i, j, :] for every i, j and the rows [n0, n1).
template <typename T>
void accumulate_ds(T* acc, const T* z, const T* dw, int64_t b, int64_t rows, int64_t r, int64_t n0, int64_t n1) {
  for (int64_t n = n0; n < n1; ++n) {
    for (int64_t i = 0; i < b; ++i) {
      const T* g = dw + (i * rows + n) * r;
      for (int64_t j = 0; j < b; ++j) {
        const T* x = z + (j * rows + n) * r;
        T* a = acc + (i * b + j) * r;
#pragma omp simd
        for (int64_t k = 0; k < r; ++k) a[k] += x[k] * g[k];
      }
    }
  }
}

template <typename T>
void mix_backward(const T* s, const T* z, const T* dw, T* dz, T* ds, int64_t b, int64_t rows, int64_t r) {
  const int64_t chunks = row_chunks(rows), block = b * b * r;
  std::vector<T> partial(ds ? size_t(chunks * block) : 0);
#pragma omp parallel for schedule(static) if (b * b * rows * r >= kParallelGrain)
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t n0 = c * kRowChunk, n1 = std::min(rows, n0 + kRowChunk);
    if (dz) {
      for (int64_t j = 0; j < b; ++j) {
        for (int64_t n = n0; n < n1; ++n) {
          // dz[j, n] = sum_i s[i, j] * dw[i, n]
          weighted_sum(dz + (j * rows + n) * r, s + j * r, b * r, dw + n * r, rows * r, b, r);
        }
      }
    }
    if (ds) {
      T* acc = partial.data() + c * block;
      std::fill(acc, acc + block, T(0));
      accumulate_ds(acc, z, dw, b, rows, r, n0, n1);
    }
  }
  if (!ds) return;
  // Chunks in order: the same sum whatever thread computed each partial.
  std::copy(partial.begin(), partial.begin() + block, ds);
  for (int64_t c = 1; c < chunks; ++c) {
    const T* p = partial.data() + c * block;
#pragma omp simd
    for (int64_t e = 0; e < block; ++e) ds[e] += p[e];
  }
}

}  // namespace

void CpuBackend::blast_mix(const Tensor& s, const Tensor& z, const Tensor& w) {
  dispatch_floating(z.dtype(), "blast_mix", [&](auto zero) {
    using T = decltype(zero);
    mix_forward<T>(s.data<T>(), z.data<T>(), w.data<T>(), z.size(0), z.size(1), z.size(2));
  });
}

void CpuBackend::blast_mix_backward(const Tensor& s, const Tensor& z, const Tensor& dw, const Tensor& dz,
                                    const Tensor& ds) {
  dispatch_floating(z.dtype(), "blast_mix_backward", [&](auto zero) {
    using T = decltype(zero);
    mix_backward<T>(s.data<T>(), z.data<T>(), dw.data<T>(), dz.defined() ? dz.data<T>() : nullptr,
                    ds.defined() ? ds.data<T>() : nullptr, z.size(0), z.size(1), z.size(2));
  });
}

}  // namespace strata::cpu
