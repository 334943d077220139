// Reductions.
//
// sum: x of any shape, out holds one value per combination of kept dims
// (contiguous, x's dim order). The geometry (kernels.h ReduceGeometry)
// lists kept and reduced dims with their strides in x, so any interleaving
// of kept and reduced dims works. Partial sums are in double (as the CPU's
// row and full sums; its column sums add in the element type, so f32 column
// sums over many rows agree with the CPU only to f32 rounding) and combined
// in a fixed order, so results do not depend on scheduling:
//   - innermost dim reduced (row sums, full sums): a block per (output,
//     chunk of the reduced range), a block-wide tree sum;
//   - innermost dim kept (column sums, e.g. bias gradients): a thread per
//     output (adjacent threads read adjacent memory), grid.y splits the
//     reduced range into chunks.
// With more than one chunk, partials go to `scratch` [chunk][output] and a
// second kernel adds them up in chunk order.
//
// max: x contiguous (outer, n, inner): values and i64 indices of the first
// maximum along n; a NaN wins (the first NaN), as on the CPU.
#include "core/cuda/common.cuh"

namespace strata::cuda {

namespace {

struct SumPlan {
  bool rows;        // innermost reduced: block per output
  int64_t chunks;   // pieces of the reduced range
  int64_t chunk;    // reduced elements per piece
};

SumPlan plan_sum(const ReduceGeometry& g) {
  SumPlan p{g.reduce_innermost, 1, g.reduced_numel};
  const int64_t R = g.reduced_numel, K = g.kept_numel;
  if (p.rows) {
    if (K < 1024 && R > 8192) p.chunks = std::min<int64_t>((R + 4095) / 4096, std::max<int64_t>(1, 1024 / K));
  } else {
    const int64_t blocks_x = (K + kThreads - 1) / kThreads;
    if (blocks_x < 512 && R > 256) p.chunks = std::min<int64_t>((R + 255) / 256, std::max<int64_t>(1, 512 / blocks_x));
  }
  p.chunks = std::min<int64_t>(p.chunks, 65535);  // grid.y limit
  p.chunk = (R + p.chunks - 1) / p.chunks;
  return p;
}

// Offset in x of kept index o and reduced index r.
__device__ inline int64_t kept_offset(const ReduceGeometry& g, int64_t o) {
  int64_t offset = 0;
  for (int d = g.kept_rank - 1; d >= 0; --d) {
    offset += (o % g.kept_shape[d]) * g.kept_strides[d];
    o /= g.kept_shape[d];
  }
  return offset;
}

__device__ inline int64_t reduced_offset(const ReduceGeometry& g, int64_t r) {
  int64_t offset = 0;
  for (int d = g.reduced_rank - 1; d >= 0; --d) {
    offset += (r % g.reduced_shape[d]) * g.reduced_strides[d];
    r /= g.reduced_shape[d];
  }
  return offset;
}

// Writes `value` as the output (one chunk) or as a partial.
template <typename T>
__device__ inline void store_sum(T* out, double* scratch, int64_t chunks, int64_t kept, int64_t chunk_index,
                                 int64_t o, double value) {
  if (chunks == 1) out[o] = T(value);
  else scratch[chunk_index * kept + o] = value;
}

// grid (kept outputs, chunks); one block sums one chunk of one output.
template <typename T>
__global__ void sum_rows_kernel(const T* x, T* out, ReduceGeometry g, SumPlan p, double* scratch) {
  __shared__ double shared[32];
  const int64_t o = blockIdx.x, c = blockIdx.y;
  const int64_t begin = c * p.chunk, end = min(g.reduced_numel, begin + p.chunk);
  const T* base = x + kept_offset(g, o);
  double acc = 0.0;
  for (int64_t r = begin + threadIdx.x; r < end; r += blockDim.x) acc += double(base[reduced_offset(g, r)]);
  acc = block_sum(acc, shared);
  if (threadIdx.x == 0) store_sum(out, scratch, p.chunks, g.kept_numel, c, o, acc);
}

// grid (ceil(kept / threads), chunks); one thread sums one chunk of one output.
template <typename T>
__global__ void sum_columns_kernel(const T* x, T* out, ReduceGeometry g, SumPlan p, double* scratch) {
  const int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x, c = blockIdx.y;
  if (o >= g.kept_numel) return;
  const int64_t begin = c * p.chunk, end = min(g.reduced_numel, begin + p.chunk);
  const T* base = x + kept_offset(g, o);
  double acc = 0.0;
  for (int64_t r = begin; r < end; ++r) acc += double(base[reduced_offset(g, r)]);
  store_sum(out, scratch, p.chunks, g.kept_numel, c, o, acc);
}

// out[o] = sum over chunks c (in order) of scratch[c][o].
template <typename T>
__global__ void sum_partials_kernel(const double* scratch, T* out, int64_t kept, int64_t chunks) {
  for (int64_t o = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; o < kept; o += int64_t(gridDim.x) * blockDim.x) {
    double acc = 0.0;
    for (int64_t c = 0; c < chunks; ++c) acc += scratch[c * kept + o];
    out[o] = T(acc);
  }
}

// ---- max -------------------------------------------------------------------------

// Is (v, i) a better maximum than (best, best_at)? The first NaN, else the
// largest value, ties to the lower index: what the CPU's sequential scan keeps.
template <typename T>
__device__ inline bool better(T v, int64_t i, T best, int64_t best_at) {
  const bool v_nan = v != v, best_nan = best != best;
  if (v_nan || best_nan) return v_nan && (!best_nan || i < best_at);
  return v > best || (v == best && i < best_at);
}

// inner == 1: a warp per row of n contiguous values.
template <typename T>
__global__ void max_rows_kernel(const T* x, T* values, int64_t* indices, int64_t rows, int64_t n) {
  const int64_t row = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (row >= rows) return;  // whole warps leave together
  const T* src = x + row * n;
  T best = src[0];
  int64_t best_at = 0;
  for (int64_t j = lane; j < n; j += 32) {
    if (better(src[j], j, best, best_at)) {
      best = src[j];
      best_at = j;
    }
  }
  for (int o = 16; o > 0; o >>= 1) {
    const T other = __shfl_xor_sync(0xffffffffu, best, o);
    const int64_t other_at = __shfl_xor_sync(0xffffffffu, best_at, o);
    if (better(other, other_at, best, best_at)) {
      best = other;
      best_at = other_at;
    }
  }
  if (lane == 0) {
    values[row] = best;
    indices[row] = best_at;
  }
}

// inner > 1: a thread per (outer, inner) pair scans n strided values.
template <typename T>
__global__ void max_strided_kernel(const T* x, T* values, int64_t* indices, int64_t outer, int64_t n, int64_t inner) {
  const int64_t total = outer * inner;
  for (int64_t p = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; p < total; p += int64_t(gridDim.x) * blockDim.x) {
    const int64_t o = p / inner, i = p % inner;
    const T* src = x + o * n * inner + i;
    T best = src[0];
    int64_t best_at = 0;
    for (int64_t j = 1; j < n; ++j) {
      const T v = src[j * inner];
      if (v > best || (v != v && best == best)) {
        best = v;
        best_at = j;
      }
    }
    values[p] = best;
    indices[p] = best_at;
  }
}

}  // namespace

int64_t sum_scratch_elems(const ReduceGeometry& g) {
  const SumPlan p = plan_sum(g);
  return p.chunks == 1 ? 0 : p.chunks * g.kept_numel;
}

void launch_sum(cudaStream_t stream, ElemType type, const void* x, void* out, const ReduceGeometry& g,
                double* scratch) {
  const SumPlan p = plan_sum(g);
  dispatch_floating(type, "sum: the CUDA backend has no kernel for this dtype", [&](auto zero) {
    using T = decltype(zero);
    const T* px = static_cast<const T*>(x);
    T* po = static_cast<T*>(out);
    if (p.rows) {
      const int threads = row_threads(p.chunk) < 256 ? row_threads(p.chunk) : 256;
      sum_rows_kernel<T><<<dim3(row_blocks(g.kept_numel), unsigned(p.chunks)), threads, 0, stream>>>(px, po, g, p,
                                                                                                  scratch);
    } else {
      const unsigned blocks_x = unsigned((g.kept_numel + kThreads - 1) / kThreads);
      sum_columns_kernel<T><<<dim3(blocks_x, unsigned(p.chunks)), kThreads, 0, stream>>>(px, po, g, p, scratch);
    }
    STRATA_CUDA_CHECK_LAUNCH();
    if (p.chunks > 1) {
      sum_partials_kernel<T><<<grid_for(g.kept_numel), kThreads, 0, stream>>>(scratch, po, g.kept_numel, p.chunks);
    }
  });
  STRATA_CUDA_CHECK_LAUNCH();
}

void launch_max(cudaStream_t stream, ElemType type, const void* x, void* values, int64_t* indices, int64_t outer,
                int64_t n, int64_t inner) {
  dispatch_floating(type, "max: the CUDA backend has no kernel for this dtype", [&](auto zero) {
    using T = decltype(zero);
    if (inner == 1) {
      const int64_t threads = outer * 32;
      max_rows_kernel<T><<<unsigned((threads + kThreads - 1) / kThreads), kThreads, 0, stream>>>(
          static_cast<const T*>(x), static_cast<T*>(values), indices, outer, n);
    } else {
      max_strided_kernel<T><<<grid_for(outer * inner), kThreads, 0, stream>>>(
          static_cast<const T*>(x), static_cast<T*>(values), indices, outer, n, inner);
    }
  });
  STRATA_CUDA_CHECK_LAUNCH();
}

}  // namespace strata::cuda
