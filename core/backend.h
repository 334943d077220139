#pragma once
// Backend: the one interface every device implements. The ops in core/ops.h
// check their arguments, allocate outputs and call exactly one of these; a
// backend never sees a malformed call. Output tensors are passed as `const
// Tensor&` handles whose elements the backend writes.
//
// Conventions every backend may rely on (ops.cpp guarantees them):
//  - all tensors of one call are on the backend's device;
//  - "contiguous" arguments are contiguous; elementwise arguments may have
//    any strides (broadcast dims have stride 0) and share the output's shape;
//  - floating kernels are called with f32 or f64 (and bf16 where stated);
//  - an elementwise output may be the very same view as an input (in-place
//    ops: add_, mul_scalar_); kernels read each element before writing it.
#include <cstdint>
#include <vector>

#include "core/philox.h"
#include "core/tensor.h"

namespace strata {

enum class UnaryOp : uint8_t {
  neg, exp, log, sqrt, rsqrt, tanh, sigmoid, relu, silu, gelu_erf, gelu_tanh,
  pow_scalar, add_scalar, mul_scalar, abs,
};
enum class BinaryOp : uint8_t { add, sub, mul, div };

// Row-major C[b] = alpha * op(A[b]) op(B[b]) + beta * C[b], b < batch.
// op(A) is m x k, op(B) is k x n; ld* are the row strides of the stored
// (untransposed) matrices; stride_* step between batch entries (0 broadcasts).
struct GemmArgs {
  DType dtype = DType::f32;
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0, batch = 1;
  const void* a = nullptr; int64_t lda = 0, stride_a = 0;
  const void* b = nullptr; int64_t ldb = 0, stride_b = 0;
  void* c = nullptr; int64_t ldc = 0, stride_c = 0;
  double alpha = 1.0, beta = 0.0;
  // f32 only: operands rounded to bf16, products accumulated in f32, C in
  // f32 (core/autocast.h). A backend may read the operands in bf16 as long
  // as the result is what rounding them first would give.
  bool bf16_operands = false;
};

// The elements one GEMM operand spans, from its first element to its last:
// a batch of `batch` stored matrices `stride` apart, each op(X) = rows x cols
// stored with row stride ld (transposed when `trans`). Backends that convert
// an operand (bf16 autocast) convert this range.
int64_t gemm_operand_extent(bool trans, int64_t rows, int64_t cols, int64_t ld, int64_t batch, int64_t stride);

struct AttentionArgs {
  bool causal = false;
  double scale = 1.0;
  double dropout_p = 0.0;
  PhiloxState dropout_rng;  // the mask is regenerated from this in backward
};

struct AdamWArgs {
  double lr, beta1, beta2, eps, weight_decay;
  int64_t step;  // 1-based, for bias correction
};

class Backend {
 public:
  virtual ~Backend() = default;

  // ---- memory -------------------------------------------------------------
  virtual Allocator& allocator() = 0;
  // Waits until all work queued on this device has finished (for timing;
  // results read back to the host are always finished).
  virtual void synchronize() {}
  // dst = src converted to dst's dtype; any strides, same shape.
  virtual void copy(const Tensor& src, const Tensor& dst) = 0;
  virtual void fill(const Tensor& dst, double value) = 0;  // any strides
  virtual void uniform(const Tensor& dst, double low, double high, PhiloxState rng) = 0;  // contiguous
  virtual void normal(const Tensor& dst, double mean, double std, PhiloxState rng) = 0;   // contiguous
  // dst = (uniform < p) ? value : 0; contiguous. Dropout masks and bernoulli().
  virtual void bernoulli(const Tensor& dst, double p, double value, PhiloxState rng) = 0;

  // ---- elementwise --------------------------------------------------------
  virtual void unary(UnaryOp op, double scalar, const Tensor& x, const Tensor& y) = 0;
  // dx = dy * d op(x) / dx
  virtual void unary_backward(UnaryOp op, double scalar, const Tensor& x, const Tensor& dy,
                              const Tensor& dx) = 0;
  virtual void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) = 0;
  // out = cond != 0 ? a : b   (cond u8)
  virtual void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) = 0;

  // ---- reductions (x contiguous; out keeps x's rank, reduced dims size 1) --
  virtual void sum(const Tensor& x, const Tensor& out) = 0;
  // max over one dim: values and i64 indices of the first maximum
  virtual void max(const Tensor& x, int dim, const Tensor& values, const Tensor& indices) = 0;

  // ---- matrix products ----------------------------------------------------
  virtual void gemm(const GemmArgs& args) = 0;

  // ---- fused row ops over the last dim (contiguous) -----------------------
  virtual void softmax(const Tensor& x, const Tensor& y, bool log) = 0;
  // dx = y*(dy - sum(dy*y)) for softmax, dy - exp(y)*sum(dy) for log-softmax
  virtual void softmax_backward(const Tensor& y, const Tensor& dy, const Tensor& dx, bool log) = 0;
  // y = (x - mean) * rstd * w + b; mean and rstd have one entry per row
  virtual void layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, double eps,
                          const Tensor& y, const Tensor& mean, const Tensor& rstd) = 0;
  // w, dw, db may be undefined (no affine); dw and db are overwritten
  virtual void layer_norm_backward(const Tensor& x, const Tensor& w, const Tensor& mean,
                                   const Tensor& rstd, const Tensor& dy, const Tensor& dx,
                                   const Tensor& dw, const Tensor& db) = 0;
  // loss[i] over rows of logits (N x C); target i64; ignored rows get 0.
  // lse[i] = logsumexp of row i, saved for backward.
  virtual void cross_entropy(const Tensor& logits, const Tensor& target, double smoothing,
                             int64_t ignore_index, const Tensor& loss, const Tensor& lse) = 0;
  // dlogits = dloss[i] * (softmax - smoothed one-hot), zero on ignored rows
  virtual void cross_entropy_backward(const Tensor& logits, const Tensor& target,
                                      const Tensor& lse, const Tensor& dloss, double smoothing,
                                      int64_t ignore_index, const Tensor& dlogits) = 0;

  // ---- gathers and scatters (indices i64, already range-checked) ----------
  // out[..., i, ...] = x[..., index[i], ...] along `dim`
  virtual void index_select(const Tensor& x, int dim, const Tensor& index, const Tensor& out) = 0;
  // out[..., index[i], ...] += src[..., i, ...] along `dim`
  virtual void index_add(const Tensor& out, int dim, const Tensor& index, const Tensor& src) = 0;

  // ---- attention (q, k, v, out: (B, H, T, D) contiguous; lse: (B, H, Tq)) --
  virtual void attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionArgs& args,
                         const Tensor& out, const Tensor& lse) = 0;
  virtual void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v,
                                  const Tensor& out, const Tensor& lse, const Tensor& dout,
                                  const AttentionArgs& args, const Tensor& dq, const Tensor& dk,
                                  const Tensor& dv) = 0;

  // ---- BLAST coupling (s (b, b, r), z, w, dw, dz (b, N, r); contiguous) ------
  // w[i, n, k] = sum_j s[i, j, k] z[j, n, k]
  virtual void blast_mix(const Tensor& s, const Tensor& z, const Tensor& w) = 0;
  // dz[j, n, k] = sum_i s[i, j, k] dw[i, n, k]; ds[i, j, k] = sum_n z[j, n, k] dw[i, n, k].
  // Either output may be undefined (not wanted).
  virtual void blast_mix_backward(const Tensor& s, const Tensor& z, const Tensor& dw, const Tensor& dz,
                                  const Tensor& ds) = 0;

  // ---- optimizers (flat contiguous f32 arenas) -----------------------------
  virtual void adamw_step(const Tensor& param, const Tensor& grad, const Tensor& m,
                          const Tensor& v, const AdamWArgs& args) = 0;
  // buf = momentum*buf + g (g = grad + wd*param); param -= lr * (nesterov ? g + momentum*buf : buf)
  virtual void sgd_step(const Tensor& param, const Tensor& grad, const Tensor& buf, double lr,
                        double momentum, double weight_decay, bool nesterov) = 0;
};

// The backend for a device. CUDA registers itself when built and present.
Backend& backend_for(Device device);
inline void synchronize(Device device) { backend_for(device).synchronize(); }
void register_backend(DeviceType type, Backend* backend);

}  // namespace strata
