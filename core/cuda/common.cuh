#pragma once
// Device-side helpers shared by the kernels: launch sizes, dtype dispatch,
// bf16 conversion (bit-identical to core/dtype.h), Philox (identical to
// core/philox.h), strided offsets and warp/block reductions.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "core/cuda/kernels.h"

namespace strata::cuda {

constexpr int kThreads = 256;  // default block size of 1-D kernels

// Blocks for n elements at kThreads each, capped: grid-stride loops do the rest.
inline unsigned grid_for(int64_t n, int threads = kThreads) {
  int64_t blocks = (n + threads - 1) / threads;
  if (blocks < 1) blocks = 1;
  if (blocks > (int64_t(1) << 20)) blocks = int64_t(1) << 20;
  return unsigned(blocks);
}

// Checks that the last launch was accepted (bad configuration, no device...).
#define STRATA_CUDA_CHECK_LAUNCH() STRATA_CUDA_CHECK(cudaGetLastError())

// ---- bf16: the same rounding as core/dtype.h's float_to_bf16 ---------------------
struct bf16_t {
  uint16_t bits;
};

__host__ __device__ inline float bf16_to_float(bf16_t value) {
  uint32_t bits = uint32_t(value.bits) << 16;
  float result;
  memcpy(&result, &bits, sizeof(result));
  return result;
}

__host__ __device__ inline bf16_t float_to_bf16(float value) {
  uint32_t bits;
  memcpy(&bits, &value, sizeof(bits));
  if ((bits & 0x7f800000u) == 0x7f800000u && (bits & 0x007fffffu)) return bf16_t{uint16_t((bits >> 16) | 0x40)};
  uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return bf16_t{uint16_t((bits + rounding) >> 16)};
}

// Conversion for copies: through float for bf16, a C++ cast otherwise.
template <typename To, typename From>
__device__ inline To convert(From value) {
  if constexpr (std::is_same_v<From, bf16_t>) {
    return convert<To>(bf16_to_float(value));
  } else if constexpr (std::is_same_v<To, bf16_t>) {
    return float_to_bf16(float(value));
  } else {
    return To(value);
  }
}

// Calls f(T{}) with the C++ type of `type`.
template <typename F>
void dispatch_any(ElemType type, F&& f) {
  switch (type) {
    case ElemType::f32: f(float{}); return;
    case ElemType::f64: f(double{}); return;
    case ElemType::bf16: f(bf16_t{}); return;
    case ElemType::i32: f(int32_t{}); return;
    case ElemType::i64: f(int64_t{}); return;
    case ElemType::u8: f(uint8_t{}); return;
  }
}

// Calls f(T{}) with T = float or double; other types are refused.
template <typename F>
void dispatch_floating(ElemType type, const char* op, F&& f) {
  switch (type) {
    case ElemType::f32: f(float{}); return;
    case ElemType::f64: f(double{}); return;
    default: fail_message(op);
  }
}

// ---- Philox4x32-10: must stay identical to core/philox.h ---------------------------
struct Philox4 {
  uint32_t x[4];
};

__device__ inline Philox4 philox4x32(uint64_t counter_lo, uint64_t counter_hi, uint64_t key) {
  constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  uint32_t c0 = uint32_t(counter_lo), c1 = uint32_t(counter_lo >> 32);
  uint32_t c2 = uint32_t(counter_hi), c3 = uint32_t(counter_hi >> 32);
  uint32_t k0 = uint32_t(key), k1 = uint32_t(key >> 32);
#pragma unroll
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0 = __umulhi(kMul0, c0), lo0 = kMul0 * c0;
    uint32_t hi1 = __umulhi(kMul1, c2), lo1 = kMul1 * c2;
    uint32_t n0 = hi1 ^ c1 ^ k0;
    uint32_t n2 = hi0 ^ c3 ^ k1;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  return {{c0, c1, c2, c3}};
}

// Uniform in (0, 1], as core/philox.h's uint_to_unit_float.
__device__ inline float uint_to_unit_float(uint32_t x) { return float((x >> 8) + 1) * (1.0f / 16777216.0f); }

// The Philox uniform of stream element e (lane e % 4 of block offset + e / 4):
// the indexing every CPU kernel uses (random fills, attention dropout).
__device__ inline float philox_uniform(PhiloxState rng, uint64_t e) {
  Philox4 bits = philox4x32(rng.offset + e / 4, 0, rng.seed);
  return uint_to_unit_float(bits.x[e % 4]);
}

// ---- strided offsets ---------------------------------------------------------------
// Element offset of operand k for the row-major linear index i of geometry g.
__device__ inline int64_t strided_offset(const Strided& g, int k, int64_t i) {
  int64_t offset = 0;
  for (int d = g.rank - 1; d >= 0; --d) {
    const int64_t size = g.shape[d];
    offset += (i % size) * g.strides[k][d];
    i /= size;
  }
  return offset;
}

// -inf in device code (std::numeric_limits is host-only without relaxed constexpr).
template <typename T>
__device__ inline T negative_infinity() { return -T(INFINITY); }

// ---- reductions within a warp and a block ---------------------------------------------
template <typename T>
__device__ inline T warp_sum(T v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

template <typename T>
__device__ inline T warp_max(T v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = max(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); every
// thread gets the result. `shared` holds 32 values; the call syncs.
template <typename T>
__device__ inline T block_sum(T v, T* shared) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  v = warp_sum(v);
  __syncthreads();  // `shared` may still be read by a previous call
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  v = lane < warps ? shared[lane] : T(0);
  return warp_sum(v);
}

template <typename T>
__device__ inline T block_max(T v, T* shared) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  v = lane < warps ? shared[lane] : negative_infinity<T>();
  return warp_max(v);
}

// The grid of a kernel with one block per row. Grids hold at most 2^31 - 1
// blocks; more rows would wrap silently in the cast, so they are refused.
inline unsigned row_blocks(int64_t rows) {
  if (rows > int64_t(0x7fffffff)) fail_message("a row kernel got more than 2^31 - 1 rows");
  return unsigned(rows);
}

// Threads per block for a row of n elements: a multiple of 32 up to 1024.
inline int row_threads(int64_t n) {
  int threads = 32;
  while (threads < 1024 && threads < n) threads *= 2;
  return threads;
}

}  // namespace strata::cuda
