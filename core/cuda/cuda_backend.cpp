// CudaBackend's host side: turns Tensors into the pointers, sizes and small
// geometry structs of kernels.h and launches on the backend's stream.
// ops.cpp has already checked every argument (core/backend.h), so this file
// only translates. GEMM is in gemm.cpp, the stream and handles in runtime.cpp.
#include <cmath>

#include "core/cuda/cuda_api.h"
#include "core/cuda/cuda_backend.h"
#include "core/cuda/kernels.h"
#include "core/ops.h"

namespace strata::cuda {

// The kernels' mirrors of the core enums must agree value for value.
static_assert(uint8_t(ElemType::f32) == uint8_t(DType::f32) && uint8_t(ElemType::f64) == uint8_t(DType::f64) &&
              uint8_t(ElemType::bf16) == uint8_t(DType::bf16) && uint8_t(ElemType::i32) == uint8_t(DType::i32) &&
              uint8_t(ElemType::i64) == uint8_t(DType::i64) && uint8_t(ElemType::u8) == uint8_t(DType::u8));
static_assert(uint8_t(Unary::neg) == uint8_t(UnaryOp::neg) && uint8_t(Unary::exp) == uint8_t(UnaryOp::exp) &&
              uint8_t(Unary::log) == uint8_t(UnaryOp::log) && uint8_t(Unary::sqrt) == uint8_t(UnaryOp::sqrt) &&
              uint8_t(Unary::rsqrt) == uint8_t(UnaryOp::rsqrt) && uint8_t(Unary::tanh) == uint8_t(UnaryOp::tanh) &&
              uint8_t(Unary::sigmoid) == uint8_t(UnaryOp::sigmoid) && uint8_t(Unary::relu) == uint8_t(UnaryOp::relu) &&
              uint8_t(Unary::silu) == uint8_t(UnaryOp::silu) &&
              uint8_t(Unary::gelu_erf) == uint8_t(UnaryOp::gelu_erf) &&
              uint8_t(Unary::gelu_tanh) == uint8_t(UnaryOp::gelu_tanh) &&
              uint8_t(Unary::pow_scalar) == uint8_t(UnaryOp::pow_scalar) &&
              uint8_t(Unary::add_scalar) == uint8_t(UnaryOp::add_scalar) &&
              uint8_t(Unary::mul_scalar) == uint8_t(UnaryOp::mul_scalar) && uint8_t(Unary::abs) == uint8_t(UnaryOp::abs));
static_assert(uint8_t(Binary::add) == uint8_t(BinaryOp::add) && uint8_t(Binary::sub) == uint8_t(BinaryOp::sub) &&
              uint8_t(Binary::mul) == uint8_t(BinaryOp::mul) && uint8_t(Binary::div) == uint8_t(BinaryOp::div));

namespace {

ElemType elem(DType dtype) { return ElemType(uint8_t(dtype)); }
ElemType elem(const Tensor& t) { return elem(t.dtype()); }

// The geometry of tensors sharing `shape`: size-1 dims dropped, and a dim
// merged into the one before it when that holds for every operand.
Strided make_strided(const Shape& shape, std::initializer_list<const Tensor*> operands) {
  Strided g;
  const int count = int(operands.size());
  g.numel = shape_numel(shape);
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = g.rank > 0;
    int k = 0;
    for (const Tensor* t : operands) {
      merge = merge && g.strides[k][g.rank - 1] == t->strides()[d] * shape[d];
      ++k;
    }
    if (merge) {
      g.shape[g.rank - 1] *= shape[d];
      k = 0;
      for (const Tensor* t : operands) g.strides[k++][g.rank - 1] = t->strides()[d];
      continue;
    }
    if (g.rank == kMaxDims) {
      fail("cuda", "shape {} has more than {} dims that cannot be merged", shape_str(shape), kMaxDims);
    }
    g.shape[g.rank] = shape[d];
    k = 0;
    for (const Tensor* t : operands) g.strides[k++][g.rank] = t->strides()[d];
    ++g.rank;
  }
  if (g.rank == 0) {  // one element
    g.rank = 1;
    g.shape[0] = 1;
    for (int k = 0; k < count; ++k) g.strides[k][0] = 1;
  }
  g.all_contiguous = g.rank == 1;
  for (int k = 0; k < count; ++k) g.all_contiguous = g.all_contiguous && g.strides[k][0] == 1;
  return g;
}

// Kept and reduced dims of x (out has x's rank with reduced dims of size 1).
ReduceGeometry make_reduce_geometry(const Tensor& x, const Tensor& out) {
  ReduceGeometry g;
  const Shape& shape = x.shape();
  const Shape& strides = x.strides();
  int last = -1;  // group of the previous non-1 dim: 0 kept, 1 reduced
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    const bool reduced = out.shape()[d] == 1;
    int& rank = reduced ? g.reduced_rank : g.kept_rank;
    int64_t* sizes = reduced ? g.reduced_shape : g.kept_shape;
    int64_t* strs = reduced ? g.reduced_strides : g.kept_strides;
    if (rank > 0 && strs[rank - 1] == strides[d] * shape[d]) {
      sizes[rank - 1] *= shape[d];
      strs[rank - 1] = strides[d];
    } else {
      if (rank == kMaxDims) fail("sum", "too many separate dims in {} for the CUDA kernel", shape_str(shape));
      sizes[rank] = shape[d];
      strs[rank] = strides[d];
      ++rank;
    }
    (reduced ? g.reduced_numel : g.kept_numel) *= shape[d];
    last = reduced ? 1 : 0;
  }
  g.reduce_innermost = last == 1;
  return g;
}

int64_t rows_of(const Tensor& x) { return x.dim() == 0 ? 1 : x.numel() / x.size(-1); }
int64_t cols_of(const Tensor& x) { return x.dim() == 0 ? 1 : x.size(-1); }

// x's dims around `dim`: (outer, size, inner).
struct DimSplit {
  int64_t outer = 1, size = 1, inner = 1;
};

DimSplit split_at(const Shape& shape, int dim) {
  DimSplit s;
  for (int d = 0; d < int(shape.size()); ++d) {
    if (d < dim) s.outer *= shape[size_t(d)];
    else if (d == dim) s.size = shape[size_t(d)];
    else s.inner *= shape[size_t(d)];
  }
  return s;
}

const void* ptr(const Tensor& t) { return t.defined() ? t.raw_data() : nullptr; }
void* mut(const Tensor& t) { return t.defined() ? t.raw_data() : nullptr; }

bool on_cuda(const Tensor& t) { return t.device().type == DeviceType::cuda; }

CudaBackend& backend_of_device(int index) { return static_cast<CudaBackend&>(backend(index)); }

}  // namespace

Tensor CudaBackend::scratch(int64_t numel, DType dtype) const {
  return empty({std::max<int64_t>(numel, 1)}, {dtype, Device::cuda(device_)});
}

// ---- copies ---------------------------------------------------------------------------

void CudaBackend::copy(const Tensor& src, const Tensor& dst) {
  if (on_cuda(src) && on_cuda(dst)) {
    if (src.device() == dst.device()) return backend_of_device(dst.device().index).copy_on_device(src, dst);
    // Between two GPUs: through the host (rare; peer copies are an optimisation for later).
    Tensor host = empty(src.shape(), {src.dtype(), Device::cpu()});
    backend_of_device(src.device().index).copy_to_host(src, host);
    backend_of_device(dst.device().index).copy_from_host(host, dst);
    return;
  }
  if (on_cuda(dst)) return backend_of_device(dst.device().index).copy_from_host(src, dst);
  if (on_cuda(src)) return backend_of_device(src.device().index).copy_to_host(src, dst);
  fail("cuda copy", "neither tensor is on a CUDA device");
}

void CudaBackend::copy_on_device(const Tensor& src, const Tensor& dst) {
  activate();
  launch_copy(stream_, elem(src), src.raw_data(), elem(dst), dst.raw_data(), make_strided(dst.shape(), {&dst, &src}));
}

void CudaBackend::copy_from_host(const Tensor& src, const Tensor& dst) {
  activate();
  release_copied();
  // Pageable host memory is staged by the driver before cudaMemcpyAsync
  // returns, so `host` may be freed right after. Pinned memory is read by
  // the GPU later, while the host goes on: hold_until_copied keeps it.
  Tensor host = ops::contiguous(src);
  void* target = dst.raw_data();
  Tensor staged;
  if (!dst.is_contiguous() || dst.dtype() != src.dtype()) {
    staged = empty(src.shape(), {src.dtype(), dst.device()});
    target = staged.raw_data();
  }
  STRATA_CUDA_CHECK(cudaMemcpyAsync(target, host.raw_data(), host.nbytes(), cudaMemcpyHostToDevice, stream_));
  if (host.is_pinned()) hold_until_copied(host);
  if (staged.defined()) copy_on_device(staged, dst);
}

void CudaBackend::hold_until_copied(const Tensor& host) {
  cudaEvent_t done = nullptr;
  STRATA_CUDA_CHECK(cudaEventCreateWithFlags(&done, cudaEventDisableTiming));
  STRATA_CUDA_CHECK(cudaEventRecord(done, stream_));
  std::lock_guard<std::mutex> lock(in_flight_mutex_);
  in_flight_.push_back({done, host});
}

void CudaBackend::release_copied() {
  std::lock_guard<std::mutex> lock(in_flight_mutex_);
  while (!in_flight_.empty()) {
    const cudaError_t status = cudaEventQuery(in_flight_.front().done);
    if (status == cudaErrorNotReady) break;
    if (status != cudaSuccess) fail_cuda(status, "cudaEventQuery", __FILE__, __LINE__);
    cudaEventDestroy(in_flight_.front().done);
    in_flight_.pop_front();  // frees the host tensor: its block may be reused now
  }
}

void CudaBackend::synchronize() {
  activate();
  STRATA_CUDA_CHECK(cudaStreamSynchronize(stream_));
  release_copied();
}

void CudaBackend::copy_to_host(const Tensor& src, const Tensor& dst) {
  activate();
  // Convert and pack on the device, so one contiguous transfer moves it all.
  Tensor packed = src;
  if (!src.is_contiguous() || src.dtype() != dst.dtype()) {
    packed = empty(src.shape(), {dst.dtype(), src.device()});
    copy_on_device(src, packed);
  }
  Tensor host = dst.is_contiguous() ? dst : empty(dst.shape(), {dst.dtype(), Device::cpu()});
  STRATA_CUDA_CHECK(cudaMemcpyAsync(host.raw_data(), packed.raw_data(), packed.nbytes(), cudaMemcpyDeviceToHost,
                                    stream_));
  STRATA_CUDA_CHECK(cudaStreamSynchronize(stream_));
  if (!host.is_same(dst)) ops::copy_(dst, host);
}

void CudaBackend::fill(const Tensor& dst, double value) {
  activate();
  launch_fill(stream_, elem(dst), dst.raw_data(), value, make_strided(dst.shape(), {&dst}));
}

void CudaBackend::uniform(const Tensor& dst, double low, double high, PhiloxState rng) {
  activate();
  launch_uniform(stream_, elem(dst), dst.raw_data(), dst.numel(), low, high, rng);
}

void CudaBackend::normal(const Tensor& dst, double mean, double std, PhiloxState rng) {
  activate();
  launch_normal(stream_, elem(dst), dst.raw_data(), dst.numel(), mean, std, rng);
}

void CudaBackend::bernoulli(const Tensor& dst, double p, double value, PhiloxState rng) {
  activate();
  launch_bernoulli(stream_, elem(dst), dst.raw_data(), dst.numel(), p, value, rng);
}

// ---- elementwise ------------------------------------------------------------------------

void CudaBackend::unary(UnaryOp op, double scalar, const Tensor& x, const Tensor& y) {
  activate();
  launch_unary(stream_, elem(x), Unary(uint8_t(op)), scalar, x.raw_data(), y.raw_data(),
               make_strided(y.shape(), {&y, &x}));
}

void CudaBackend::unary_backward(UnaryOp op, double scalar, const Tensor& x, const Tensor& dy, const Tensor& dx) {
  activate();
  launch_unary_backward(stream_, elem(x), Unary(uint8_t(op)), scalar, x.raw_data(), dy.raw_data(), dx.raw_data(),
                        make_strided(dx.shape(), {&dx, &x, &dy}));
}

void CudaBackend::binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) {
  activate();
  launch_binary(stream_, elem(out), Binary(uint8_t(op)), a.raw_data(), b.raw_data(), out.raw_data(),
                make_strided(out.shape(), {&out, &a, &b}));
}

void CudaBackend::where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) {
  activate();
  launch_where(stream_, elem(out), static_cast<const uint8_t*>(cond.raw_data()), a.raw_data(), b.raw_data(),
               out.raw_data(), make_strided(out.shape(), {&out, &cond, &a, &b}));
}

// ---- reductions ------------------------------------------------------------------------------

void CudaBackend::sum(const Tensor& x, const Tensor& out) {
  activate();
  const ReduceGeometry g = make_reduce_geometry(x, out);
  const int64_t scratch_elems = sum_scratch_elems(g);
  Tensor partials = scratch_elems ? scratch(scratch_elems, DType::f64) : Tensor();
  launch_sum(stream_, elem(x), x.raw_data(), out.raw_data(), g,
             partials.defined() ? static_cast<double*>(partials.raw_data()) : nullptr);
}

void CudaBackend::max(const Tensor& x, int dim, const Tensor& values, const Tensor& indices) {
  activate();
  const DimSplit s = split_at(x.shape(), dim);
  launch_max(stream_, elem(x), x.raw_data(), values.raw_data(), static_cast<int64_t*>(indices.raw_data()), s.outer,
             s.size, s.inner);
}

// ---- fused row ops -----------------------------------------------------------------------------

void CudaBackend::softmax(const Tensor& x, const Tensor& y, bool log) {
  activate();
  launch_softmax(stream_, elem(x), x.raw_data(), y.raw_data(), rows_of(x), cols_of(x), log);
}

void CudaBackend::softmax_backward(const Tensor& y, const Tensor& dy, const Tensor& dx, bool log) {
  activate();
  launch_softmax_backward(stream_, elem(y), y.raw_data(), dy.raw_data(), dx.raw_data(), rows_of(y), cols_of(y), log);
}

void CudaBackend::layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, double eps, const Tensor& y,
                             const Tensor& mean, const Tensor& rstd) {
  activate();
  launch_layer_norm(stream_, elem(x), x.raw_data(), ptr(w), ptr(b), eps, y.raw_data(), mean.raw_data(),
                    rstd.raw_data(), rows_of(x), cols_of(x));
}

void CudaBackend::layer_norm_backward(const Tensor& x, const Tensor& w, const Tensor& mean, const Tensor& rstd,
                                      const Tensor& dy, const Tensor& dx, const Tensor& dw, const Tensor& db) {
  activate();
  const int64_t rows = rows_of(x), n = cols_of(x);
  Tensor partials = dw.defined() ? scratch(layer_norm_backward_scratch_elems(rows, n), DType::f64) : Tensor();
  launch_layer_norm_backward(stream_, elem(x), x.raw_data(), ptr(w), mean.raw_data(), rstd.raw_data(), dy.raw_data(),
                             dx.raw_data(), mut(dw), mut(db), rows, n,
                             partials.defined() ? static_cast<double*>(partials.raw_data()) : nullptr);
}

void CudaBackend::cross_entropy(const Tensor& logits, const Tensor& target, double smoothing, int64_t ignore_index,
                                const Tensor& loss, const Tensor& lse) {
  activate();
  launch_cross_entropy(stream_, elem(logits), logits.raw_data(), static_cast<const int64_t*>(target.raw_data()),
                       smoothing, ignore_index, loss.raw_data(), lse.raw_data(), logits.size(0), logits.size(1));
}

void CudaBackend::cross_entropy_backward(const Tensor& logits, const Tensor& target, const Tensor& lse,
                                         const Tensor& dloss, double smoothing, int64_t ignore_index,
                                         const Tensor& dlogits) {
  activate();
  launch_cross_entropy_backward(stream_, elem(logits), logits.raw_data(),
                                static_cast<const int64_t*>(target.raw_data()), lse.raw_data(), dloss.raw_data(),
                                smoothing, ignore_index, dlogits.raw_data(), logits.size(0), logits.size(1));
}

// ---- gathers and scatters ------------------------------------------------------------------------

void CudaBackend::index_select(const Tensor& x, int dim, const Tensor& index, const Tensor& out) {
  activate();
  const DimSplit s = split_at(x.shape(), dim);
  launch_index_select(stream_, int(dtype_size(x.dtype())), x.raw_data(), static_cast<const int64_t*>(index.raw_data()),
                      out.raw_data(), s.outer, s.size, s.inner, index.numel());
}

void CudaBackend::index_add(const Tensor& out, int dim, const Tensor& index, const Tensor& src) {
  activate();
  const DimSplit s = split_at(out.shape(), dim);
  launch_index_add(stream_, elem(out), out.raw_data(), static_cast<const int64_t*>(index.raw_data()), src.raw_data(),
                   s.outer, s.size, s.inner, index.numel());
}

// ---- attention --------------------------------------------------------------------------------------

namespace {

AttentionGeometry attention_geometry(const Tensor& q, const Tensor& k, const AttentionArgs& args) {
  AttentionGeometry g;
  g.heads = q.size(0) * q.size(1);
  g.tq = q.size(2);
  g.tk = k.size(2);
  g.d = q.size(3);
  g.causal = args.causal;
  g.scale = args.scale;
  g.dropout_p = args.dropout_p;
  g.dropout_rng = args.dropout_rng;
  return g;
}

}  // namespace

void CudaBackend::attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionArgs& args,
                            const Tensor& out, const Tensor& lse) {
  activate();
  launch_attention(stream_, elem(q), attention_geometry(q, k, args), q.raw_data(), k.raw_data(), v.raw_data(),
                   out.raw_data(), lse.raw_data());
}

void CudaBackend::attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                                     const Tensor& lse, const Tensor& dout, const AttentionArgs& args,
                                     const Tensor& dq, const Tensor& dk, const Tensor& dv) {
  activate();
  const AttentionGeometry g = attention_geometry(q, k, args);
  Tensor drow = scratch(g.heads * g.tq, q.dtype());
  launch_attention_backward(stream_, elem(q), g, q.raw_data(), k.raw_data(), v.raw_data(), out.raw_data(),
                            lse.raw_data(), dout.raw_data(), dq.raw_data(), dk.raw_data(), dv.raw_data(),
                            drow.raw_data());
}

// ---- BLAST ------------------------------------------------------------------------------------------------

void CudaBackend::blast_mix(const Tensor& s, const Tensor& z, const Tensor& w) {
  activate();
  launch_blast_mix(stream_, elem(z), s.raw_data(), z.raw_data(), w.raw_data(), z.size(0), z.size(1), z.size(2));
}

void CudaBackend::blast_mix_backward(const Tensor& s, const Tensor& z, const Tensor& dw, const Tensor& dz,
                                     const Tensor& ds) {
  activate();
  const int64_t b = z.size(0), rows = z.size(1), r = z.size(2);
  Tensor partials = ds.defined() ? scratch(blast_mix_backward_scratch_elems(b, rows, r), DType::f64) : Tensor();
  launch_blast_mix_backward(stream_, elem(z), s.raw_data(), z.raw_data(), dw.raw_data(), mut(dz), mut(ds), b, rows, r,
                            partials.defined() ? static_cast<double*>(partials.raw_data()) : nullptr);
}

// ---- optimizers ------------------------------------------------------------------------------------------

void CudaBackend::adamw_step(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v,
                             const AdamWArgs& a) {
  activate();
  // The same float constants as core/cpu/optim.cpp.
  AdamWConstants c;
  c.beta1 = float(a.beta1);
  c.beta2 = float(a.beta2);
  const float bias1 = float(1.0 - std::pow(a.beta1, double(a.step)));
  const float bias2 = float(1.0 - std::pow(a.beta2, double(a.step)));
  c.step_size = float(a.lr) / bias1;
  c.inv_sqrt_bias2 = 1.0f / std::sqrt(bias2);
  c.decay = float(1.0 - a.lr * a.weight_decay);
  c.eps = float(a.eps);
  launch_adamw(stream_, param.data<float>(), grad.data<float>(), m.data<float>(), v.data<float>(), param.numel(), c);
}

void CudaBackend::sgd_step(const Tensor& param, const Tensor& grad, const Tensor& buf, double lr, double momentum,
                           double weight_decay, bool nesterov) {
  activate();
  launch_sgd(stream_, param.data<float>(), grad.data<float>(), buf.defined() ? buf.data<float>() : nullptr,
             param.numel(), float(lr), float(momentum), float(weight_decay), nesterov);
}

}  // namespace strata::cuda
