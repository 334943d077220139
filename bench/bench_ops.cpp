// Op-level benchmarks (Google Benchmark). What each family compares:
//
//  - GEMM: Strata's ops::matmul against a direct cblas_sgemm on the same
//    buffers, in GFLOP/s (2MNK per call). The "Bt" cases multiply by a
//    transposed view of an (N, K) weight, x @ W^T, which must reach BLAS as a
//    transpose flag: the counter copy_MiB reports any bytes allocated beyond
//    the output (0 means no copy was made).
//  - Row ops (softmax, layer norm, GELU, cross-entropy): bytes/s, counting the
//    large tensors each pass must read and write once, against a plain copy of
//    the same bytes (memcpy and ops::clone).
//  - Attention, causal, B = 1, H = 12, D = 64: forward + backward through the
//    autograd API, time and the peak bytes the Strata allocator holds for it
//    beyond the inputs (peak_MiB), for the fused flash-style op and for the
//    materialised q k^T -> mask -> softmax -> @ v chain of ops.
//
// bench/torch_ops.py runs the same shapes in PyTorch; bench/README.md has the
// figures and the commands. Every case times wall-clock (UseRealTime), since
// the work runs on OpenMP threads.
#include <benchmark/benchmark.h>
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "core/allocator.h"
#include "core/ops.h"
#include "core/random.h"
#include "core/tensor.h"

namespace {

using namespace strata;

constexpr double kMiB = 1024.0 * 1024.0;
constexpr int64_t kF32 = 4;  // bytes per element

// Rate counter from a per-iteration amount: Google Benchmark multiplies by
// the iteration count and divides by the elapsed time.
benchmark::Counter per_second(double amount_per_iteration) {
  return benchmark::Counter(amount_per_iteration, benchmark::Counter::kIsIterationInvariantRate);
}

void set_bytes(benchmark::State& state, int64_t bytes_per_iteration) {
  state.SetBytesProcessed(int64_t(state.iterations()) * bytes_per_iteration);
}

// Runs fn once and returns the largest number of bytes the CPU allocator held
// during it beyond what it held before (rounded to its size classes).
template <typename Fn>
double peak_extra_mib(Fn&& fn) {
  Allocator& alloc = cpu_allocator();
  const size_t before = alloc.stats().bytes_in_use;
  alloc.reset_peak();
  fn();
  return double(alloc.stats().peak_bytes_in_use - before) / kMiB;
}

void clear_grads(std::initializer_list<const Tensor*> params) {
  for (const Tensor* p : params) p->set_grad(Tensor());
}

// ---- GEMM ----------------------------------------------------------------------------------------
// Args: M, N, K, Bt (1: B is the transposed view of an (N, K) matrix).

void gemm_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"M", "N", "K", "Bt"});
  for (int64_t bt : {0, 1}) {
    b->Args({1024, 1024, 1024, bt});
    b->Args({4096, 768, 768, bt});
  }
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

void BM_CblasSgemm(benchmark::State& state) {
  const int m = int(state.range(0)), n = int(state.range(1)), k = int(state.range(2));
  const bool bt = state.range(3) != 0;
  Tensor a = randn({m, k});
  Tensor b = bt ? randn({n, k}) : randn({k, n});
  Tensor c = empty({m, n});
  auto call = [&] {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, bt ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a.data<float>(), k,
                b.data<float>(), bt ? k : n, 0.0f, c.data<float>(), n);
  };
  call();  // warm-up: OpenBLAS buffers, threads
  for (auto _ : state) {
    call();
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = per_second(2e-9 * m * n * k);
}
BENCHMARK(BM_CblasSgemm)->Apply(gemm_args);

void BM_StrataMatmul(benchmark::State& state) {
  const int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  const bool bt = state.range(3) != 0;
  Tensor a = randn({m, k});
  Tensor b = bt ? ops::transpose(randn({n, k}), 0, 1) : randn({k, n});
  benchmark::DoNotOptimize(ops::matmul(a, b).raw_data());  // warm-up, fills the allocator cache
  const double out_mib = double(allocator_size_class(size_t(m * n * kF32))) / kMiB;
  const double copy_mib = peak_extra_mib([&] { benchmark::DoNotOptimize(ops::matmul(a, b).raw_data()); }) - out_mib;
  for (auto _ : state) {
    Tensor c = ops::matmul(a, b);
    benchmark::DoNotOptimize(c.raw_data());
  }
  state.counters["GFLOP/s"] = per_second(2e-9 * double(m * n * k));
  state.counters["copy_MiB"] = copy_mib;
}
BENCHMARK(BM_StrataMatmul)->Apply(gemm_args);

// ---- Row ops -------------------------------------------------------------------------------------
// Activations of 4096 tokens x 768 channels (12 MiB in f32), as in GPT-2 small.

void row_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"rows", "cols"})->Args({4096, 768})->Unit(benchmark::kMicrosecond)->UseRealTime();
}

void BM_Memcpy(benchmark::State& state) {
  const int64_t n = state.range(0) * state.range(1);
  Tensor x = randn({n});
  Tensor y = empty({n});
  for (auto _ : state) {
    std::memcpy(y.data<float>(), x.data<float>(), size_t(n * kF32));
    benchmark::ClobberMemory();
  }
  set_bytes(state, 2 * n * kF32);
}
BENCHMARK(BM_Memcpy)->Apply(row_args);

void BM_Clone(benchmark::State& state) {
  Tensor x = randn({state.range(0), state.range(1)});
  benchmark::DoNotOptimize(ops::clone(x).raw_data());
  for (auto _ : state) {
    Tensor y = ops::clone(x);
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_bytes(state, 2 * x.numel() * kF32);
}
BENCHMARK(BM_Clone)->Apply(row_args);

void BM_Softmax(benchmark::State& state) {
  Tensor x = randn({state.range(0), state.range(1)});
  benchmark::DoNotOptimize(softmax(x, -1).raw_data());
  for (auto _ : state) {
    Tensor y = softmax(x, -1);
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_bytes(state, 2 * x.numel() * kF32);  // read x, write y
}
BENCHMARK(BM_Softmax)->Apply(row_args);

void BM_LayerNormFwd(benchmark::State& state) {
  const int64_t c = state.range(1);
  Tensor x = randn({state.range(0), c}), w = randn({c}), b = randn({c});
  benchmark::DoNotOptimize(layer_norm(x, w, b).raw_data());
  for (auto _ : state) {
    Tensor y = layer_norm(x, w, b);
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_bytes(state, 2 * x.numel() * kF32);  // read x, write y
}
BENCHMARK(BM_LayerNormFwd)->Apply(row_args);

// Through autograd, as a model runs it: y = layer_norm(x, w, b); y.backward(dy).
void BM_LayerNormFwdBwd(benchmark::State& state) {
  const int64_t c = state.range(1);
  Tensor x = randn({state.range(0), c}), w = randn({c}), b = randn({c}), dy = randn({state.range(0), c});
  for (const Tensor* p : {&x, &w, &b}) p->requires_grad_();
  auto step = [&] {
    clear_grads({&x, &w, &b});
    layer_norm(x, w, b).backward(dy);
  };
  step();
  for (auto _ : state) {
    step();
    benchmark::DoNotOptimize(x.grad().raw_data());
  }
  set_bytes(state, 5 * x.numel() * kF32);  // forward: read x, write y; backward: read x, dy, write dx
}
BENCHMARK(BM_LayerNormFwdBwd)->Apply(row_args);

// The same two kernels called directly (ops::layer_norm, ops::layer_norm_backward),
// without the tape: the difference to BM_LayerNormFwdBwd is autograd's cost.
void BM_LayerNormFwdBwdOps(benchmark::State& state) {
  const int64_t c = state.range(1);
  Tensor x = randn({state.range(0), c}), w = randn({c}), b = randn({c}), dy = randn({state.range(0), c});
  auto step = [&] {
    ops::LayerNormResult r = ops::layer_norm(x, w, b, 1e-5);
    return ops::layer_norm_backward(x, w, r, dy);
  };
  step();
  for (auto _ : state) {
    ops::LayerNormGrads g = step();
    benchmark::DoNotOptimize(g.dx.raw_data());
  }
  set_bytes(state, 5 * x.numel() * kF32);
}
BENCHMARK(BM_LayerNormFwdBwdOps)->Apply(row_args);

// Args: rows, cols, tanh (0: exact erf form, 1: GPT-2's tanh approximation).
void BM_Gelu(benchmark::State& state) {
  Tensor x = randn({state.range(0), state.range(1)});
  const GeluApprox approx = state.range(2) != 0 ? GeluApprox::tanh : GeluApprox::none;
  benchmark::DoNotOptimize(gelu(x, approx).raw_data());
  for (auto _ : state) {
    Tensor y = gelu(x, approx);
    benchmark::DoNotOptimize(y.raw_data());
  }
  set_bytes(state, 2 * x.numel() * kF32);  // read x, write y
}
BENCHMARK(BM_Gelu)
    ->ArgNames({"rows", "cols", "tanh"})
    ->Args({4096, 768, 0})
    ->Args({4096, 768, 1})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// Cross-entropy (mean over rows) forward + backward. Logits 4096 x 1024
// (16 MiB) and 256 x 50257 (GPT-2's vocabulary, 49 MiB); targets uniform.
void ce_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"rows", "classes"})->Args({4096, 1024})->Args({256, 50257});
  b->Unit(benchmark::kMicrosecond)->UseRealTime();
}

Tensor random_targets(int64_t rows, int64_t classes) {
  std::vector<int64_t> t(size_t(rows), 0);
  std::vector<float> u = rand({rows}).to_vector<float>();  // U(0, 1]
  for (size_t i = 0; i < t.size(); ++i) t[i] = std::min<int64_t>(int64_t(u[i] * float(classes)), classes - 1);
  return from_vector(t, {rows});
}

void BM_CrossEntropyFwdBwd(benchmark::State& state) {
  const int64_t n = state.range(0), c = state.range(1);
  Tensor logits = randn({n, c});
  logits.requires_grad_();
  Tensor target = random_targets(n, c);
  auto step = [&] {
    clear_grads({&logits});
    cross_entropy(logits, target).backward();
  };
  step();
  for (auto _ : state) {
    step();
    benchmark::DoNotOptimize(logits.grad().raw_data());
  }
  set_bytes(state, 3 * n * c * kF32);  // forward: read logits; backward: read logits, write dlogits
}
BENCHMARK(BM_CrossEntropyFwdBwd)->Apply(ce_args);

void BM_CrossEntropyFwdBwdOps(benchmark::State& state) {
  const int64_t n = state.range(0), c = state.range(1);
  Tensor logits = randn({n, c});
  Tensor target = random_targets(n, c);
  Tensor dloss = full({n}, 1.0 / double(n));
  auto step = [&] {
    ops::CrossEntropyResult r = ops::cross_entropy_rows(logits, target, 0.0, -100);
    return ops::cross_entropy_backward(logits, target, r.lse, dloss, 0.0, -100);
  };
  step();
  for (auto _ : state) {
    Tensor dlogits = step();
    benchmark::DoNotOptimize(dlogits.raw_data());
  }
  set_bytes(state, 3 * n * c * kF32);
}
BENCHMARK(BM_CrossEntropyFwdBwdOps)->Apply(ce_args);

// ---- Attention -----------------------------------------------------------------------------------
// Causal self-attention, B = 1, H = 12, D = 64; forward + backward through
// autograd with q, k, v requiring grad. peak_MiB: the most the allocator held
// during one step beyond q, k, v and dout (out, lse, dq, dk, dv and any
// temporaries; the fused kernel's per-thread tile scratch, a few 64 x 64
// tiles on the C++ heap, is not included).

constexpr int64_t kHeads = 12, kHeadDim = 64;

struct AttentionInputs {
  Tensor q, k, v, dout;
  explicit AttentionInputs(int64_t t)
      : q(randn({1, kHeads, t, kHeadDim})),
        k(randn({1, kHeads, t, kHeadDim})),
        v(randn({1, kHeads, t, kHeadDim})),
        dout(randn({1, kHeads, t, kHeadDim})) {
    for (const Tensor* p : {&q, &k, &v}) p->requires_grad_();
  }
};

// Times step(), a forward + backward that leaves the gradients in q, k and v,
// and measures its peak once; the gradients are dropped after every step so
// that each step (and the peak) starts without them.
template <typename Step>
void run_attention(benchmark::State& state, AttentionInputs& in, Step&& forward_backward) {
  auto step = [&] {
    forward_backward();
    clear_grads({&in.q, &in.k, &in.v});
  };
  step();  // warm-up
  const double peak = peak_extra_mib(step);
  for (auto _ : state) step();
  state.counters["peak_MiB"] = peak;
}

void BM_Attention(benchmark::State& state) {
  AttentionInputs in(state.range(0));
  AttentionOptions options;
  options.causal = true;
  run_attention(state, in, [&] { scaled_dot_product_attention(in.q, in.k, in.v, options).backward(in.dout); });
}
BENCHMARK(BM_Attention)->ArgName("T")->Arg(256)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();

// The same attention as a chain of ops: S = q k^T / sqrt(D), masked, softmax,
// @ v. Stores the (T x T) scores and probabilities of every head.
void BM_AttentionNaive(benchmark::State& state) {
  const int64_t t = state.range(0);
  AttentionInputs in(t);
  std::vector<uint8_t> above(size_t(t * t), 0);
  for (int64_t i = 0; i < t; ++i) {
    for (int64_t j = i + 1; j < t; ++j) above[size_t(i * t + j)] = 1;
  }
  Tensor mask = from_vector(above, {t, t});
  const double scale = 1.0 / std::sqrt(double(kHeadDim));
  const double neg_inf = -std::numeric_limits<double>::infinity();
  run_attention(state, in, [&] {
    Tensor s = masked_fill(matmul(in.q, in.k.transpose(-2, -1)) * scale, mask, neg_inf);
    matmul(softmax(s, -1), in.v).backward(in.dout);
  });
}
BENCHMARK(BM_AttentionNaive)->ArgName("T")->Arg(256)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("omp_max_threads", std::to_string(omp_get_max_threads()));
  benchmark::AddCustomContext("openblas_threads", std::to_string(openblas_get_num_threads()));
  benchmark::AddCustomContext("openblas_config", openblas_get_config());
  benchmark::AddCustomContext("openblas_core", openblas_get_corename());
  for (const char* var : {"OMP_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"}) {
    const char* value = std::getenv(var);
    benchmark::AddCustomContext(var, value ? value : "(unset)");
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
