// Fused row kernels over the last dim: softmax and log-softmax (forward and
// backward), layer norm (forward and backward), cross-entropy (forward and
// backward).
//
// Shapes: x, y, dy, dx are (rows, n) contiguous; per-row statistics (mean,
// rstd, loss, lse, dloss, target) have `rows` entries; layer-norm w, b, dw,
// db have n. One thread block per row (its size from row_threads(n)), with
// block-wide max/sum reductions. Formulas and accumulation precision follow
// core/cpu/rows.cpp: layer-norm statistics in double, the rest in T.
//
// Layer-norm dw/db are column sums over rows: partial sums per fixed block
// of rows into `scratch` [row block][2][n] (double), then added up in block
// order, so the result does not depend on scheduling.
#include "core/cuda/common.cuh"

namespace strata::cuda {

namespace {

template <typename T>
__global__ void softmax_kernel(const T* x, T* y, int64_t n, bool log_softmax) {
  __shared__ T shared[32];
  const T* xr = x + int64_t(blockIdx.x) * n;
  T* yr = y + int64_t(blockIdx.x) * n;
  T m = negative_infinity<T>();
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) m = max(m, xr[j]);
  m = block_max(m, shared);
  T s = 0;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) s += exp(xr[j] - m);
  s = block_sum(s, shared);
  if (log_softmax) {
    const T shift = m + log(s);
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) yr[j] = xr[j] - shift;
  } else {
    const T inv = T(1) / s;
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) yr[j] = exp(xr[j] - m) * inv;
  }
}

// dx = y * (dy - sum(dy * y)) for softmax, dy - exp(y) * sum(dy) for log-softmax.
template <typename T>
__global__ void softmax_backward_kernel(const T* y, const T* dy, T* dx, int64_t n, bool log_softmax) {
  __shared__ T shared[32];
  const int64_t base = int64_t(blockIdx.x) * n;
  T acc = 0;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) acc += log_softmax ? dy[base + j] : dy[base + j] * y[base + j];
  acc = block_sum(acc, shared);
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    const T yj = y[base + j], gj = dy[base + j];
    dx[base + j] = log_softmax ? gj - exp(yj) * acc : yj * (gj - acc);
  }
}

template <typename T>
__global__ void layer_norm_kernel(const T* x, const T* w, const T* b, double eps, T* y, T* mean, T* rstd,
                                  int64_t n) {
  __shared__ double shared[32];
  const int64_t row = blockIdx.x;
  const T* xr = x + row * n;
  T* yr = y + row * n;
  double sum = 0.0;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) sum += double(xr[j]);
  const T mu = T(block_sum(sum, shared) / double(n));
  double var = 0.0;  // two passes: no cancellation for large means
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    const double d = double(xr[j] - mu);
    var += d * d;
  }
  const T inv = T(1.0 / sqrt(block_sum(var, shared) / double(n) + eps));
  if (threadIdx.x == 0) {
    mean[row] = mu;
    rstd[row] = inv;
  }
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    T v = (xr[j] - mu) * inv;
    if (w) v *= w[j];
    if (b) v += b[j];
    yr[j] = v;
  }
}

// dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * w.
template <typename T>
__global__ void layer_norm_dx_kernel(const T* x, const T* w, const T* mean, const T* rstd, const T* dy, T* dx,
                                     int64_t n) {
  __shared__ T shared[32];
  const int64_t row = blockIdx.x;
  const T* xr = x + row * n;
  const T* gr = dy + row * n;
  const T mu = mean[row], inv = rstd[row];
  T sum_g = 0, sum_gx = 0;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    const T g = w ? gr[j] * w[j] : gr[j];
    sum_g += g;
    sum_gx += g * (xr[j] - mu) * inv;
  }
  const T mean_g = block_sum(sum_g, shared) / T(n);
  const T mean_gx = block_sum(sum_gx, shared) / T(n);
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    const T xhat = (xr[j] - mu) * inv;
    const T g = w ? gr[j] * w[j] : gr[j];
    dx[row * n + j] = inv * (g - mean_g - xhat * mean_gx);
  }
}

// Rows per partial block of the dw/db sums: at most 256 blocks of scratch.
int64_t ln_rows_per_block(int64_t rows) { return std::max<int64_t>(64, (rows + 255) / 256); }

// grid (ceil(n / threads), row blocks): column j of one row block.
template <typename T>
__global__ void layer_norm_dwdb_partial_kernel(const T* x, const T* mean, const T* rstd, const T* dy, int64_t rows,
                                               int64_t n, int64_t rows_per_block, double* scratch) {
  const int64_t j = int64_t(blockIdx.x) * blockDim.x + threadIdx.x, blk = blockIdx.y;
  if (j >= n) return;
  const int64_t r0 = blk * rows_per_block, r1 = min(rows, r0 + rows_per_block);
  double dw = 0.0, db = 0.0;
  for (int64_t r = r0; r < r1; ++r) {
    const T xhat = (x[r * n + j] - mean[r]) * rstd[r];
    dw += double(dy[r * n + j] * xhat);
    db += double(dy[r * n + j]);
  }
  scratch[(blk * 2) * n + j] = dw;
  scratch[(blk * 2 + 1) * n + j] = db;
}

template <typename T>
__global__ void layer_norm_dwdb_finish_kernel(const double* scratch, int64_t blocks, int64_t n, T* dw, T* db) {
  const int64_t j = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= n) return;
  double sw = 0.0, sb = 0.0;
  for (int64_t blk = 0; blk < blocks; ++blk) {
    sw += scratch[(blk * 2) * n + j];
    sb += scratch[(blk * 2 + 1) * n + j];
  }
  dw[j] = T(sw);
  db[j] = T(sb);
}

// loss = lse - (1 - eps) x[t] - eps / n * sum(x); ignored rows get 0.
template <typename T>
__global__ void cross_entropy_kernel(const T* logits, const int64_t* target, double smoothing, int64_t ignore_index,
                                     T* loss, T* lse, int64_t n) {
  __shared__ T shared[32];
  const int64_t row = blockIdx.x;
  const int64_t t = target[row];
  if (t == ignore_index) {
    if (threadIdx.x == 0) {
      loss[row] = T(0);
      lse[row] = T(0);
    }
    return;  // the whole block leaves: no barrier is skipped by some threads only
  }
  const T* xr = logits + row * n;
  T m = negative_infinity<T>();
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) m = max(m, xr[j]);
  m = block_max(m, shared);
  T s = 0, total = 0;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    s += exp(xr[j] - m);
    total += xr[j];
  }
  s = block_sum(s, shared);
  total = block_sum(total, shared);
  if (threadIdx.x == 0) {
    const T l = m + log(s);
    lse[row] = l;
    loss[row] = l - T(1 - smoothing) * xr[t] - T(smoothing / double(n)) * total;
  }
}

// dlogits = dloss * (softmax - smoothed one-hot); zero on ignored rows.
template <typename T>
__global__ void cross_entropy_backward_kernel(const T* logits, const int64_t* target, const T* lse, const T* dloss,
                                              double smoothing, int64_t ignore_index, T* dlogits, int64_t n) {
  const int64_t row = blockIdx.x;
  const int64_t t = target[row];
  T* out = dlogits + row * n;
  if (t == ignore_index) {
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) out[j] = T(0);
    return;
  }
  const T* xr = logits + row * n;
  const T g = dloss[row], l = lse[row], uniform = T(smoothing / double(n));
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    T v = g * (exp(xr[j] - l) - uniform);
    if (j == t) v -= g * T(1 - smoothing);
    out[j] = v;
  }
}

}  // namespace

void launch_softmax(cudaStream_t stream, ElemType type, const void* x, void* y, int64_t rows, int64_t n, bool log) {
  dispatch_floating(type, "softmax: the CUDA backend has no kernel for this dtype", [&](auto zero) {
    using T = decltype(zero);
    softmax_kernel<T><<<row_blocks(rows), row_threads(n), 0, stream>>>(static_cast<const T*>(x), static_cast<T*>(y), n,
                                                                     log);
  });
  STRATA_CUDA_CHECK_LAUNCH();
}

void launch_softmax_backward(cudaStream_t stream, ElemType type, const void* y, const void* dy, void* dx,
                             int64_t rows, int64_t n, bool log) {
  dispatch_floating(type, "softmax_backward: the CUDA backend has no kernel for this dtype", [&](auto zero) {
    using T = decltype(zero);
    softmax_backward_kernel<T><<<row_blocks(rows), row_threads(n), 0, stream>>>(
        static_cast<const T*>(y), static_cast<const T*>(dy), static_cast<T*>(dx), n, log);
  });
  STRATA_CUDA_CHECK_LAUNCH();
}

void launch_layer_norm(cudaStream_t stream, ElemType type, const void* x, const void* w, const void* b, double eps,
                       void* y, void* mean, void* rstd, int64_t rows, int64_t n) {
  dispatch_floating(type, "layer_norm: the CUDA backend has no kernel for this dtype", [&](auto zero) {
    using T = decltype(zero);
    layer_norm_kernel<T><<<row_blocks(rows), row_threads(n), 0, stream>>>(
        static_cast<const T*>(x), static_cast<const T*>(w), static_cast<const T*>(b), eps, static_cast<T*>(y),
        static_cast<T*>(mean), static_cast<T*>(rstd), n);
  });
  STRATA_CUDA_CHECK_LAUNCH();
}

int64_t layer_norm_backward_scratch_elems(int64_t rows, int64_t n) {
  const int64_t per = ln_rows_per_block(rows);
  return ((rows + per - 1) / per) * 2 * n;
}

void launch_layer_norm_backward(cudaStream_t stream, ElemType type, const void* x, const void* w,
                                const void* mean, const void* rstd, const void* dy, void* dx, void* dw, void* db,
                                int64_t rows, int64_t n, double* scratch) {
  dispatch_floating(type, "layer_norm_backward: the CUDA backend has no kernel for this dtype", [&](auto zero) {
    using T = decltype(zero);
    const T* px = static_cast<const T*>(x);
    const T* pm = static_cast<const T*>(mean);
    const T* ps = static_cast<const T*>(rstd);
    const T* pdy = static_cast<const T*>(dy);
    layer_norm_dx_kernel<T><<<row_blocks(rows), row_threads(n), 0, stream>>>(px, static_cast<const T*>(w), pm, ps, pdy,
                                                                           static_cast<T*>(dx), n);
    STRATA_CUDA_CHECK_LAUNCH();
    if (!dw) return;
    const int64_t per = ln_rows_per_block(rows), blocks = (rows + per - 1) / per;
    const unsigned column_blocks = unsigned((n + kThreads - 1) / kThreads);
    layer_norm_dwdb_partial_kernel<T><<<dim3(column_blocks, unsigned(blocks)), kThreads, 0, stream>>>(
        px, pm, ps, pdy, rows, n, per, scratch);
    STRATA_CUDA_CHECK_LAUNCH();
    layer_norm_dwdb_finish_kernel<T><<<column_blocks, kThreads, 0, stream>>>(scratch, blocks, n, static_cast<T*>(dw),
                                                                             static_cast<T*>(db));
  });
  STRATA_CUDA_CHECK_LAUNCH();
}

void launch_cross_entropy(cudaStream_t stream, ElemType type, const void* logits, const int64_t* target,
                          double smoothing, int64_t ignore_index, void* loss, void* lse, int64_t rows, int64_t n) {
  dispatch_floating(type, "cross_entropy: the CUDA backend has no kernel for this dtype", [&](auto zero) {
    using T = decltype(zero);
    cross_entropy_kernel<T><<<row_blocks(rows), row_threads(n), 0, stream>>>(
        static_cast<const T*>(logits), target, smoothing, ignore_index, static_cast<T*>(loss), static_cast<T*>(lse), n);
  });
  STRATA_CUDA_CHECK_LAUNCH();
}

void launch_cross_entropy_backward(cudaStream_t stream, ElemType type, const void* logits, const int64_t* target,
                                   const void* lse, const void* dloss, double smoothing, int64_t ignore_index,
                                   void* dlogits, int64_t rows, int64_t n) {
  dispatch_floating(type, "cross_entropy_backward: the CUDA backend has no kernel for this dtype", [&](auto zero) {
    using T = decltype(zero);
    cross_entropy_backward_kernel<T><<<row_blocks(rows), row_threads(n), 0, stream>>>(
        static_cast<const T*>(logits), target, static_cast<const T*>(lse), static_cast<const T*>(dloss), smoothing,
        ignore_index, static_cast<T*>(dlogits), n);
  });
  STRATA_CUDA_CHECK_LAUNCH();
}

}  // namespace strata::cuda
