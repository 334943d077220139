// Gathers and scatters along one dim. With x viewed as (outer, size, inner)
// and an i64 index of `count` entries (already range-checked by ops.cpp):
//   index_select  out (outer, count, inner):  out[o, i, c] = x[o, index[i], c]
//   index_add     out (outer, size, inner) += src (outer, count, inner) at index[i]
// index_select moves elements of any dtype by their size in bytes. index_add
// uses atomicAdd, because repeated indices (the same token twice in a batch)
// add into the same row: the sum order, and so the last bits of f32 results,
// may differ from run to run (the CPU backend sums in index order).
#include "core/cuda/common.cuh"

namespace strata::cuda {

namespace {

template <typename E>  // an unsigned integer of the element's size
__global__ void index_select_kernel(const E* x, const int64_t* index, E* out, int64_t outer, int64_t size,
                                    int64_t inner, int64_t count) {
  const int64_t total = outer * count * inner;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t c = e % inner, i = (e / inner) % count, o = e / (inner * count);
    out[e] = x[(o * size + index[i]) * inner + c];
  }
}

template <typename T>
__global__ void index_add_kernel(T* out, const int64_t* index, const T* src, int64_t outer, int64_t size,
                                 int64_t inner, int64_t count) {
  const int64_t total = outer * count * inner;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t c = e % inner, i = (e / inner) % count, o = e / (inner * count);
    atomicAdd(out + (o * size + index[i]) * inner + c, src[e]);
  }
}

}  // namespace

void launch_index_select(cudaStream_t stream, int element_bytes, const void* x, const int64_t* index, void* out,
                         int64_t outer, int64_t size, int64_t inner, int64_t count) {
  const unsigned blocks = grid_for(outer * count * inner);
  switch (element_bytes) {
    case 1:
      index_select_kernel<<<blocks, kThreads, 0, stream>>>(static_cast<const uint8_t*>(x), index,
                                                           static_cast<uint8_t*>(out), outer, size, inner, count);
      break;
    case 2:
      index_select_kernel<<<blocks, kThreads, 0, stream>>>(static_cast<const uint16_t*>(x), index,
                                                           static_cast<uint16_t*>(out), outer, size, inner, count);
      break;
    case 4:
      index_select_kernel<<<blocks, kThreads, 0, stream>>>(static_cast<const uint32_t*>(x), index,
                                                           static_cast<uint32_t*>(out), outer, size, inner, count);
      break;
    case 8:
      index_select_kernel<<<blocks, kThreads, 0, stream>>>(static_cast<const uint64_t*>(x), index,
                                                           static_cast<uint64_t*>(out), outer, size, inner, count);
      break;
    default: fail_message("index_select: unsupported element size");
  }
  STRATA_CUDA_CHECK_LAUNCH();
}

void launch_index_add(cudaStream_t stream, ElemType type, void* out, const int64_t* index, const void* src,
                      int64_t outer, int64_t size, int64_t inner, int64_t count) {
  dispatch_floating(type, "index_add: the CUDA backend has no kernel for this dtype", [&](auto zero) {
    using T = decltype(zero);
    index_add_kernel<T><<<grid_for(outer * count * inner), kThreads, 0, stream>>>(
        static_cast<T*>(out), index, static_cast<const T*>(src), outer, size, inner, count);
  });
  STRATA_CUDA_CHECK_LAUNCH();
}

}  // namespace strata::cuda
