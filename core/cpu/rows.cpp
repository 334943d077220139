// Fused row kernels over the last dim: softmax and log-softmax, layer norm,
// cross-entropy. One pass per row keeps each row in cache; rows are
// independent, so the work splits over rows. Weight/bias gradients of layer
// norm are summed per fixed block of rows, then in block order, so results do
// not depend on the number of threads.
#include <cmath>
#include <limits>
#include <vector>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/vector_math.h"

namespace strata::cpu {

namespace {

int64_t rows_of(const Tensor& x) { return x.dim() == 0 ? 1 : x.numel() / x.size(-1); }
int64_t cols_of(const Tensor& x) { return x.dim() == 0 ? 1 : x.size(-1); }

template <typename T>
T row_max(const T* x, int64_t n) {
  T m = -std::numeric_limits<T>::infinity();
#pragma omp simd reduction(max : m)
  for (int64_t j = 0; j < n; ++j) m = x[j] > m ? x[j] : m;
  return m;
}

}  // namespace

void CpuBackend::softmax(const Tensor& x, const Tensor& y, bool log) {
  dispatch_floating(x.dtype(), "softmax", [&](auto t) {
    using T = decltype(t);
    const T* px = static_cast<const T*>(x.raw_data());
    T* py = static_cast<T*>(y.raw_data());
    const int64_t rows = rows_of(x), n = cols_of(x);
#pragma omp parallel for schedule(static) if (rows * n >= kParallelGrain)
    for (int64_t r = 0; r < rows; ++r) {
      const T* xr = px + r * n;
      T* yr = py + r * n;
      T m = row_max(xr, n);
      T s = 0;
#pragma omp simd reduction(+ : s)
      for (int64_t j = 0; j < n; ++j) {
        yr[j] = std::exp(xr[j] - m);
        s += yr[j];
      }
      if (log) {
        T shift = m + std::log(s);
#pragma omp simd
        for (int64_t j = 0; j < n; ++j) yr[j] = xr[j] - shift;
      } else {
        T inv = T(1) / s;
#pragma omp simd
        for (int64_t j = 0; j < n; ++j) yr[j] *= inv;
      }
    }
  });
}

void CpuBackend::softmax_backward(const Tensor& y, const Tensor& dy, const Tensor& dx, bool log) {
  dispatch_floating(y.dtype(), "softmax_backward", [&](auto t) {
    using T = decltype(t);
    const T* py = static_cast<const T*>(y.raw_data());
    const T* pdy = static_cast<const T*>(dy.raw_data());
    T* pdx = static_cast<T*>(dx.raw_data());
    const int64_t rows = rows_of(y), n = cols_of(y);
#pragma omp parallel for schedule(static) if (rows * n >= kParallelGrain)
    for (int64_t r = 0; r < rows; ++r) {
      const T* yr = py + r * n;
      const T* gr = pdy + r * n;
      T* out = pdx + r * n;
      T acc = 0;
      if (log) {
#pragma omp simd reduction(+ : acc)
        for (int64_t j = 0; j < n; ++j) acc += gr[j];
#pragma omp simd
        for (int64_t j = 0; j < n; ++j) out[j] = gr[j] - std::exp(yr[j]) * acc;
      } else {
#pragma omp simd reduction(+ : acc)
        for (int64_t j = 0; j < n; ++j) acc += gr[j] * yr[j];
#pragma omp simd
        for (int64_t j = 0; j < n; ++j) out[j] = yr[j] * (gr[j] - acc);
      }
    }
  });
}

void CpuBackend::layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, double eps, const Tensor& y,
                            const Tensor& mean, const Tensor& rstd) {
  dispatch_floating(x.dtype(), "layer_norm", [&](auto t) {
    using T = decltype(t);
    const T* px = static_cast<const T*>(x.raw_data());
    const T* pw = w.defined() ? static_cast<const T*>(w.raw_data()) : nullptr;
    const T* pb = b.defined() ? static_cast<const T*>(b.raw_data()) : nullptr;
    T* py = static_cast<T*>(y.raw_data());
    T* pm = static_cast<T*>(mean.raw_data());
    T* ps = static_cast<T*>(rstd.raw_data());
    const int64_t rows = rows_of(x), n = cols_of(x);
#pragma omp parallel for schedule(static) if (rows * n >= kParallelGrain)
    for (int64_t r = 0; r < rows; ++r) {
      const T* xr = px + r * n;
      T* yr = py + r * n;
      double sum = 0.0;
#pragma omp simd reduction(+ : sum)
      for (int64_t j = 0; j < n; ++j) sum += double(xr[j]);
      const T mu = T(sum / double(n));
      double var = 0.0;  // two passes: no cancellation for large means
#pragma omp simd reduction(+ : var)
      for (int64_t j = 0; j < n; ++j) {
        double d = double(xr[j] - mu);
        var += d * d;
      }
      const T inv = T(1.0 / std::sqrt(var / double(n) + eps));
      pm[r] = mu;
      ps[r] = inv;
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) {
        T v = (xr[j] - mu) * inv;
        if (pw) v *= pw[j];
        if (pb) v += pb[j];
        yr[j] = v;
      }
    }
  });
}

void CpuBackend::layer_norm_backward(const Tensor& x, const Tensor& w, const Tensor& mean, const Tensor& rstd,
                                     const Tensor& dy, const Tensor& dx, const Tensor& dw, const Tensor& db) {
  dispatch_floating(x.dtype(), "layer_norm_backward", [&](auto t) {
    using T = decltype(t);
    const T* px = static_cast<const T*>(x.raw_data());
    const T* pw = w.defined() ? static_cast<const T*>(w.raw_data()) : nullptr;
    const T* pm = static_cast<const T*>(mean.raw_data());
    const T* ps = static_cast<const T*>(rstd.raw_data());
    const T* pdy = static_cast<const T*>(dy.raw_data());
    T* pdx = static_cast<T*>(dx.raw_data());
    const int64_t rows = rows_of(x), n = cols_of(x);
    constexpr int64_t kRowBlock = 64;
    const int64_t blocks = (rows + kRowBlock - 1) / kRowBlock;
    const bool affine = dw.defined();
    // Per-block partial sums of dw and db: [block][2][n].
    std::vector<T> partial(affine ? size_t(blocks * 2 * n) : 0, T(0));
#pragma omp parallel for schedule(static) if (rows * n >= kParallelGrain)
    for (int64_t blk = 0; blk < blocks; ++blk) {
      T* pdw = affine ? partial.data() + blk * 2 * n : nullptr;
      T* pdb = affine ? pdw + n : nullptr;
      for (int64_t r = blk * kRowBlock; r < std::min(rows, (blk + 1) * kRowBlock); ++r) {
        const T* xr = px + r * n;
        const T* gr = pdy + r * n;
        T* out = pdx + r * n;
        const T mu = pm[r], inv = ps[r];
        T mean_g = 0, mean_gx = 0;  // means of (dy*w) and (dy*w*xhat)
        for (int64_t j = 0; j < n; ++j) {
          T xhat = (xr[j] - mu) * inv;
          T g = pw ? gr[j] * pw[j] : gr[j];
          mean_g += g;
          mean_gx += g * xhat;
          if (affine) {
            pdw[j] += gr[j] * xhat;
            pdb[j] += gr[j];
          }
        }
        mean_g /= T(n);
        mean_gx /= T(n);
        for (int64_t j = 0; j < n; ++j) {
          T xhat = (xr[j] - mu) * inv;
          T g = pw ? gr[j] * pw[j] : gr[j];
          out[j] = inv * (g - mean_g - xhat * mean_gx);
        }
      }
    }
    if (affine) {
      T* odw = static_cast<T*>(dw.raw_data());
      T* odb = static_cast<T*>(db.raw_data());
      for (int64_t blk = 0; blk < blocks; ++blk) {
        const T* pdw = partial.data() + blk * 2 * n;
        for (int64_t j = 0; j < n; ++j) {
          odw[j] += pdw[j];
          odb[j] += pdw[n + j];
        }
      }
    }
  });
}

void CpuBackend::cross_entropy(const Tensor& logits, const Tensor& target, double smoothing, int64_t ignore_index,
                               const Tensor& loss, const Tensor& lse) {
  dispatch_floating(logits.dtype(), "cross_entropy", [&](auto t) {
    using T = decltype(t);
    const T* px = static_cast<const T*>(logits.raw_data());
    const int64_t* pt = static_cast<const int64_t*>(target.raw_data());
    T* pl = static_cast<T*>(loss.raw_data());
    T* plse = static_cast<T*>(lse.raw_data());
    const int64_t rows = logits.size(0), n = logits.size(1);
#pragma omp parallel for schedule(static) if (rows * n >= kParallelGrain)
    for (int64_t r = 0; r < rows; ++r) {
      if (pt[r] == ignore_index) {
        pl[r] = T(0);
        plse[r] = T(0);
        continue;
      }
      const T* xr = px + r * n;
      T m = row_max(xr, n);
      T s = 0, total = 0;
#pragma omp simd reduction(+ : s, total)
      for (int64_t j = 0; j < n; ++j) {
        s += std::exp(xr[j] - m);
        total += xr[j];
      }
      T l = m + std::log(s);
      plse[r] = l;
      // -sum_j q_j log p_j with q = (1 - eps) onehot + eps / C
      pl[r] = l - T(1 - smoothing) * xr[pt[r]] - T(smoothing / double(n)) * total;
    }
  });
}

void CpuBackend::cross_entropy_backward(const Tensor& logits, const Tensor& target, const Tensor& lse,
                                        const Tensor& dloss, double smoothing, int64_t ignore_index,
                                        const Tensor& dlogits) {
  dispatch_floating(logits.dtype(), "cross_entropy_backward", [&](auto t) {
    using T = decltype(t);
    const T* px = static_cast<const T*>(logits.raw_data());
    const int64_t* pt = static_cast<const int64_t*>(target.raw_data());
    const T* plse = static_cast<const T*>(lse.raw_data());
    const T* pg = static_cast<const T*>(dloss.raw_data());
    T* pdx = static_cast<T*>(dlogits.raw_data());
    const int64_t rows = logits.size(0), n = logits.size(1);
    const T uniform = T(smoothing / double(n));
#pragma omp parallel for schedule(static) if (rows * n >= kParallelGrain)
    for (int64_t r = 0; r < rows; ++r) {
      T* out = pdx + r * n;
      if (pt[r] == ignore_index) {
        for (int64_t j = 0; j < n; ++j) out[j] = T(0);
        continue;
      }
      const T* xr = px + r * n;
      const T g = pg[r], l = plse[r];
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) out[j] = g * (std::exp(xr[j] - l) - uniform);
      out[pt[r]] -= g * T(1 - smoothing);
    }
  });
}

}  // namespace strata::cpu
