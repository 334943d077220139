// GEMM on the GPU: Strata's ops::matmul (cuBLASLt through the CUDA
// backend) against a direct cublasGemmEx call on the same buffers, in
// TFLOP/s (2MNK per call), f32 (strict, no TF32) and bf16 autocast (f32
// tensors; Strata rounds bf16 copies and runs bf16 x bf16 -> f32, the direct
// call asks for CUBLAS_COMPUTE_32F_FAST_16BF on the f32 buffers, cuBLAS's own
// conversion, so the ratio includes Strata's two rounding passes). The shapes are GPT-2 small's
// training GEMMs at 8192 tokens (B=8, T=1024) and a square one. Both sides
// are timed the same way (seconds_per_call).
//
//   build-gpu/bench/strata_bench_cuda --benchmark_min_time=0.2
#include <benchmark/benchmark.h>
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "core/autocast.h"
#include "core/backend.h"
#include "core/cuda/cuda_api.h"
#include "core/ops.h"
#include "core/random.h"
#include "core/tensor.h"

namespace {

using namespace strata;

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    std::fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(status));
    std::exit(1);
  }
}

void check(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS) {
    std::fprintf(stderr, "%s: %s\n", what, cublasGetStatusString(status));
    std::exit(1);
  }
}

// Seconds per call of f: kCalls calls queued back to back, then one wait
// for the device (wall clock), so launch overhead counts as it does in a
// training step and one synchronisation is spread over many calls.
constexpr int kCalls = 20;

template <typename F, typename Wait>
double seconds_per_call(F f, Wait wait) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kCalls; ++i) f();
  wait();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / kCalls;
}

void gemm_args(benchmark::internal::Benchmark* b) {
  for (int64_t precision : {0, 1}) {  // 0: f32, 1: bf16 autocast
    b->Args({8192, 2304, 768, precision});   // x @ W_qkv^T
    b->Args({8192, 3072, 768, precision});   // x @ W_fc^T
    b->Args({8192, 768, 3072, precision});   // h @ W_proj^T
    b->Args({8192, 50304, 768, precision});  // the LM head (vocabulary padded to 64)
    b->Args({4096, 4096, 4096, precision});
  }
  b->UseManualTime()->Unit(benchmark::kMillisecond);
}

bool skip_without_gpu(benchmark::State& state) {
  std::string reason;
  if (!cuda::list_devices(&reason).empty()) return false;
  state.SkipWithError(("no CUDA device: " + reason).c_str());
  return true;
}

// x (M, K) @ W^T with W (N, K): the layout of every linear layer.
void BM_StrataCudaMatmul(benchmark::State& state) {
  if (skip_without_gpu(state)) return;
  const int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  const Precision precision = state.range(3) ? Precision::bf16 : Precision::f32;
  Tensor x = randn({m, k}).to(Device::cuda(0));
  Tensor w = randn({n, k}).to(Device::cuda(0));
  const Autocast autocast(precision);
  ops::matmul(x, ops::transpose(w, 0, 1));  // warm-up: allocator cache, cuBLASLt heuristics
  synchronize(Device::cuda(0));
  for (auto _ : state) {
    state.SetIterationTime(seconds_per_call([&] { ops::matmul(x, ops::transpose(w, 0, 1)); },
                                            [] { synchronize(Device::cuda(0)); }));
  }
  state.counters["TFLOP/s"] = benchmark::Counter(2e-12 * double(m * n * k), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_StrataCudaMatmul)->Apply(gemm_args);

// The same product with one cublasGemmEx on the default stream: column-major
// C^T (N, M) = W (N, K as K x N transposed) x^T.
void BM_CublasGemmEx(benchmark::State& state) {
  if (skip_without_gpu(state)) return;
  const int m = int(state.range(0)), n = int(state.range(1)), k = int(state.range(2));
  const bool bf16 = state.range(3) != 0;
  Tensor x = randn({m, k}).to(Device::cuda(0));
  Tensor w = randn({n, k}).to(Device::cuda(0));
  Tensor c = empty({m, n}, {DType::f32, Device::cuda(0)});
  synchronize(Device::cuda(0));
  cublasHandle_t handle;
  check(cublasCreate(&handle), "cublasCreate");
  const float alpha = 1.0f, beta = 0.0f;
  const cublasComputeType_t compute = bf16 ? CUBLAS_COMPUTE_32F_FAST_16BF : CUBLAS_COMPUTE_32F;
  auto call = [&] {
    check(cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, n, m, k, &alpha, w.raw_data(), CUDA_R_32F, k, x.raw_data(),
                       CUDA_R_32F, k, &beta, c.raw_data(), CUDA_R_32F, n, compute, CUBLAS_GEMM_DEFAULT),
          "cublasGemmEx");
  };
  call();
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
  for (auto _ : state) {
    state.SetIterationTime(seconds_per_call(call, [] { check(cudaDeviceSynchronize(), "cudaDeviceSynchronize"); }));
  }
  state.counters["TFLOP/s"] = benchmark::Counter(2e-12 * double(m) * n * k, benchmark::Counter::kIsIterationInvariantRate);
  cublasDestroy(handle);
}
BENCHMARK(BM_CublasGemmEx)->Apply(gemm_args);

}  // namespace

BENCHMARK_MAIN();
