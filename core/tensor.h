#pragma once
// Tensor: a cheap handle (shared ownership) to a TensorImpl, which holds the
// shape, strides (in elements), offset and dtype of a view into a Storage.
// Copying a Tensor copies the handle; views share the Storage.
//
// Core knows nothing of autograd beyond storing its state in TensorImpl.
// The methods in the section "Differentiable methods" below are declared here
// for the familiar `x.reshape(...)`, `loss.backward()` call syntax, and are
// defined in autograd/tensor_methods.cpp; core itself never calls them.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/shape.h"
#include "core/storage.h"

namespace strata {

class Node;  // autograd/node.h

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;
  int64_t offset = 0;  // in elements
  DType dtype = DType::f32;

  // Autograd state. Owned here, managed by autograd/.
  bool requires_grad = false;
  bool retains_grad = false;
  std::shared_ptr<TensorImpl> grad;
  std::shared_ptr<Node> grad_fn;           // producer; null for leaves
  std::shared_ptr<Node> grad_accumulator;  // leaves only, created on first use
};

struct TensorOptions {
  DType dtype = DType::f32;
  Device device = Device::cpu();
  // CPU only: page-locked memory (pinned_host_allocator(), core/allocator.h),
  // which a GPU copies from asynchronously. Loaders pin their batches when
  // training on a GPU. Plain memory where there is no GPU. Like PyTorch's
  // non_blocking copies: `.to(cuda)` of a pinned tensor may return before
  // the GPU has read it, so do not write into it afterwards (the loaders
  // make a fresh tensor per batch; its memory is not reused until the copy
  // has ended).
  bool pinned = false;
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl()->shape; }
  const Shape& strides() const { return impl()->strides; }
  int64_t dim() const { return int64_t(shape().size()); }
  int64_t size(int64_t dim) const;
  int64_t stride(int64_t dim) const;
  int64_t numel() const { return shape_numel(shape()); }
  int64_t offset() const { return impl()->offset; }
  DType dtype() const { return impl()->dtype; }
  Device device() const { return impl()->storage->device(); }
  TensorOptions options() const { return {dtype(), device()}; }
  bool is_contiguous() const;
  // In page-locked host memory (see TensorOptions::pinned).
  bool is_pinned() const;
  size_t nbytes() const { return size_t(numel()) * dtype_size(dtype()); }

  // Pointer to the first element of this view. data<T>() checks that T matches.
  void* raw_data() const;
  template <typename T> T* data() const;
  // The single element of a one-element tensor, converted to T.
  template <typename T> T item() const;
  // A copy of the elements in row-major order, converted to T.
  template <typename T> std::vector<T> to_vector() const;

  std::string str() const;  // values, shape and dtype, PyTorch-like

  // A contiguous copy on `device` (this tensor itself when already there),
  // same dtype. Not recorded by autograd: use it for inputs, targets and,
  // through Module::to, parameters; the copy does not require grad.
  Tensor to(Device device) const;

  TensorImpl* impl() const;
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }
  bool shares_storage(const Tensor& other) const;

  // ---- Autograd state ------------------------------------------------------
  bool requires_grad() const { return impl()->requires_grad; }
  const Tensor& requires_grad_(bool value = true) const;  // leaves only
  bool is_leaf() const { return impl()->grad_fn == nullptr; }
  Tensor grad() const { return Tensor(impl()->grad); }
  void set_grad(const Tensor& grad) const { impl()->grad = grad.impl_; }
  const std::shared_ptr<Node>& grad_fn() const { return impl()->grad_fn; }

  // ---- Differentiable methods (defined in autograd/tensor_methods.cpp) -----
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false) const;
  void retain_grad() const;
  Tensor detach() const;
  Tensor reshape(const Shape& shape) const;  // a view when strides allow, else a copy
  Tensor view(const Shape& shape) const;     // a view, or an error
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  Tensor t() const { return transpose(-2, -1); }
  Tensor permute(const std::vector<int64_t>& dims) const;
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  Tensor expand(const Shape& shape) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor squeeze(int64_t dim) const;
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor contiguous() const;
  Tensor to(DType dtype) const;
  Tensor sum(const std::vector<int64_t>& dims = {}, bool keepdim = false) const;
  Tensor mean(const std::vector<int64_t>& dims = {}, bool keepdim = false) const;

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// ---- Construction (never recorded by autograd) -----------------------------
Tensor empty(const Shape& shape, TensorOptions options = {});
Tensor zeros(const Shape& shape, TensorOptions options = {});
Tensor ones(const Shape& shape, TensorOptions options = {});
Tensor full(const Shape& shape, double value, TensorOptions options = {});
Tensor arange(int64_t end, TensorOptions options = {});
Tensor scalar_tensor(double value, TensorOptions options = {});
template <typename T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape);
Tensor empty_like(const Tensor& other);
Tensor zeros_like(const Tensor& other);

// A view with explicit geometry over `base`'s storage; checks it stays in bounds.
Tensor as_strided(const Tensor& base, const Shape& shape, const Shape& strides, int64_t offset);

}  // namespace strata
