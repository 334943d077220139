// Differentiable ops: forward through core/ops.h, then record() a backward
// closure. Closures capture detached aliases (Tensor::detach) of what they
// need, and compute only the gradients of inputs that require them.
#include "autograd/functions.h"

#include <cmath>

namespace strata {

namespace {

bool needs_grad(const Tensor& t) { return t.defined() && t.requires_grad(); }

Tensor unary_op(const char* name, UnaryOp op, const Tensor& x, double scalar = 0.0) {
  Tensor y = ops::unary(op, x, scalar);
  Tensor xd = x.detach();
  return record(name, y, {x}, [xd, op, scalar](const Tensor& g) -> std::vector<Tensor> {
    return {ops::unary_backward(op, xd, ops::contiguous(g), scalar)};
  });
}

}  // namespace

// ---- elementwise -----------------------------------------------------------------

Tensor add(const Tensor& a, const Tensor& b) {
  Shape sa = a.shape(), sb = b.shape();
  return record("add", ops::add(a, b), {a, b}, [sa, sb](const Tensor& g) -> std::vector<Tensor> {
    return {ops::sum_to_shape(g, sa), ops::sum_to_shape(g, sb)};
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Shape sa = a.shape(), sb = b.shape();
  return record("sub", ops::sub(a, b), {a, b}, [sa, sb](const Tensor& g) -> std::vector<Tensor> {
    return {ops::sum_to_shape(g, sa), ops::sum_to_shape(ops::neg(g), sb)};
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  bool need_a = needs_grad(a), need_b = needs_grad(b);
  Tensor ad = need_b ? a.detach() : Tensor(), bd = need_a ? b.detach() : Tensor();
  Shape sa = a.shape(), sb = b.shape();
  return record("mul", ops::mul(a, b), {a, b}, [=](const Tensor& g) -> std::vector<Tensor> {
    return {need_a ? ops::sum_to_shape(ops::mul(g, bd), sa) : Tensor(),
            need_b ? ops::sum_to_shape(ops::mul(g, ad), sb) : Tensor()};
  });
}

Tensor div(const Tensor& a, const Tensor& b) {
  bool need_b = needs_grad(b);
  Tensor ad = need_b ? a.detach() : Tensor(), bd = b.detach();
  Shape sa = a.shape(), sb = b.shape();
  return record("div", ops::div(a, b), {a, b}, [=](const Tensor& g) -> std::vector<Tensor> {
    Tensor ga = ops::div(g, bd);
    Tensor gb;
    if (need_b) gb = ops::sum_to_shape(ops::neg(ops::div(ops::mul(ga, ad), bd)), sb);  // -g a / b^2
    return {ops::sum_to_shape(ga, sa), gb};
  });
}

Tensor add_scalar(const Tensor& x, double s) { return unary_op("add_scalar", UnaryOp::add_scalar, x, s); }
Tensor mul_scalar(const Tensor& x, double s) { return unary_op("mul_scalar", UnaryOp::mul_scalar, x, s); }
Tensor neg(const Tensor& x) { return unary_op("neg", UnaryOp::neg, x); }
Tensor exp(const Tensor& x) { return unary_op("exp", UnaryOp::exp, x); }
Tensor log(const Tensor& x) { return unary_op("log", UnaryOp::log, x); }
Tensor sqrt(const Tensor& x) { return unary_op("sqrt", UnaryOp::sqrt, x); }
Tensor rsqrt(const Tensor& x) { return unary_op("rsqrt", UnaryOp::rsqrt, x); }
Tensor abs(const Tensor& x) { return unary_op("abs", UnaryOp::abs, x); }
Tensor pow(const Tensor& x, double exponent) { return unary_op("pow", UnaryOp::pow_scalar, x, exponent); }
Tensor tanh(const Tensor& x) { return unary_op("tanh", UnaryOp::tanh, x); }
Tensor sigmoid(const Tensor& x) { return unary_op("sigmoid", UnaryOp::sigmoid, x); }
Tensor relu(const Tensor& x) { return unary_op("relu", UnaryOp::relu, x); }
Tensor silu(const Tensor& x) { return unary_op("silu", UnaryOp::silu, x); }
Tensor gelu(const Tensor& x, GeluApprox approx) {
  return approx == GeluApprox::tanh ? unary_op("gelu_tanh", UnaryOp::gelu_tanh, x)
                                    : unary_op("gelu", UnaryOp::gelu_erf, x);
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  Tensor c = cond.detach();
  Shape sa = a.shape(), sb = b.shape();
  return record("where", ops::where(cond, a, b), {a, b}, [=](const Tensor& g) -> std::vector<Tensor> {
    Tensor zero = zeros({}, g.options());
    return {ops::sum_to_shape(ops::where(c, g, zero), sa), ops::sum_to_shape(ops::where(c, zero, g), sb)};
  });
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  Tensor m = mask.detach();
  Shape sx = x.shape();
  return record("masked_fill", ops::masked_fill(x, mask, value), {x}, [=](const Tensor& g) -> std::vector<Tensor> {
    return {ops::sum_to_shape(ops::masked_fill(g, m, 0.0), sx)};
  });
}

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& x) { return neg(x); }
Tensor operator+(const Tensor& x, double s) { return add_scalar(x, s); }
Tensor operator-(const Tensor& x, double s) { return add_scalar(x, -s); }
Tensor operator*(const Tensor& x, double s) { return mul_scalar(x, s); }
Tensor operator/(const Tensor& x, double s) { return mul_scalar(x, 1.0 / s); }
Tensor operator*(double s, const Tensor& x) { return mul_scalar(x, s); }

// ---- reductions -------------------------------------------------------------------

namespace {

// Broadcasts a reduced gradient back over the reduced dims of `shape`.
Tensor unreduce(const Tensor& g, const Shape& shape, const std::vector<int64_t>& dims, bool keepdim) {
  Tensor kept = g;
  if (!keepdim) {
    Shape kept_shape = shape;
    int64_t rank = int64_t(shape.size());
    if (dims.empty()) {
      std::fill(kept_shape.begin(), kept_shape.end(), 1);
    } else {
      for (int64_t d : dims) kept_shape[normalize_dim(d, rank, "sum")] = 1;
    }
    kept = ops::reshape(g, kept_shape);
  }
  return ops::expand(kept, shape);
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  Shape sx = x.shape();
  return record("sum", ops::sum(x, dims, keepdim), {x}, [=](const Tensor& g) -> std::vector<Tensor> {
    return {unreduce(g, sx, dims, keepdim)};
  });
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  Shape sx = x.shape();
  Tensor y = ops::mean(x, dims, keepdim);
  double scale = x.numel() ? double(y.numel()) / double(x.numel()) : 0.0;
  return record("mean", y, {x}, [=](const Tensor& g) -> std::vector<Tensor> {
    return {ops::mul_scalar(unreduce(g, sx, dims, keepdim), scale)};
  });
}

Tensor amax(const Tensor& x, int64_t dim, bool keepdim) {
  auto [values, indices] = ops::max(x, dim, /*keepdim=*/true);
  int d = normalize_dim(dim, x.dim(), "amax");
  Shape sx = x.shape();
  Tensor out = keepdim ? values : ops::squeeze(values, d);
  return record("amax", out, {x}, [=](const Tensor& g) -> std::vector<Tensor> {
    // Scatter g to the position of each maximum: flat index of (o, idx, i).
    int64_t n = sx[d], inner = 1;
    for (size_t k = size_t(d) + 1; k < sx.size(); ++k) inner *= sx[k];
    std::vector<int64_t> idx = indices.to_vector<int64_t>();
    for (int64_t p = 0; p < int64_t(idx.size()); ++p) {
      int64_t o = p / inner, i = p % inner;
      idx[size_t(p)] = (o * n + idx[size_t(p)]) * inner + i;
    }
    Tensor flat = zeros({shape_numel(sx)}, g.options());
    ops::index_add_(flat, 0, from_vector(idx, {int64_t(idx.size())}), ops::reshape(g, {-1}));
    return {ops::view(flat, sx)};
  });
}

// ---- products ---------------------------------------------------------------------

Tensor matmul(const Tensor& a, const Tensor& b) {
  bool need_a = needs_grad(a), need_b = needs_grad(b);
  Tensor ad = need_b ? a.detach() : Tensor(), bd = need_a ? b.detach() : Tensor();
  Shape sa = a.shape(), sb = b.shape();
  return record("matmul", ops::matmul(a, b), {a, b}, [=](const Tensor& g) -> std::vector<Tensor> {
    Tensor ga, gb;
    if (need_a) ga = ops::sum_to_shape(ops::matmul(g, ops::transpose(bd, -1, -2)), sa);
    if (need_b) {
      if (sb.size() == 2 && sa.size() > 2) {
        // x (..., K) @ W (K, N): dW = x2^T g2 as one GEMM over all rows.
        int64_t k = sa.back(), n = sb.back();
        gb = ops::matmul(ops::transpose(ops::reshape(ad, {-1, k}), 0, 1), ops::reshape(g, {-1, n}));
      } else {
        gb = ops::sum_to_shape(ops::matmul(ops::transpose(ad, -1, -2), g), sb);
      }
    }
    return {ga, gb};
  });
}

// One node rather than matmul(x, weight.t()) + bias: the weight's gradient
// g^T x is formed in the weight's own (out, in) layout, and added straight
// into its .grad by the GEMM when it has one (LeafGradTarget), instead of
// a temporary that a transpose node and the engine copy and add.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  if (weight.dim() != 2 || x.dim() < 2 || x.size(-1) != weight.size(1)) {
    fail("linear", "expected x (..., in) and weight (out, in), got {} and {}", shape_str(x.shape()),
         shape_str(weight.shape()));
  }
  Tensor y = ops::matmul(x, ops::transpose(weight, 0, 1));
  if (bias.defined()) ops::add_(y, bias);
  const bool need_x = needs_grad(x), need_w = needs_grad(weight), need_b = needs_grad(bias);
  const Tensor xd = need_w ? x.detach() : Tensor(), wd = need_x ? weight.detach() : Tensor();
  const LeafGradTarget weight_grad(weight);
  const int64_t in = weight.size(1), out = weight.size(0);
  return record("linear", y, {x, weight, bias}, [=](const Tensor& g) -> std::vector<Tensor> {
    Tensor gx, gw, gb;
    const Tensor rows = ops::reshape(g, {-1, out});
    if (need_x) gx = ops::matmul(g, wd);
    if (need_w) {
      const Tensor rows_t = ops::transpose(rows, 0, 1), x_rows = ops::reshape(xd, {-1, in});
      if (const Tensor target = weight_grad.target(); target.defined()) {
        ops::matmul_out(target, rows_t, x_rows, /*accumulate=*/true);
      } else {
        gw = ops::matmul(rows_t, x_rows);
      }
    }
    if (need_b) gb = ops::sum(rows, {0});
    return {gx, gw, gb};
  });
}

// ---- normalisation, softmax, losses -------------------------------------------------------

Tensor softmax(const Tensor& x, int64_t dim) {
  Tensor y = ops::softmax(x, dim);
  Tensor yd = y.detach();
  return record("softmax", y, {x}, [=](const Tensor& g) -> std::vector<Tensor> {
    return {ops::softmax_backward(yd, g, dim, /*log=*/false)};
  });
}

Tensor log_softmax(const Tensor& x, int64_t dim) {
  Tensor y = ops::log_softmax(x, dim);
  Tensor yd = y.detach();
  return record("log_softmax", y, {x}, [=](const Tensor& g) -> std::vector<Tensor> {
    return {ops::softmax_backward(yd, g, dim, /*log=*/true)};
  });
}

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  ops::LayerNormResult r = ops::layer_norm(x, weight, bias, eps);
  Tensor xd = x.detach(), wd = weight.defined() ? weight.detach() : Tensor();
  ops::LayerNormResult saved{Tensor(), r.mean, r.rstd};
  bool has_bias = bias.defined();
  return record("layer_norm", r.y, {x, weight, bias}, [=](const Tensor& g) -> std::vector<Tensor> {
    ops::LayerNormGrads grads = ops::layer_norm_backward(xd, wd, saved, g);
    return {grads.dx, grads.dweight, has_bias ? grads.dbias : Tensor()};
  });
}

Tensor cross_entropy(const Tensor& logits_in, const Tensor& target_in, CrossEntropyOptions o) {
  if (logits_in.dim() < 1) fail("cross_entropy", "logits must have a class dim, got a scalar");
  Shape lead(logits_in.shape().begin(), logits_in.shape().end() - 1);
  if (target_in.shape() != lead) {
    fail("cross_entropy", "target shape {} does not match logits {}", shape_str(target_in.shape()),
         shape_str(logits_in.shape()));
  }
  int64_t classes = logits_in.size(-1);
  Tensor logits = logits_in.reshape({-1, classes});
  Tensor target = ops::reshape(target_in, {-1});
  ops::CrossEntropyResult r = ops::cross_entropy_rows(logits, target, o.label_smoothing, o.ignore_index);

  Tensor loss;
  double row_scale = 1.0;
  if (o.reduction == CrossEntropyOptions::Reduction::none) {
    loss = ops::reshape(r.loss_rows, lead);
  } else {
    loss = ops::sum(r.loss_rows);
    if (o.reduction == CrossEntropyOptions::Reduction::mean) {
      std::vector<int64_t> t = ops::cast(target, DType::i64).to_vector<int64_t>();
      int64_t valid = std::count_if(t.begin(), t.end(), [&](int64_t v) { return v != o.ignore_index; });
      row_scale = valid ? 1.0 / double(valid) : std::nan("");
      loss = ops::mul_scalar(loss, row_scale);
    }
  }
  Tensor ld = logits.detach(), td = target.detach(), lse = r.lse;
  int64_t rows = logits.size(0);
  bool per_row = o.reduction == CrossEntropyOptions::Reduction::none;
  return record("cross_entropy", loss, {logits}, [=](const Tensor& g) -> std::vector<Tensor> {
    Tensor dloss_rows = per_row ? ops::reshape(g, {rows})
                                : ops::mul_scalar(ops::expand(ops::reshape(g, {1}), {rows}), row_scale);
    return {ops::cross_entropy_backward(ld, td, lse, dloss_rows, o.label_smoothing, o.ignore_index)};
  });
}

// ---- indexing and joining --------------------------------------------------------------------

Tensor embedding(const Tensor& weight, const Tensor& index) {
  Tensor idx = ops::reshape(index, {-1});
  Tensor out = ops::embedding(weight, index);
  Shape sw = weight.shape();
  const LeafGradTarget weight_grad(weight);
  return record("embedding", out, {weight}, [=](const Tensor& g) -> std::vector<Tensor> {
    // Rows are added into the leaf's .grad when it has one (LeafGradTarget):
    // a (V, C) table of zeros for a few rows would cost more than the rows.
    const Tensor target = weight_grad.target();
    Tensor dw = target.defined() ? target : zeros(sw, g.options());
    ops::index_add_(dw, 0, idx, ops::reshape(g, {-1, sw[1]}));
    return {target.defined() ? Tensor() : dw};
  });
}

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  Tensor idx = index.detach();
  Shape sx = x.shape();
  return record("index_select", ops::index_select(x, dim, index), {x}, [=](const Tensor& g) -> std::vector<Tensor> {
    Tensor dx = zeros(sx, g.options());
    ops::index_add_(dx, dim, idx, g);
    return {dx};
  });
}

Tensor cat(const std::vector<Tensor>& xs, int64_t dim) {
  Tensor out = ops::cat(xs, dim);
  int d = normalize_dim(dim, out.dim(), "cat");
  std::vector<int64_t> sizes;
  for (const Tensor& x : xs) sizes.push_back(x.shape()[d]);
  return record("cat", out, xs, [=](const Tensor& g) -> std::vector<Tensor> {
    std::vector<Tensor> grads;
    int64_t at = 0;
    for (int64_t size : sizes) {
      grads.push_back(ops::slice(g, d, at, at + size));
      at += size;
    }
    return grads;
  });
}

Tensor stack(const std::vector<Tensor>& xs, int64_t dim) {
  Tensor out = ops::stack(xs, dim);
  int d = normalize_dim(dim, out.dim(), "stack");
  int64_t count = int64_t(xs.size());
  return record("stack", out, xs, [=](const Tensor& g) -> std::vector<Tensor> {
    std::vector<Tensor> grads;
    for (int64_t i = 0; i < count; ++i) grads.push_back(ops::squeeze(ops::slice(g, d, i, i + 1), d));
    return grads;
  });
}

// ---- regularisation ------------------------------------------------------------------------------

Tensor dropout(const Tensor& x, double p, bool training, Generator* gen) {
  if (p < 0.0 || p >= 1.0) fail("dropout", "p = {} not in [0, 1)", p);
  if (!training || p == 0.0) return x;
  Tensor mask = empty(x.shape(), x.options());
  ops::backend_of(x).bernoulli(mask, 1.0 - p, 1.0 / (1.0 - p),
                               (gen ? *gen : default_generator()).reserve(uint64_t(x.numel())));
  return record("dropout", ops::mul(x, mask), {x}, [mask](const Tensor& g) -> std::vector<Tensor> {
    return {ops::mul(g, mask)};
  });
}

// ---- attention ---------------------------------------------------------------------------------------

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionOptions& o) {
  AttentionArgs args;
  args.causal = o.causal;
  args.dropout_p = o.dropout_p;
  if (q.dim() != 4) fail("attention", "q must be (B, H, T, D), got {}", shape_str(q.shape()));
  args.scale = o.scale.value_or(1.0 / std::sqrt(double(q.size(3))));
  if (o.dropout_p > 0.0) {
    uint64_t draws = uint64_t(q.size(0) * q.size(1) * q.size(2)) * uint64_t(k.dim() == 4 ? k.size(2) : 0);
    args.dropout_rng = (o.generator ? *o.generator : default_generator()).reserve(draws);
  }
  ops::AttentionResult r = ops::attention(q, k, v, args);
  Tensor qd = q.detach(), kd = k.detach(), vd = v.detach();
  ops::AttentionResult saved{r.out.detach(), r.lse};
  return record("attention", r.out, {q, k, v}, [=](const Tensor& g) -> std::vector<Tensor> {
    ops::AttentionGrads grads = ops::attention_backward(qd, kd, vd, saved, g, args);
    return {grads.dq, grads.dk, grads.dv};
  });
}

}  // namespace strata
