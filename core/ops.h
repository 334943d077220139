#pragma once
// The op set: every computation in Strata reduces to these functions. Each
// checks its arguments (throwing strata::Error naming the op, shapes and
// dtypes), allocates its outputs and dispatches to the Backend of its
// inputs' device. Nothing here records autograd history: autograd/functions.h
// wraps these into differentiable ops, with backward passes built from them.
#include <utility>
#include <vector>

#include "core/backend.h"
#include "core/tensor.h"

namespace strata::ops {

// ---- copies and casts -------------------------------------------------------
void copy_(const Tensor& dst, const Tensor& src);  // broadcasts src, converts dtype
void fill_(const Tensor& dst, double value);
Tensor contiguous(const Tensor& x);  // x itself when already contiguous
Tensor clone(const Tensor& x);
Tensor cast(const Tensor& x, DType dtype);  // x itself when already of that dtype

// ---- views (share storage; no data moves) -----------------------------------
Tensor view(const Tensor& x, Shape shape);  // one -1 allowed; error if strides forbid
bool can_view(const Tensor& x, const Shape& shape);
Tensor reshape(const Tensor& x, Shape shape);  // view when possible, else a copy
Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1);
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step = 1);
Tensor expand(const Tensor& x, const Shape& shape);  // broadcast, stride 0 on new dims
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor squeeze(const Tensor& x, int64_t dim);
Shape infer_shape(Shape shape, int64_t numel, const char* op);  // resolves one -1

// ---- elementwise ------------------------------------------------------------
Tensor unary(UnaryOp op, const Tensor& x, double scalar = 0.0);
Tensor unary_backward(UnaryOp op, const Tensor& x, const Tensor& dy, double scalar = 0.0);
Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b);  // NumPy broadcasting
inline Tensor add(const Tensor& a, const Tensor& b) { return binary(BinaryOp::add, a, b); }
inline Tensor sub(const Tensor& a, const Tensor& b) { return binary(BinaryOp::sub, a, b); }
inline Tensor mul(const Tensor& a, const Tensor& b) { return binary(BinaryOp::mul, a, b); }
inline Tensor div(const Tensor& a, const Tensor& b) { return binary(BinaryOp::div, a, b); }
inline Tensor neg(const Tensor& x) { return unary(UnaryOp::neg, x); }
inline Tensor mul_scalar(const Tensor& x, double s) { return unary(UnaryOp::mul_scalar, x, s); }
inline Tensor add_scalar(const Tensor& x, double s) { return unary(UnaryOp::add_scalar, x, s); }
void add_(const Tensor& dst, const Tensor& src);  // dst += src (src broadcast to dst)
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);  // cond u8, broadcasting
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);

// ---- reductions ---------------------------------------------------------------
// Empty `dims` reduces over every dim.
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
// Maximum over one dim: values and i64 indices (first maximum).
std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim = false);
// Sums a broadcast gradient back to `shape` (the inverse of broadcasting).
Tensor sum_to_shape(const Tensor& x, const Shape& shape);

// ---- matrix products ------------------------------------------------------------
// (..., M, K) @ (..., K, N) with broadcast batch dims; 1-D operands are not
// promoted. Transposed views go to BLAS as transposes, without copies.
Tensor matmul(const Tensor& a, const Tensor& b);

// ---- fused row ops ---------------------------------------------------------------
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);
Tensor softmax_backward(const Tensor& y, const Tensor& dy, int64_t dim, bool log);

struct LayerNormResult { Tensor y, mean, rstd; };
// Normalises over the last dim; weight and bias (shape [C]) may be undefined.
LayerNormResult layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps);
struct LayerNormGrads { Tensor dx, dweight, dbias; };
LayerNormGrads layer_norm_backward(const Tensor& x, const Tensor& weight, const LayerNormResult& saved,
                                   const Tensor& dy);

struct CrossEntropyResult { Tensor loss_rows, lse; };
// logits (N, C) floating, target (N) integer in [0, C) or == ignore_index.
CrossEntropyResult cross_entropy_rows(const Tensor& logits, const Tensor& target, double smoothing,
                                      int64_t ignore_index);
Tensor cross_entropy_backward(const Tensor& logits, const Tensor& target, const Tensor& lse,
                              const Tensor& dloss_rows, double smoothing, int64_t ignore_index);

// ---- gathers, scatters, joins ------------------------------------------------------
// Validates an integer index tensor against [0, limit) and returns it as i64.
Tensor checked_index(const Tensor& index, int64_t limit, const char* op);
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
void index_add_(const Tensor& dst, int64_t dim, const Tensor& index, const Tensor& src);
Tensor embedding(const Tensor& weight, const Tensor& index);  // (V, C)[idx] -> idx.shape + (C)
Tensor cat(const std::vector<Tensor>& xs, int64_t dim);
Tensor stack(const std::vector<Tensor>& xs, int64_t dim);

// ---- in-place updates (optimizers, clipping) ------------------------------------------
void mul_scalar_(const Tensor& x, double s);  // x *= s
// Flat f32 arenas of equal size: param, grad, first and second moments.
void adamw_step_(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, const AdamWArgs& args);
// buf may be undefined when momentum == 0.
void sgd_step_(const Tensor& param, const Tensor& grad, const Tensor& buf, double lr, double momentum,
               double weight_decay, bool nesterov);

// ---- attention ---------------------------------------------------------------------
struct AttentionResult { Tensor out, lse; };
// q (B, H, Tq, D), k and v (B, H, Tk, D). Flash-style: memory O(tile) per thread.
AttentionResult attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionArgs& args);
struct AttentionGrads { Tensor dq, dk, dv; };
AttentionGrads attention_backward(const Tensor& q, const Tensor& k, const Tensor& v,
                                  const AttentionResult& saved, const Tensor& dout,
                                  const AttentionArgs& args);

// ---- BLAST (block low-rank with shared bases; layers/blast.h) ----------------------
// out = a @ b written into an existing view (out += a @ b when accumulate), so
// batched products can read and write column blocks of larger matrices
// without copies: out may be e.g. a (N, out) matrix viewed as (b, N, p) with
// batch stride p and row stride out. Shapes as matmul; out must have
// exactly the result's shape. When out's layout is not a strided batch of
// row-major matrices the product goes through a temporary. out must not
// overlap itself or the operands.
void matmul_out(const Tensor& out, const Tensor& a, const Tensor& b, bool accumulate = false);
// BLAST's coupling stage: w[i] = sum_j s[i, j] * z[j] (elementwise over the
// rank), s (b, b, r), z (b, N, r) -> w (b, N, r).
Tensor blast_mix(const Tensor& s, const Tensor& z);
// Its backward: dz[j] = sum_i s[i, j] * dw[i] and ds[i, j] = sum_n z[j, n] * dw[i, n];
// each only when asked (undefined otherwise).
struct BlastMixGrads { Tensor dz, ds; };
BlastMixGrads blast_mix_backward(const Tensor& s, const Tensor& z, const Tensor& dw, bool need_dz, bool need_ds);

// ---- checks shared by the ops ------------------------------------------------------
void check_same_device(const char* op, const Tensor& a, const Tensor& b);
void check_same_dtype(const char* op, const Tensor& a, const Tensor& b);
void check_floating(const char* op, const Tensor& x);
Backend& backend_of(const Tensor& x);

}  // namespace strata::ops
