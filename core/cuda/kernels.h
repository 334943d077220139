#pragma once
// The boundary between the CUDA backend's host code and its kernels.
//
// Host code (cuda_backend.cpp, gemm.cpp, ...) sees Tensors and throws
// strata::Error; it is compiled by the C++ compiler. Kernels (*.cu) see only
// raw pointers, sizes and the small POD structs below, and are compiled by
// nvcc. The split is deliberate: nvcc cannot parse the project's fmt headers
// (core/error.h), so no .cu file includes core/tensor.h.
//
// Every launcher takes the stream it runs on first, launches asynchronously
// and checks the launch (not the completion) with STRATA_CUDA_CHECK.
#include <cuda_runtime_api.h>

#include <cstdint>

#include "core/philox.h"

namespace strata::cuda {

// Throws strata::Error("cuda: <what> failed: <cudaGetErrorString> (file:line)").
[[noreturn]] void fail_cuda(cudaError_t status, const char* what, const char* file, int line);
// Throws strata::Error("cuda: <message>") for errors that are not CUDA status codes.
[[noreturn]] void fail_message(const char* message);

#define STRATA_CUDA_CHECK(expr)                                                         \
  do {                                                                                  \
    const cudaError_t strata_cuda_status_ = (expr);                                     \
    if (strata_cuda_status_ != cudaSuccess)                                             \
      ::strata::cuda::fail_cuda(strata_cuda_status_, #expr, __FILE__, __LINE__);        \
  } while (0)

// Mirrors of the core enums (core/dtype.h, core/backend.h), which the .cu
// files cannot include. cuda_backend.cpp static_asserts that they agree.
enum class ElemType : uint8_t { f32, f64, bf16, i32, i64, u8 };
enum class Unary : uint8_t {
  neg, exp, log, sqrt, rsqrt, tanh, sigmoid, relu, silu, gelu_erf, gelu_tanh,
  pow_scalar, add_scalar, mul_scalar, abs,
};
enum class Binary : uint8_t { add, sub, mul, div };

// ---- strided elementwise geometry ----------------------------------------------
// One shape shared by up to kMaxOperands operands with their own strides (in
// elements; 0 for a broadcast dim). The host merges dims first (size-1 dims
// dropped, runs that are contiguous for every operand fused), so most calls
// arrive with rank 1 or 2. Passed to kernels by value.
constexpr int kMaxDims = 8;
constexpr int kMaxOperands = 4;

struct Strided {
  int rank = 0;
  int64_t numel = 0;
  int64_t shape[kMaxDims] = {};
  int64_t strides[kMaxOperands][kMaxDims] = {};
  bool all_contiguous = false;  // every operand is dense and row-major: index i is offset i
};

// Operand order: copy (dst, src); fill (dst); unary (y, x); unary_backward
// (dx, x, dy); binary (out, a, b); where (out, cond, a, b).
void launch_copy(cudaStream_t stream, ElemType src_type, const void* src, ElemType dst_type, void* dst,
                 const Strided& geometry);
void launch_fill(cudaStream_t stream, ElemType type, void* dst, double value, const Strided& geometry);
void launch_unary(cudaStream_t stream, ElemType type, Unary op, double scalar, const void* x, void* y,
                  const Strided& geometry);
void launch_unary_backward(cudaStream_t stream, ElemType type, Unary op, double scalar, const void* x,
                           const void* dy, void* dx, const Strided& geometry);
void launch_binary(cudaStream_t stream, ElemType type, Binary op, const void* a, const void* b, void* out,
                   const Strided& geometry);
void launch_where(cudaStream_t stream, ElemType type, const uint8_t* cond, const void* a, const void* b, void* out,
                  const Strided& geometry);

// ---- random fills (contiguous; same numbers as the CPU backend) ------------------
void launch_uniform(cudaStream_t stream, ElemType type, void* dst, int64_t n, double low, double high,
                    PhiloxState rng);
void launch_normal(cudaStream_t stream, ElemType type, void* dst, int64_t n, double mean, double std,
                   PhiloxState rng);
void launch_bernoulli(cudaStream_t stream, ElemType type, void* dst, int64_t n, double p, double value,
                      PhiloxState rng);

// ---- reductions ------------------------------------------------------------------
// x's dims split into kept dims (one output each) and reduced dims, each
// with their sizes and strides in x (merged like Strided).
struct ReduceGeometry {
  int kept_rank = 0, reduced_rank = 0;
  int64_t kept_shape[kMaxDims] = {}, kept_strides[kMaxDims] = {};
  int64_t reduced_shape[kMaxDims] = {}, reduced_strides[kMaxDims] = {};
  int64_t kept_numel = 1, reduced_numel = 1;
  bool reduce_innermost = false;  // x's innermost (non-1) dim is reduced
};
// Doubles of scratch launch_sum needs (0: none).
int64_t sum_scratch_elems(const ReduceGeometry& geometry);
void launch_sum(cudaStream_t stream, ElemType type, const void* x, void* out, const ReduceGeometry& geometry,
                double* scratch);
// x contiguous (outer, n, inner); values (outer, inner), indices i64.
void launch_max(cudaStream_t stream, ElemType type, const void* x, void* values, int64_t* indices, int64_t outer,
                int64_t n, int64_t inner);

// ---- fused row ops over the last dim (rows x n, contiguous) ---------------------
void launch_softmax(cudaStream_t stream, ElemType type, const void* x, void* y, int64_t rows, int64_t n, bool log);
void launch_softmax_backward(cudaStream_t stream, ElemType type, const void* y, const void* dy, void* dx,
                             int64_t rows, int64_t n, bool log);
// w, b may be null (no affine).
void launch_layer_norm(cudaStream_t stream, ElemType type, const void* x, const void* w, const void* b, double eps,
                       void* y, void* mean, void* rstd, int64_t rows, int64_t n);
int64_t layer_norm_backward_scratch_elems(int64_t rows, int64_t n);
// w may be null; dw and db null together (no affine), else overwritten.
void launch_layer_norm_backward(cudaStream_t stream, ElemType type, const void* x, const void* w,
                                const void* mean, const void* rstd, const void* dy, void* dx, void* dw, void* db,
                                int64_t rows, int64_t n, double* scratch);
void launch_cross_entropy(cudaStream_t stream, ElemType type, const void* logits, const int64_t* target,
                          double smoothing, int64_t ignore_index, void* loss, void* lse, int64_t rows, int64_t n);
void launch_cross_entropy_backward(cudaStream_t stream, ElemType type, const void* logits, const int64_t* target,
                                   const void* lse, const void* dloss, double smoothing, int64_t ignore_index,
                                   void* dlogits, int64_t rows, int64_t n);

// ---- gathers and scatters along one dim: x viewed as (outer, size, inner) --------
void launch_index_select(cudaStream_t stream, int element_bytes, const void* x, const int64_t* index, void* out,
                         int64_t outer, int64_t size, int64_t inner, int64_t count);
void launch_index_add(cudaStream_t stream, ElemType type, void* out, const int64_t* index, const void* src,
                      int64_t outer, int64_t size, int64_t inner, int64_t count);

// ---- attention: q (heads, tq, d), k and v (heads, tk, d), lse (heads, tq) ----------
struct AttentionGeometry {
  int64_t heads = 0, tq = 0, tk = 0, d = 0;
  bool causal = false;
  double scale = 1.0, dropout_p = 0.0;
  PhiloxState dropout_rng;
};
void launch_attention(cudaStream_t stream, ElemType type, const AttentionGeometry& g, const void* q, const void* k,
                      const void* v, void* out, void* lse);
// drow: scratch of heads * tq elements of `type`.
void launch_attention_backward(cudaStream_t stream, ElemType type, const AttentionGeometry& g, const void* q,
                               const void* k, const void* v, const void* out, const void* lse, const void* dout,
                               void* dq, void* dk, void* dv, void* drow);

// ---- BLAST coupling: s (b, b, r), z and w (b, rows, r) ----------------------------
void launch_blast_mix(cudaStream_t stream, ElemType type, const void* s, const void* z, void* w, int64_t b,
                      int64_t rows, int64_t r);
int64_t blast_mix_backward_scratch_elems(int64_t b, int64_t rows, int64_t r);
// dz or ds may be null (not wanted).
void launch_blast_mix_backward(cudaStream_t stream, ElemType type, const void* s, const void* z, const void* dw,
                               void* dz, void* ds, int64_t b, int64_t rows, int64_t r, double* scratch);

// ---- optimizers over flat f32 arenas ----------------------------------------------
struct AdamWConstants {
  float beta1, beta2, step_size, inv_sqrt_bias2, decay, eps;
};
void launch_adamw(cudaStream_t stream, float* param, const float* grad, float* m, float* v, int64_t n,
                  AdamWConstants c);
// buf null when momentum == 0.
void launch_sgd(cudaStream_t stream, float* param, const float* grad, float* buf, int64_t n, float lr,
                float momentum, float weight_decay, bool nesterov);

}  // namespace strata::cuda
