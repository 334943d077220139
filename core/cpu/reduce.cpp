// Reductions: sum over any set of dims, max over one dim.
// Every result is independent of the thread count: partial sums are taken
// over fixed-size chunks and combined in a fixed order.
#include <vector>

#include "core/cpu/cpu_backend.h"

namespace strata::cpu {

namespace {

// x's dims grouped into runs of reduced (R) or kept (K) dims, size-1 dims dropped.
struct ReducePattern {
  std::vector<int64_t> sizes;
  std::vector<bool> reduced;
};

ReducePattern reduce_pattern(const Shape& x_shape, const Shape& out_shape) {
  ReducePattern p;
  for (size_t d = 0; d < x_shape.size(); ++d) {
    if (x_shape[d] == 1) continue;
    bool r = out_shape[d] == 1;
    if (!p.sizes.empty() && p.reduced.back() == r) {
      p.sizes.back() *= x_shape[d];
    } else {
      p.sizes.push_back(x_shape[d]);
      p.reduced.push_back(r);
    }
  }
  return p;
}

constexpr int64_t kSumChunk = 4096;

// Sum of n contiguous values, chunked so the answer does not depend on threads.
template <typename T>
T sum_contiguous(const T* x, int64_t n) {
  int64_t chunks = (n + kSumChunk - 1) / kSumChunk;
  std::vector<double> partial(size_t(chunks), 0.0);
#pragma omp parallel for schedule(static) if (n >= kParallelGrain)
  for (int64_t c = 0; c < chunks; ++c) {
    double acc = 0.0;
    int64_t end = std::min(n, (c + 1) * kSumChunk);
    for (int64_t i = c * kSumChunk; i < end; ++i) acc += double(x[i]);
    partial[size_t(c)] = acc;
  }
  double total = 0.0;
  for (double v : partial) total += v;
  return T(total);
}

// out[o, k] = sum_r x[o, r, k] for an (outer, reduced, kept) block layout.
template <typename T>
void sum_middle(const T* x, T* out, int64_t outer, int64_t reduced, int64_t kept) {
  constexpr int64_t kColumnBlock = 256;
  int64_t blocks = (kept + kColumnBlock - 1) / kColumnBlock;
#pragma omp parallel for collapse(2) schedule(static) if (outer * reduced * kept >= kParallelGrain)
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t blk = 0; blk < blocks; ++blk) {
      int64_t k0 = blk * kColumnBlock, k1 = std::min(kept, k0 + kColumnBlock);
      T* dst = out + o * kept;
      for (int64_t k = k0; k < k1; ++k) dst[k] = T(0);
      for (int64_t r = 0; r < reduced; ++r) {
        const T* src = x + (o * reduced + r) * kept;
#pragma omp simd
        for (int64_t k = k0; k < k1; ++k) dst[k] += src[k];
      }
    }
  }
}

// The general case: any interleaving of reduced and kept dims, one thread.
template <typename T>
void sum_general(const T* x, T* out, const Shape& x_shape, const Shape& out_shape) {
  Shape out_strides = contiguous_strides(out_shape);
  int64_t n = shape_numel(x_shape);
  int64_t rank = int64_t(x_shape.size());
  std::vector<double> acc(size_t(shape_numel(out_shape)), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t rest = i, o = 0;
    for (int64_t d = rank - 1; d >= 0; --d) {
      int64_t idx = rest % x_shape[d];
      rest /= x_shape[d];
      if (out_shape[d] != 1) o += idx * out_strides[d];
    }
    acc[size_t(o)] += double(x[i]);
  }
  for (size_t o = 0; o < acc.size(); ++o) out[o] = T(acc[o]);
}

}  // namespace

void CpuBackend::sum(const Tensor& x, const Tensor& out) {
  dispatch_floating(x.dtype(), "sum", [&](auto t) {
    using T = decltype(t);
    const T* px = static_cast<const T*>(x.raw_data());
    T* po = static_cast<T*>(out.raw_data());
    ReducePattern p = reduce_pattern(x.shape(), out.shape());
    const auto& s = p.sizes;
    const auto& r = p.reduced;
    if (s.empty()) {
      po[0] = px[0];
    } else if (s.size() == 1 && r[0]) {
      po[0] = sum_contiguous(px, s[0]);
    } else if (s.size() == 1) {
      std::copy(px, px + s[0], po);
    } else if (s.size() == 2 && !r[0]) {  // K R: one sum per row
#pragma omp parallel for schedule(static) if (s[0] * s[1] >= kParallelGrain)
      for (int64_t i = 0; i < s[0]; ++i) {
        double acc = 0.0;
        const T* row = px + i * s[1];
        for (int64_t j = 0; j < s[1]; ++j) acc += double(row[j]);
        po[i] = T(acc);
      }
    } else if (s.size() == 2) {  // R K
      sum_middle(px, po, 1, s[0], s[1]);
    } else if (s.size() == 3 && !r[0]) {  // K R K
      sum_middle(px, po, s[0], s[1], s[2]);
    } else {
      sum_general(px, po, x.shape(), out.shape());
    }
  });
}

void CpuBackend::max(const Tensor& x, int dim, const Tensor& values, const Tensor& indices) {
  dispatch_floating(x.dtype(), "max", [&](auto t) {
    using T = decltype(t);
    const T* px = static_cast<const T*>(x.raw_data());
    T* pv = static_cast<T*>(values.raw_data());
    int64_t* pi = static_cast<int64_t*>(indices.raw_data());
    int64_t outer = 1, inner = 1, n = x.shape()[dim];
    for (int d = 0; d < dim; ++d) outer *= x.shape()[d];
    for (int64_t d = dim + 1; d < x.dim(); ++d) inner *= x.shape()[d];
#pragma omp parallel for collapse(2) schedule(static) if (x.numel() >= kParallelGrain)
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        const T* src = px + o * n * inner + i;
        T best = src[0];
        int64_t best_at = 0;
        for (int64_t j = 1; j < n; ++j) {
          T v = src[j * inner];
          // NaN wins, as in PyTorch: a NaN input must show in the max.
          if (v > best || (v != v && best == best)) {
            best = v;
            best_at = j;
          }
        }
        pv[o * inner + i] = best;
        pi[o * inner + i] = best_at;
      }
    }
  });
}

}  // namespace strata::cpu
