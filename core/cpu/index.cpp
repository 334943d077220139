// Gathers and scatters along one dim: index_select and index_add (the
// backward of embedding). Indices are i64 and already range-checked.
#include <cstring>

#include "core/cpu/cpu_backend.h"

namespace strata::cpu {

namespace {

struct DimSplit {
  int64_t outer = 1, size = 1, inner = 1;
};

DimSplit split_at(const Shape& shape, int dim) {
  DimSplit s;
  for (int d = 0; d < int(shape.size()); ++d) {
    if (d < dim) s.outer *= shape[d];
    else if (d == dim) s.size = shape[d];
    else s.inner *= shape[d];
  }
  return s;
}

}  // namespace

void CpuBackend::index_select(const Tensor& x, int dim, const Tensor& index, const Tensor& out) {
  const DimSplit s = split_at(x.shape(), dim);
  const int64_t* idx = static_cast<const int64_t*>(index.raw_data());
  const int64_t count = index.numel();
  const size_t row_bytes = size_t(s.inner) * dtype_size(x.dtype());
  const char* src = static_cast<const char*>(x.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
#pragma omp parallel for collapse(2) schedule(static) if (out.numel() >= kParallelGrain)
  for (int64_t o = 0; o < s.outer; ++o) {
    for (int64_t i = 0; i < count; ++i) {
      std::memcpy(dst + size_t(o * count + i) * row_bytes, src + size_t(o * s.size + idx[i]) * row_bytes, row_bytes);
    }
  }
}

void CpuBackend::index_add(const Tensor& out, int dim, const Tensor& index, const Tensor& src) {
  dispatch_floating(out.dtype(), "index_add", [&](auto t) {
    using T = decltype(t);
    const DimSplit s = split_at(out.shape(), dim);
    const int64_t* idx = static_cast<const int64_t*>(index.raw_data());
    const int64_t count = index.numel();
    const T* ps = static_cast<const T*>(src.raw_data());
    T* po = static_cast<T*>(out.raw_data());
    // Threads own disjoint column ranges and walk the indices in order, so
    // repeated indices never race and the sum order is fixed.
    constexpr int64_t kColumnBlock = 64;
    const int64_t blocks = (s.inner + kColumnBlock - 1) / kColumnBlock;
#pragma omp parallel for collapse(2) schedule(static) if (src.numel() >= kParallelGrain)
    for (int64_t o = 0; o < s.outer; ++o) {
      for (int64_t blk = 0; blk < blocks; ++blk) {
        int64_t c0 = blk * kColumnBlock, c1 = std::min(s.inner, c0 + kColumnBlock);
        for (int64_t i = 0; i < count; ++i) {
          T* dst = po + (o * s.size + idx[i]) * s.inner;
          const T* row = ps + (o * count + i) * s.inner;
#pragma omp simd
          for (int64_t c = c0; c < c1; ++c) dst[c] += row[c];
        }
      }
    }
  });
}

}  // namespace strata::cpu
