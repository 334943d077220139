// The computational ops: argument checks, output allocation, dispatch.
#include "core/ops.h"

#include <algorithm>
#include <cmath>

#include "core/autocast.h"

namespace strata::ops {

// ---- checks -------------------------------------------------------------------

Backend& backend_of(const Tensor& x) { return backend_for(x.device()); }

void check_same_device(const char* op, const Tensor& a, const Tensor& b) {
  if (a.device() != b.device()) {
    fail(op, "tensors on different devices: {} and {}", a.device().str(), b.device().str());
  }
}

void check_same_dtype(const char* op, const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype()) {
    fail(op, "dtype mismatch: {} {} and {} {}", dtype_name(a.dtype()), shape_str(a.shape()),
         dtype_name(b.dtype()), shape_str(b.shape()));
  }
}

void check_floating(const char* op, const Tensor& x) {
  if (x.dtype() != DType::f32 && x.dtype() != DType::f64) {
    fail(op, "expected an f32 or f64 tensor, got {} {}", dtype_name(x.dtype()), shape_str(x.shape()));
  }
}

namespace {

void check_defined(const char* op, const Tensor& x) {
  if (!x.defined()) fail(op, "got an undefined tensor");
}

void check_pair(const char* op, const Tensor& a, const Tensor& b) {
  check_defined(op, a);
  check_defined(op, b);
  check_same_device(op, a, b);
  check_same_dtype(op, a, b);
}

std::vector<int> normalized_dims(const std::vector<int64_t>& dims, int64_t rank, const char* op) {
  std::vector<int> out;
  if (dims.empty()) {
    for (int d = 0; d < rank; ++d) out.push_back(d);
    return out;
  }
  for (int64_t d : dims) out.push_back(normalize_dim(d, rank, op));
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end()) {
    fail(op, "dim repeated in {}", shape_str(dims));
  }
  return out;
}

}  // namespace

// ---- copies and casts -------------------------------------------------------------

void copy_(const Tensor& dst, const Tensor& src) {
  check_defined("copy_", dst);
  check_defined("copy_", src);
  broadcast_shapes(src.shape(), dst.shape(), "copy_");
  if (dst.numel() == 0) return;
  // Between devices (a host tensor into a GPU one, or back: loading a
  // checkpoint into a model on the GPU) the non-CPU side's backend moves
  // the bytes, as in PyTorch's copy_.
  const Device via = dst.device().type != DeviceType::cpu ? dst.device() : src.device();
  backend_for(via).copy(expand(src, dst.shape()), dst);
}

void fill_(const Tensor& dst, double value) {
  check_defined("fill_", dst);
  if (dst.numel() == 0) return;
  backend_of(dst).fill(dst, value);
}

Tensor contiguous(const Tensor& x) { return x.is_contiguous() ? x : clone(x); }

Tensor clone(const Tensor& x) {
  Tensor out = empty(x.shape(), x.options());
  copy_(out, x);
  return out;
}

Tensor cast(const Tensor& x, DType dtype) {
  if (x.dtype() == dtype) return x;
  Tensor out = empty(x.shape(), {dtype, x.device()});
  copy_(out, x);
  return out;
}

// ---- elementwise -------------------------------------------------------------------

Tensor unary(UnaryOp op, const Tensor& x, double scalar) {
  check_defined("unary", x);
  check_floating("unary", x);
  Tensor y = empty(x.shape(), x.options());
  if (x.numel()) backend_of(x).unary(op, scalar, x, y);
  return y;
}

Tensor unary_backward(UnaryOp op, const Tensor& x, const Tensor& dy, double scalar) {
  check_pair("unary_backward", x, dy);
  if (x.shape() != dy.shape()) {
    fail("unary_backward", "x {} and dy {} differ", shape_str(x.shape()), shape_str(dy.shape()));
  }
  Tensor dx = empty(x.shape(), x.options());
  if (x.numel()) backend_of(x).unary_backward(op, scalar, x, dy, dx);
  return dx;
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  check_pair("binary", a, b);
  check_floating("binary", a);
  Shape shape = broadcast_shapes(a.shape(), b.shape(), "binary");
  Tensor out = empty(shape, a.options());
  if (out.numel()) backend_of(a).binary(op, expand(a, shape), expand(b, shape), out);
  return out;
}

void add_(const Tensor& dst, const Tensor& src) {
  check_pair("add_", dst, src);
  check_floating("add_", dst);
  if (broadcast_shapes(dst.shape(), src.shape(), "add_") != dst.shape()) {
    fail("add_", "cannot add {} into {}", shape_str(src.shape()), shape_str(dst.shape()));
  }
  if (dst.numel()) backend_of(dst).binary(BinaryOp::add, dst, expand(src, dst.shape()), dst);
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_pair("where", a, b);
  check_same_device("where", cond, a);
  if (cond.dtype() != DType::u8) fail("where", "condition must be u8, got {}", dtype_name(cond.dtype()));
  Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor out = empty(shape, a.options());
  if (out.numel()) {
    backend_of(a).where(expand(cond, shape), expand(a, shape), expand(b, shape), out);
  }
  return out;
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, double value) {
  return where(mask, full({}, value, x.options()), x);
}

// ---- reductions ---------------------------------------------------------------------

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  check_defined("sum", x);
  check_floating("sum", x);
  std::vector<int> reduce = normalized_dims(dims, x.dim(), "sum");
  Shape kept_shape = x.shape();
  for (int d : reduce) kept_shape[d] = 1;
  Tensor out = zeros(kept_shape, x.options());
  if (x.numel()) backend_of(x).sum(contiguous(x), out);
  if (keepdim) return out;
  Shape squeezed;
  for (int d = 0; d < x.dim(); ++d) {
    if (!std::binary_search(reduce.begin(), reduce.end(), d)) squeezed.push_back(x.shape()[d]);
  }
  return view(out, squeezed);
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  std::vector<int> reduce = normalized_dims(dims, x.dim(), "mean");
  int64_t count = 1;
  for (int d : reduce) count *= x.shape()[d];
  if (count == 0) fail("mean", "mean over an empty set of elements, shape {}", shape_str(x.shape()));
  return mul_scalar(sum(x, dims, keepdim), 1.0 / double(count));
}

std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim) {
  check_defined("max", x);
  check_floating("max", x);
  int d = normalize_dim(dim, x.dim(), "max");
  if (x.shape()[d] == 0) fail("max", "reducing an empty dim {} of {}", d, shape_str(x.shape()));
  Shape kept_shape = x.shape();
  kept_shape[d] = 1;
  Tensor values = empty(kept_shape, x.options());
  Tensor indices = empty(kept_shape, {DType::i64, x.device()});
  if (x.numel()) backend_of(x).max(contiguous(x), d, values, indices);
  if (keepdim) return {values, indices};
  return {squeeze(values, d), squeeze(indices, d)};
}

Tensor sum_to_shape(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  size_t lead = x.shape().size() - shape.size();
  std::vector<int64_t> dims;
  for (size_t i = 0; i < x.shape().size(); ++i) {
    if (i < lead || (shape[i - lead] == 1 && x.shape()[i] != 1)) dims.push_back(int64_t(i));
  }
  Tensor summed = sum(x, dims, /*keepdim=*/true);
  return view(summed, shape);
}

// ---- matrix products ----------------------------------------------------------------

namespace {

// Inside a bf16 Autocast scope, f32 products round their operands to bf16.
bool autocast_applies(DType dtype) { return dtype == DType::f32 && autocast_precision() == Precision::bf16; }

// How one operand's trailing matrix is laid out for BLAS: row-major with
// leading dimension `ld`, or its transpose. False when neither works.
bool matrix_layout(const Tensor& x, bool& transposed, int64_t& ld) {
  int64_t rows = x.size(-2), cols = x.size(-1);
  int64_t s_row = x.stride(-2), s_col = x.stride(-1);
  if (s_col == 1 && (rows == 1 || s_row >= std::max<int64_t>(cols, 1))) {
    transposed = false;
    ld = rows == 1 ? std::max<int64_t>(cols, 1) : s_row;
    return true;
  }
  if (s_row == 1 && (cols == 1 || s_col >= std::max<int64_t>(rows, 1))) {
    transposed = true;
    ld = cols == 1 ? std::max<int64_t>(rows, 1) : s_col;
    return true;
  }
  return false;
}

// The single stride that steps through all batch dims of x (after broadcast
// to `batch_shape`), if there is one.
bool batch_stride(const Tensor& x, const Shape& batch_shape, int64_t& stride) {
  Tensor expanded = expand(x, [&] {
    Shape s = batch_shape;
    s.push_back(x.size(-2));
    s.push_back(x.size(-1));
    return s;
  }());
  stride = 0;
  int64_t expected = -1;  // the stride the next-outer dim must have
  for (int64_t d = int64_t(batch_shape.size()) - 1; d >= 0; --d) {
    int64_t size = batch_shape[d], s = expanded.strides()[d];
    if (size == 1) continue;
    if (expected < 0) {
      stride = s;
    } else if (s != expected) {
      return false;
    }
    expected = s * size;
  }
  return true;
}

}  // namespace

Tensor matmul(const Tensor& a_in, const Tensor& b_in) {
  check_pair("matmul", a_in, b_in);
  check_floating("matmul", a_in);
  if (a_in.dim() < 2 || b_in.dim() < 2) {
    fail("matmul", "operands need at least 2 dims, got {} and {}", shape_str(a_in.shape()),
         shape_str(b_in.shape()));
  }
  if (a_in.size(-1) != b_in.size(-2)) {
    fail("matmul", "inner dims differ: {} @ {}", shape_str(a_in.shape()), shape_str(b_in.shape()));
  }
  Tensor a = a_in, b = b_in;
  // (..., M, K) @ (K, N) with a's rows evenly strided: fold the batch into M, one GEMM.
  if (b.dim() == 2 && a.dim() > 2 && a.size(-1) > 0) {
    Shape rows_by_k{a.numel() / a.size(-1), a.size(-1)};
    if (can_view(a, rows_by_k)) {
      Shape out_shape(a.shape().begin(), a.shape().end() - 1);
      out_shape.push_back(b.size(-1));
      return view(matmul(view(a, rows_by_k), b), out_shape);
    }
  }
  Shape batch_a(a.shape().begin(), a.shape().end() - 2);
  Shape batch_b(b.shape().begin(), b.shape().end() - 2);
  Shape batch = broadcast_shapes(batch_a, batch_b, "matmul");
  int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  Shape out_shape = batch;
  out_shape.push_back(m);
  out_shape.push_back(n);
  Tensor c = empty(out_shape, a.options());
  if (c.numel() == 0) return c;
  if (k == 0) {
    fill_(c, 0.0);
    return c;
  }

  GemmArgs args;
  args.dtype = a.dtype();
  args.bf16_operands = autocast_applies(args.dtype);
  args.m = m;
  args.n = n;
  args.k = k;
  args.batch = shape_numel(batch);
  int64_t stride_a = 0, stride_b = 0;
  if (!matrix_layout(a, args.trans_a, args.lda) || !batch_stride(a, batch, stride_a)) {
    a = contiguous(expand(a, [&] { Shape s = batch; s.push_back(m); s.push_back(k); return s; }()));
    matrix_layout(a, args.trans_a, args.lda);
    batch_stride(a, batch, stride_a);
  }
  if (!matrix_layout(b, args.trans_b, args.ldb) || !batch_stride(b, batch, stride_b)) {
    b = contiguous(expand(b, [&] { Shape s = batch; s.push_back(k); s.push_back(n); return s; }()));
    matrix_layout(b, args.trans_b, args.ldb);
    batch_stride(b, batch, stride_b);
  }
  args.a = a.raw_data();
  args.stride_a = stride_a;
  args.b = b.raw_data();
  args.stride_b = stride_b;
  args.c = c.raw_data();
  args.ldc = n;
  args.stride_c = m * n;
  backend_of(c).gemm(args);
  return c;
}

// ---- BLAST: matmul into an existing view ------------------------------------------------

namespace {

// Points args at x's matrices (a copy of x when its layout is not GEMM-able).
// Returns the tensor whose storage args reads, which must outlive the call.
Tensor gemm_operand(const Tensor& x, const Shape& batch, bool& transposed, int64_t& ld, int64_t& stride) {
  if (matrix_layout(x, transposed, ld) && batch_stride(x, batch, stride)) return x;
  Shape full = batch;
  full.push_back(x.size(-2));
  full.push_back(x.size(-1));
  Tensor c = contiguous(expand(x, full));
  matrix_layout(c, transposed, ld);
  batch_stride(c, batch, stride);
  return c;
}

}  // namespace

void matmul_out(const Tensor& out, const Tensor& a_in, const Tensor& b_in, bool accumulate) {
  check_pair("matmul_out", a_in, b_in);
  check_pair("matmul_out", out, a_in);
  check_floating("matmul_out", a_in);
  if (a_in.dim() < 2 || b_in.dim() < 2 || a_in.size(-1) != b_in.size(-2)) {
    fail("matmul_out", "cannot multiply {} @ {}", shape_str(a_in.shape()), shape_str(b_in.shape()));
  }
  Shape batch = broadcast_shapes(Shape(a_in.shape().begin(), a_in.shape().end() - 2),
                                 Shape(b_in.shape().begin(), b_in.shape().end() - 2), "matmul_out");
  Shape expected = batch;
  expected.push_back(a_in.size(-2));
  expected.push_back(b_in.size(-1));
  if (out.shape() != expected) {
    fail("matmul_out", "{} @ {} is {}, but out is {}", shape_str(a_in.shape()), shape_str(b_in.shape()),
         shape_str(expected), shape_str(out.shape()));
  }
  if (out.numel() == 0) return;
  GemmArgs args;
  bool out_transposed = false;
  int64_t stride_c = 0;
  const bool direct = matrix_layout(out, out_transposed, args.ldc) && !out_transposed &&
                      batch_stride(out, batch, stride_c) && (shape_numel(batch) == 1 || stride_c != 0);
  if (!direct || a_in.size(-1) == 0) {  // through a temporary (k == 0: the product is zero)
    Tensor product = matmul(a_in, b_in);
    accumulate ? add_(out, product) : copy_(out, product);
    return;
  }
  args.dtype = out.dtype();
  args.bf16_operands = autocast_applies(args.dtype);
  args.m = out.size(-2);
  args.n = out.size(-1);
  args.k = a_in.size(-1);
  args.batch = shape_numel(batch);
  Tensor a = gemm_operand(a_in, batch, args.trans_a, args.lda, args.stride_a);
  Tensor b = gemm_operand(b_in, batch, args.trans_b, args.ldb, args.stride_b);
  args.a = a.raw_data();
  args.b = b.raw_data();
  args.c = out.raw_data();
  args.stride_c = stride_c;
  args.beta = accumulate ? 1.0 : 0.0;
  backend_of(out).gemm(args);
}

// ---- fused row ops ----------------------------------------------------------------------

namespace {

// Runs a last-dim row kernel over `dim` by moving that dim last (copying only
// when it is not already last).
template <typename RowOp>
Tensor along_last_dim(const Tensor& x, int64_t dim, const char* op, RowOp row_op) {
  int d = normalize_dim(dim, x.dim(), op);
  if (d == x.dim() - 1) return row_op(contiguous(x));
  Tensor moved = contiguous(transpose(x, d, -1));
  return contiguous(transpose(row_op(moved), d, -1));
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) {
  check_floating("softmax", x);
  return along_last_dim(x, dim, "softmax", [](const Tensor& xc) {
    Tensor y = empty(xc.shape(), xc.options());
    if (xc.numel()) backend_of(xc).softmax(xc, y, /*log=*/false);
    return y;
  });
}

Tensor log_softmax(const Tensor& x, int64_t dim) {
  check_floating("log_softmax", x);
  return along_last_dim(x, dim, "log_softmax", [](const Tensor& xc) {
    Tensor y = empty(xc.shape(), xc.options());
    if (xc.numel()) backend_of(xc).softmax(xc, y, /*log=*/true);
    return y;
  });
}

Tensor softmax_backward(const Tensor& y, const Tensor& dy, int64_t dim, bool log) {
  check_pair("softmax_backward", y, dy);
  int d = normalize_dim(dim, y.dim(), "softmax_backward");
  Tensor yc = contiguous(transpose(y, d, -1));
  Tensor dyc = contiguous(transpose(dy, d, -1));
  Tensor dx = empty(yc.shape(), yc.options());
  if (dx.numel()) backend_of(y).softmax_backward(yc, dyc, dx, log);
  return contiguous(transpose(dx, d, -1));
}

LayerNormResult layer_norm(const Tensor& x_in, const Tensor& weight, const Tensor& bias, double eps) {
  check_floating("layer_norm", x_in);
  if (x_in.dim() < 1) fail("layer_norm", "input must have at least one dim");
  int64_t c = x_in.size(-1);
  for (const Tensor* p : {&weight, &bias}) {
    if (!p->defined()) continue;
    check_pair("layer_norm", x_in, *p);
    if (p->shape() != Shape{c}) {
      fail("layer_norm", "weight/bias shape {} does not match normalized size {} of input {}",
           shape_str(p->shape()), c, shape_str(x_in.shape()));
    }
  }
  Tensor x = contiguous(x_in);
  Shape rows_shape(x.shape().begin(), x.shape().end() - 1);
  LayerNormResult r{empty(x.shape(), x.options()), empty(rows_shape, x.options()),
                    empty(rows_shape, x.options())};
  if (x.numel()) {
    backend_of(x).layer_norm(x, weight.defined() ? contiguous(weight) : weight,
                             bias.defined() ? contiguous(bias) : bias, eps, r.y, r.mean, r.rstd);
  }
  return r;
}

LayerNormGrads layer_norm_backward(const Tensor& x_in, const Tensor& weight, const LayerNormResult& saved,
                                   const Tensor& dy) {
  check_pair("layer_norm_backward", x_in, dy);
  Tensor x = contiguous(x_in);
  LayerNormGrads g;
  g.dx = empty(x.shape(), x.options());
  if (weight.defined()) {
    g.dweight = zeros(weight.shape(), weight.options());
    g.dbias = zeros(weight.shape(), weight.options());
  }
  if (x.numel()) {
    backend_of(x).layer_norm_backward(x, weight.defined() ? contiguous(weight) : weight, saved.mean,
                                      saved.rstd, contiguous(dy), g.dx, g.dweight, g.dbias);
  }
  return g;
}

CrossEntropyResult cross_entropy_rows(const Tensor& logits_in, const Tensor& target_in, double smoothing,
                                      int64_t ignore_index) {
  check_floating("cross_entropy", logits_in);
  if (logits_in.dim() != 2) {
    fail("cross_entropy", "logits must be (N, C), got {}", shape_str(logits_in.shape()));
  }
  if (target_in.dim() != 1 || target_in.size(0) != logits_in.size(0)) {
    fail("cross_entropy", "target shape {} does not match logits {}", shape_str(target_in.shape()),
         shape_str(logits_in.shape()));
  }
  if (smoothing < 0.0 || smoothing > 1.0) fail("cross_entropy", "label_smoothing {} not in [0, 1]", smoothing);
  int64_t classes = logits_in.size(1);
  // ignore_index rows pass the range check; every other target must be a class.
  if (is_floating(target_in.dtype())) {
    fail("cross_entropy", "target must be an integer tensor, got {}", dtype_name(target_in.dtype()));
  }
  // Checked on the host (a copy when the target is on a GPU), then used
  // on the logits' device.
  Tensor target = contiguous(cast(target_in, DType::i64));
  Tensor target_host = target.to(Device::cpu());
  const int64_t* t = target_host.data<int64_t>();
  for (int64_t i = 0; i < target_host.numel(); ++i) {
    if (t[i] != ignore_index && (t[i] < 0 || t[i] >= classes)) {
      fail("cross_entropy", "target {} at row {} is out of range [0, {})", t[i], i, classes);
    }
  }
  target = target.to(logits_in.device());
  Tensor logits = contiguous(logits_in);
  CrossEntropyResult r{empty({logits.size(0)}, logits.options()), empty({logits.size(0)}, logits.options())};
  if (logits.numel()) backend_of(logits).cross_entropy(logits, target, smoothing, ignore_index, r.loss_rows, r.lse);
  return r;
}

Tensor cross_entropy_backward(const Tensor& logits_in, const Tensor& target, const Tensor& lse,
                              const Tensor& dloss_rows, double smoothing, int64_t ignore_index) {
  Tensor logits = contiguous(logits_in);
  Tensor dlogits = empty(logits.shape(), logits.options());
  if (logits.numel()) {
    backend_of(logits).cross_entropy_backward(logits, cast(contiguous(target), DType::i64).to(logits.device()), lse,
                                              contiguous(dloss_rows), smoothing, ignore_index, dlogits);
  }
  return dlogits;
}

// ---- gathers, scatters, joins ----------------------------------------------------------------

Tensor checked_index(const Tensor& index, int64_t limit, const char* op) {
  if (!index.defined() || is_floating(index.dtype())) {
    fail(op, "index must be an integer tensor, got {}", index.defined() ? dtype_name(index.dtype()) : "undefined");
  }
  Tensor idx = contiguous(cast(index, DType::i64));
  Tensor host = idx.to(Device::cpu());  // checked on the host, a copy for a GPU index
  const int64_t* p = host.data<int64_t>();
  for (int64_t i = 0; i < host.numel(); ++i) {
    if (p[i] < 0 || p[i] >= limit) fail(op, "index {} at position {} is out of range [0, {})", p[i], i, limit);
  }
  return idx;
}

Tensor index_select(const Tensor& x_in, int64_t dim, const Tensor& index) {
  check_defined("index_select", x_in);
  int d = normalize_dim(dim, x_in.dim(), "index_select");
  Tensor idx = checked_index(index, x_in.shape()[d], "index_select").to(x_in.device());
  if (idx.dim() != 1) fail("index_select", "index must be 1-D, got {}", shape_str(idx.shape()));
  Tensor x = contiguous(x_in);
  Shape shape = x.shape();
  shape[d] = idx.numel();
  Tensor out = empty(shape, x.options());
  if (out.numel()) backend_of(x).index_select(x, d, idx, out);
  return out;
}

void index_add_(const Tensor& dst, int64_t dim, const Tensor& index, const Tensor& src_in) {
  check_pair("index_add_", dst, src_in);
  int d = normalize_dim(dim, dst.dim(), "index_add_");
  Tensor idx = checked_index(index, dst.shape()[d], "index_add_").to(dst.device());
  Shape expect = dst.shape();
  expect[d] = idx.numel();
  if (idx.dim() != 1 || src_in.shape() != expect) {
    fail("index_add_", "src {} and index {} do not match dst {} along dim {}", shape_str(src_in.shape()),
         shape_str(idx.shape()), shape_str(dst.shape()), d);
  }
  if (!dst.is_contiguous()) fail("index_add_", "dst must be contiguous");
  if (src_in.numel()) backend_of(dst).index_add(dst, d, idx, contiguous(src_in));
}

Tensor embedding(const Tensor& weight, const Tensor& index) {
  if (weight.dim() != 2) fail("embedding", "weight must be (V, C), got {}", shape_str(weight.shape()));
  Tensor flat = index_select(weight, 0, reshape(index, {-1}));
  Shape shape = index.shape();
  shape.push_back(weight.size(1));
  return view(flat, shape);
}

Tensor cat(const std::vector<Tensor>& xs, int64_t dim) {
  if (xs.empty()) fail("cat", "no tensors to concatenate");
  int d = normalize_dim(dim, xs[0].dim(), "cat");
  Shape shape = xs[0].shape();
  shape[d] = 0;
  for (const Tensor& x : xs) {
    check_pair("cat", xs[0], x);
    Shape probe = x.shape();
    if (probe.size() != shape.size()) fail("cat", "rank mismatch: {} and {}", shape_str(xs[0].shape()), shape_str(probe));
    probe[d] = 0;
    Shape base = xs[0].shape();
    base[d] = 0;
    if (probe != base) fail("cat", "shapes {} and {} differ outside dim {}", shape_str(xs[0].shape()), shape_str(x.shape()), d);
    shape[d] += x.shape()[d];
  }
  Tensor out = empty(shape, xs[0].options());
  int64_t at = 0;
  for (const Tensor& x : xs) {
    copy_(slice(out, d, at, at + x.shape()[d]), x);
    at += x.shape()[d];
  }
  return out;
}

Tensor stack(const std::vector<Tensor>& xs, int64_t dim) {
  if (xs.empty()) fail("stack", "no tensors to stack");
  int d = normalize_dim(dim, xs[0].dim() + 1, "stack");
  std::vector<Tensor> expanded;
  for (const Tensor& x : xs) {
    if (x.shape() != xs[0].shape()) fail("stack", "shapes {} and {} differ", shape_str(xs[0].shape()), shape_str(x.shape()));
    expanded.push_back(unsqueeze(x, d));
  }
  return cat(expanded, d);
}

// ---- in-place updates -------------------------------------------------------------------------

void mul_scalar_(const Tensor& x, double s) {
  check_defined("mul_scalar_", x);
  check_floating("mul_scalar_", x);
  if (x.numel()) backend_of(x).unary(UnaryOp::mul_scalar, s, x, x);
}

namespace {

// Optimizer arenas: flat, contiguous, f32, all of one size.
void check_arena(const char* op, const Tensor& param, const Tensor& other) {
  check_defined(op, other);
  check_same_device(op, param, other);
  if (other.dtype() != DType::f32 || !other.is_contiguous() || other.numel() != param.numel()) {
    fail(op, "expected a contiguous f32 tensor of {} elements, got {} {}", param.numel(),
         dtype_name(other.dtype()), shape_str(other.shape()));
  }
}

}  // namespace

void adamw_step_(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v, const AdamWArgs& args) {
  for (const Tensor* t : {&param, &grad, &m, &v}) check_arena("adamw_step_", param, *t);
  if (args.step < 1) fail("adamw_step_", "step must be >= 1 (bias correction), got {}", args.step);
  if (param.numel()) backend_of(param).adamw_step(param, grad, m, v, args);
}

void sgd_step_(const Tensor& param, const Tensor& grad, const Tensor& buf, double lr, double momentum,
               double weight_decay, bool nesterov) {
  check_arena("sgd_step_", param, param);
  check_arena("sgd_step_", param, grad);
  if (momentum != 0.0) check_arena("sgd_step_", param, buf);
  if (param.numel()) backend_of(param).sgd_step(param, grad, momentum != 0.0 ? buf : Tensor(), lr, momentum,
                                                weight_decay, nesterov);
}

// ---- attention ----------------------------------------------------------------------------------

namespace {

void check_attention_inputs(const Tensor& q, const Tensor& k, const Tensor& v) {
  check_pair("attention", q, k);
  check_pair("attention", q, v);
  check_floating("attention", q);
  if (q.dim() != 4 || k.dim() != 4 || v.dim() != 4) {
    fail("attention", "q, k, v must be (B, H, T, D), got {}, {}, {}", shape_str(q.shape()),
         shape_str(k.shape()), shape_str(v.shape()));
  }
  if (k.shape() != v.shape() || q.size(0) != k.size(0) || q.size(1) != k.size(1) || q.size(3) != k.size(3)) {
    fail("attention", "q {} does not match k {} and v {}", shape_str(q.shape()), shape_str(k.shape()),
         shape_str(v.shape()));
  }
}

}  // namespace

AttentionResult attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionArgs& args) {
  check_attention_inputs(q, k, v);
  if (args.dropout_p < 0.0 || args.dropout_p >= 1.0) fail("attention", "dropout_p {} not in [0, 1)", args.dropout_p);
  AttentionResult r{empty(q.shape(), q.options()), empty({q.size(0), q.size(1), q.size(2)}, q.options())};
  if (q.numel() && k.size(2)) backend_of(q).attention(contiguous(q), contiguous(k), contiguous(v), args, r.out, r.lse);
  return r;
}

AttentionGrads attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionResult& saved,
                                  const Tensor& dout, const AttentionArgs& args) {
  check_attention_inputs(q, k, v);
  AttentionGrads g{zeros(q.shape(), q.options()), zeros(k.shape(), k.options()), zeros(v.shape(), v.options())};
  if (q.numel() && k.size(2)) {
    backend_of(q).attention_backward(contiguous(q), contiguous(k), contiguous(v), saved.out, saved.lse,
                                     contiguous(dout), args, g.dq, g.dk, g.dv);
  }
  return g;
}

}  // namespace strata::ops
