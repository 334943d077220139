#pragma once
// The differentiable op set: what models are written in. Each function runs
// the forward op from core/ops.h and, when an input requires grad, records a
// Node whose backward is written with the same ops (see functions_*.cpp).
#include <optional>
#include <vector>

#include "autograd/node.h"
#include "core/ops.h"
#include "core/random.h"
#include "core/tensor.h"

namespace strata {

// ---- elementwise (broadcasting) ----------------------------------------------
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor add_scalar(const Tensor& x, double s);
Tensor mul_scalar(const Tensor& x, double s);
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor pow(const Tensor& x, double exponent);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor silu(const Tensor& x);
enum class GeluApprox { none, tanh };  // erf form, or GPT-2's tanh form
Tensor gelu(const Tensor& x, GeluApprox approx = GeluApprox::none);
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);  // cond u8
Tensor masked_fill(const Tensor& x, const Tensor& mask, double value);

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& x);
Tensor operator+(const Tensor& x, double s);
Tensor operator-(const Tensor& x, double s);
Tensor operator*(const Tensor& x, double s);
Tensor operator/(const Tensor& x, double s);
Tensor operator*(double s, const Tensor& x);

// ---- reductions ----------------------------------------------------------------
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims = {}, bool keepdim = false);
Tensor amax(const Tensor& x, int64_t dim, bool keepdim = false);  // gradient to the first maximum

// ---- products --------------------------------------------------------------------
Tensor matmul(const Tensor& a, const Tensor& b);
// y = x W^T + b, x (..., in), W (out, in), b (out) or undefined.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

// ---- normalisation, softmax, losses ------------------------------------------------
Tensor softmax(const Tensor& x, int64_t dim = -1);
Tensor log_softmax(const Tensor& x, int64_t dim = -1);
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps = 1e-5);

struct CrossEntropyOptions {
  double label_smoothing = 0.0;
  int64_t ignore_index = -100;
  enum class Reduction { mean, sum, none } reduction = Reduction::mean;
};
// logits (N, C) or (..., C) with target of the leading shape; mean is over
// the rows that are not ignored.
Tensor cross_entropy(const Tensor& logits, const Tensor& target, CrossEntropyOptions options = {});

// ---- indexing and joining ------------------------------------------------------------
Tensor embedding(const Tensor& weight, const Tensor& index);
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
Tensor cat(const std::vector<Tensor>& xs, int64_t dim);
Tensor stack(const std::vector<Tensor>& xs, int64_t dim);

// ---- regularisation ---------------------------------------------------------------
// Zeroes each element with probability p and scales the rest by 1/(1-p);
// the identity when !training or p == 0.
Tensor dropout(const Tensor& x, double p, bool training = true, Generator* gen = nullptr);

// ---- attention ------------------------------------------------------------------------
struct AttentionOptions {
  bool causal = false;
  double dropout_p = 0.0;
  std::optional<double> scale;  // default 1/sqrt(head dim)
  Generator* generator = nullptr;
};
// q (B, H, Tq, D), k and v (B, H, Tk, D) -> (B, H, Tq, D). One fused op,
// flash-style: no (Tq x Tk) matrix per head is ever stored.
Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    const AttentionOptions& options = {});

}  // namespace strata
