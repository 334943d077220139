// The differentiable Tensor methods declared in core/tensor.h: views, casts,
// reductions and the entry points of the backward pass.
#include "autograd/functions.h"

namespace strata {

void Tensor::backward(const Tensor& gradient, bool retain_graph) const { run_backward(*this, gradient, retain_graph); }

void Tensor::retain_grad() const {
  if (!requires_grad()) fail("retain_grad", "called on a tensor that does not require grad");
  if (!is_leaf()) impl()->retains_grad = true;
}

Tensor Tensor::detach() const {
  auto alias = std::make_shared<TensorImpl>();
  alias->storage = impl()->storage;
  alias->shape = shape();
  alias->strides = strides();
  alias->offset = offset();
  alias->dtype = dtype();
  return Tensor(std::move(alias));
}

Tensor Tensor::reshape(const Shape& shape) const {
  Shape from = this->shape();
  return record("reshape", ops::reshape(*this, shape), {*this}, [from](const Tensor& g) -> std::vector<Tensor> {
    return {ops::reshape(g, from)};
  });
}

Tensor Tensor::view(const Shape& shape) const {
  Shape from = this->shape();
  return record("reshape", ops::view(*this, shape), {*this}, [from](const Tensor& g) -> std::vector<Tensor> {
    return {ops::reshape(g, from)};
  });
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  if (dim() == 0) return reshape({1});
  int s = normalize_dim(start_dim, dim(), "flatten"), e = normalize_dim(end_dim, dim(), "flatten");
  Shape out(shape().begin(), shape().begin() + s);
  int64_t merged = 1;
  for (int d = s; d <= e; ++d) merged *= shape()[d];
  out.push_back(merged);
  out.insert(out.end(), shape().begin() + e + 1, shape().end());
  return reshape(out);
}

Tensor Tensor::unsqueeze(int64_t d) const {
  Shape s = shape();
  s.insert(s.begin() + normalize_dim(d, dim() + 1, "unsqueeze"), 1);
  return reshape(s);
}

Tensor Tensor::squeeze(int64_t d) const {
  int dd = normalize_dim(d, dim(), "squeeze");
  if (shape()[dd] != 1) return *this;
  Shape s = shape();
  s.erase(s.begin() + dd);
  return reshape(s);
}

Tensor Tensor::transpose(int64_t dim0, int64_t dim1) const {
  return record("transpose", ops::transpose(*this, dim0, dim1), {*this},
                [dim0, dim1](const Tensor& g) -> std::vector<Tensor> { return {ops::transpose(g, dim0, dim1)}; });
}

Tensor Tensor::permute(const std::vector<int64_t>& dims) const {
  Tensor out = ops::permute(*this, dims);
  std::vector<int64_t> inverse(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) inverse[size_t(normalize_dim(dims[i], dim(), "permute"))] = int64_t(i);
  return record("permute", out, {*this},
                [inverse](const Tensor& g) -> std::vector<Tensor> { return {ops::permute(g, inverse)}; });
}

Tensor Tensor::slice(int64_t d, int64_t start, int64_t end, int64_t step) const {
  Shape from = shape();
  return record("slice", ops::slice(*this, d, start, end, step), {*this}, [=](const Tensor& g) -> std::vector<Tensor> {
    Tensor dx = zeros(from, g.options());
    ops::copy_(ops::slice(dx, d, start, end, step), g);
    return {dx};
  });
}

Tensor Tensor::expand(const Shape& shape) const {
  Shape from = this->shape();
  return record("expand", ops::expand(*this, shape), {*this},
                [from](const Tensor& g) -> std::vector<Tensor> { return {ops::sum_to_shape(g, from)}; });
}

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return record("contiguous", ops::contiguous(*this), {*this}, [](const Tensor& g) -> std::vector<Tensor> { return {g}; });
}

Tensor Tensor::to(DType target) const {
  if (dtype() == target) return *this;
  DType from = dtype();
  if (requires_grad() && !is_floating(target)) fail("to", "cannot cast a tensor that requires grad to {}", dtype_name(target));
  return record("cast", ops::cast(*this, target), {*this},
                [from](const Tensor& g) -> std::vector<Tensor> { return {ops::cast(g, from)}; });
}

Tensor Tensor::sum(const std::vector<int64_t>& dims, bool keepdim) const { return strata::sum(*this, dims, keepdim); }
Tensor Tensor::mean(const std::vector<int64_t>& dims, bool keepdim) const { return strata::mean(*this, dims, keepdim); }

}  // namespace strata
