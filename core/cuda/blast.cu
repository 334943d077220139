// BLAST's coupling stage (layers/blast.h), with s (b, b, r) and z, w, dz, dw
// (b, rows, r), all contiguous:
//   forward   w[i, n, k]  = sum_j s[i, j, k] z[j, n, k]
//   backward  dz[j, n, k] = sum_i s[i, j, k] dw[i, n, k]
//             ds[i, j, k] = sum_n z[j, n, k] dw[i, n, k]
// w and dz: one thread per output element, a short loop over the b blocks;
// adjacent threads take adjacent k, so every read is coalesced. ds is a
// reduction over the (long) rows dim: partial sums over chunks of rows fixed by the shape
// into `scratch` [chunk][b * b * r] (double), then added in chunk order.
#include "core/cuda/common.cuh"

namespace strata::cuda {

namespace {

// Rows per ds partial: at least 256, and at most 256 partials (bounded scratch).
int64_t rows_per_chunk(int64_t rows) { return std::max<int64_t>(256, (rows + 255) / 256); }

template <typename T>
__global__ void mix_kernel(const T* s, const T* z, T* w, int64_t b, int64_t rows, int64_t r) {
  const int64_t total = b * rows * r;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t k = e % r, n = (e / r) % rows, i = e / (r * rows);
    T acc = 0;
    for (int64_t j = 0; j < b; ++j) acc += s[(i * b + j) * r + k] * z[(j * rows + n) * r + k];
    w[e] = acc;
  }
}

template <typename T>
__global__ void mix_dz_kernel(const T* s, const T* dw, T* dz, int64_t b, int64_t rows, int64_t r) {
  const int64_t total = b * rows * r;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t k = e % r, n = (e / r) % rows, j = e / (r * rows);
    T acc = 0;
    for (int64_t i = 0; i < b; ++i) acc += s[(i * b + j) * r + k] * dw[(i * rows + n) * r + k];
    dz[e] = acc;
  }
}

// grid (ceil(b*b*r / threads), chunks): element (i, j, k) of one chunk of rows.
template <typename T>
__global__ void mix_ds_partial_kernel(const T* z, const T* dw, int64_t b, int64_t rows, int64_t r, int64_t per_chunk,
                                      double* scratch) {
  const int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x, chunk = blockIdx.y;
  const int64_t block = b * b * r;
  if (e >= block) return;
  const int64_t k = e % r, j = (e / r) % b, i = e / (r * b);
  const int64_t n0 = chunk * per_chunk, n1 = min(rows, n0 + per_chunk);
  double acc = 0.0;
  for (int64_t n = n0; n < n1; ++n) acc += double(z[(j * rows + n) * r + k] * dw[(i * rows + n) * r + k]);
  scratch[chunk * block + e] = acc;
}

template <typename T>
__global__ void mix_ds_finish_kernel(const double* scratch, int64_t chunks, int64_t block, T* ds) {
  const int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (e >= block) return;
  double acc = 0.0;
  for (int64_t c = 0; c < chunks; ++c) acc += scratch[c * block + e];
  ds[e] = T(acc);
}

int64_t row_chunks(int64_t rows) { return std::max<int64_t>(1, (rows + rows_per_chunk(rows) - 1) / rows_per_chunk(rows)); }

}  // namespace

void launch_blast_mix(cudaStream_t stream, ElemType type, const void* s, const void* z, void* w, int64_t b,
                      int64_t rows, int64_t r) {
  dispatch_floating(type, "blast_mix: the CUDA backend has no kernel for this dtype", [&](auto zero) {
    using T = decltype(zero);
    mix_kernel<T><<<grid_for(b * rows * r), kThreads, 0, stream>>>(static_cast<const T*>(s),
                                                                   static_cast<const T*>(z), static_cast<T*>(w), b,
                                                                   rows, r);
  });
  STRATA_CUDA_CHECK_LAUNCH();
}

int64_t blast_mix_backward_scratch_elems(int64_t b, int64_t rows, int64_t r) { return row_chunks(rows) * b * b * r; }

void launch_blast_mix_backward(cudaStream_t stream, ElemType type, const void* s, const void* z, const void* dw,
                               void* dz, void* ds, int64_t b, int64_t rows, int64_t r, double* scratch) {
  dispatch_floating(type, "blast_mix_backward: the CUDA backend has no kernel for this dtype", [&](auto zero) {
    using T = decltype(zero);
    const T* ps = static_cast<const T*>(s);
    const T* pz = static_cast<const T*>(z);
    const T* pdw = static_cast<const T*>(dw);
    if (dz) {
      mix_dz_kernel<T><<<grid_for(b * rows * r), kThreads, 0, stream>>>(ps, pdw, static_cast<T*>(dz), b, rows, r);
      STRATA_CUDA_CHECK_LAUNCH();
    }
    if (ds) {
      const int64_t block = b * b * r, chunks = row_chunks(rows);
      const unsigned blocks_x = unsigned((block + kThreads - 1) / kThreads);
      mix_ds_partial_kernel<T><<<dim3(blocks_x, unsigned(chunks)), kThreads, 0, stream>>>(pz, pdw, b, rows, r,
                                                                                          rows_per_chunk(rows), scratch);
      STRATA_CUDA_CHECK_LAUNCH();
      mix_ds_finish_kernel<T><<<blocks_x, kThreads, 0, stream>>>(scratch, chunks, block, static_cast<T*>(ds));
    }
  });
  STRATA_CUDA_CHECK_LAUNCH();
}

}  // namespace strata::cuda
