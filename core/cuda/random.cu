// Random fills of a contiguous tensor of n elements from Philox4x32-10.
//
// Element i takes lane i % 4 of the Philox block with counter
// rng.offset + i / 4 and key rng.seed: exactly the indexing of
// core/cpu/elementwise.cpp (fill_from_philox), so a CUDA draw equals the CPU
// draw for the same PhiloxState. One thread computes one block of 4 numbers.
// The value formulas (in double, like the CPU) are:
//   uniform    low + (high - low) * u
//   normal     Box-Muller on lanes (0, 1) and (2, 3): mean + std * r * (cos | sin)
//   bernoulli  u <= p ? value : 0
#include "core/cuda/common.cuh"

namespace strata::cuda {

namespace {

enum class Distribution { uniform, normal, bernoulli };

struct DrawParams {
  double a, b;  // (low, high), (mean, std) or (p, value)
};

__device__ inline double draw(Distribution dist, const Philox4& bits, int lane, DrawParams p) {
  switch (dist) {
    case Distribution::uniform: return p.a + (p.b - p.a) * double(uint_to_unit_float(bits.x[lane]));
    case Distribution::normal: {
      const int pair = lane & ~1;
      const double u1 = uint_to_unit_float(bits.x[pair]);
      const double u2 = uint_to_unit_float(bits.x[pair + 1]);
      const double radius = sqrt(-2.0 * log(u1));
      const double angle = 2.0 * 3.14159265358979323846 * u2;
      return p.a + p.b * radius * ((lane & 1) ? sin(angle) : cos(angle));
    }
    case Distribution::bernoulli: return double(uint_to_unit_float(bits.x[lane])) <= p.a ? p.b : 0.0;
  }
  return 0.0;
}

template <typename T>
__global__ void philox_fill_kernel(T* dst, int64_t n, Distribution dist, DrawParams params, PhiloxState rng) {
  const int64_t blocks = (n + 3) / 4;
  for (int64_t blk = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; blk < blocks;
       blk += int64_t(gridDim.x) * blockDim.x) {
    const Philox4 bits = philox4x32(rng.offset + uint64_t(blk), 0, rng.seed);
    for (int lane = 0; lane < 4 && blk * 4 + lane < n; ++lane) dst[blk * 4 + lane] = T(draw(dist, bits, lane, params));
  }
}

void launch_fill(cudaStream_t stream, ElemType type, void* dst, int64_t n, Distribution dist, DrawParams params,
                 PhiloxState rng) {
  dispatch_floating(type, "random fills: the CUDA backend has no kernel for this dtype", [&](auto zero) {
    using T = decltype(zero);
    philox_fill_kernel<T><<<grid_for((n + 3) / 4), kThreads, 0, stream>>>(static_cast<T*>(dst), n, dist, params, rng);
  });
  STRATA_CUDA_CHECK_LAUNCH();
}

}  // namespace

void launch_uniform(cudaStream_t stream, ElemType type, void* dst, int64_t n, double low, double high,
                    PhiloxState rng) {
  launch_fill(stream, type, dst, n, Distribution::uniform, {low, high}, rng);
}

void launch_normal(cudaStream_t stream, ElemType type, void* dst, int64_t n, double mean, double std,
                   PhiloxState rng) {
  launch_fill(stream, type, dst, n, Distribution::normal, {mean, std}, rng);
}

void launch_bernoulli(cudaStream_t stream, ElemType type, void* dst, int64_t n, double p, double value,
                      PhiloxState rng) {
  launch_fill(stream, type, dst, n, Distribution::bernoulli, {p, value}, rng);
}

}  // namespace strata::cuda
