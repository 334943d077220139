#include "core/tensor.h"

#include <sstream>

#include "core/backend.h"
#include "core/ops.h"

namespace strata {

TensorImpl* Tensor::impl() const {
  if (!impl_) throw Error("tensor: use of an undefined tensor");
  return impl_.get();
}

int64_t Tensor::size(int64_t dim) const { return shape()[normalize_dim(dim, this->dim(), "size")]; }
int64_t Tensor::stride(int64_t dim) const { return strides()[normalize_dim(dim, this->dim(), "stride")]; }

bool Tensor::is_pinned() const {
  return device() == Device::cpu() && pinned_memory_available() && &impl()->storage->allocator() == &pinned_host_allocator();
}

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  for (int64_t d = dim() - 1; d >= 0; --d) {
    if (shape()[d] == 1) continue;
    if (strides()[d] != expected) return false;
    expected *= shape()[d];
  }
  return true;
}

bool Tensor::shares_storage(const Tensor& other) const {
  return defined() && other.defined() && impl()->storage == other.impl()->storage;
}

void* Tensor::raw_data() const {
  return static_cast<char*>(impl()->storage->data()) + offset() * int64_t(dtype_size(dtype()));
}

template <typename T>
T* Tensor::data() const {
  if (dtype() != dtype_of<T>()) {
    fail("data", "tensor is {}, accessed as {}", dtype_name(dtype()), dtype_name(dtype_of<T>()));
  }
  return static_cast<T*>(raw_data());
}

Tensor Tensor::to(Device device) const {
  if (this->device() == device) return *this;
  Tensor out = empty(shape(), {dtype(), device});
  // The copy between devices is the non-CPU side's job (host <-> device
  // transfers live in its backend).
  if (numel()) backend_for(device.type != DeviceType::cpu ? device : this->device()).copy(*this, out);
  return out;
}

template <typename T>
std::vector<T> Tensor::to_vector() const {
  Tensor flat = ops::contiguous(ops::cast(to(Device::cpu()), dtype_of<T>()));
  const T* p = flat.data<T>();
  return std::vector<T>(p, p + flat.numel());
}

template <typename T>
T Tensor::item() const {
  if (numel() != 1) fail("item", "tensor of shape {} has {} elements, not 1", shape_str(shape()), numel());
  return to_vector<T>()[0];
}

#define STRATA_INSTANTIATE_ACCESSORS(T)                  \
  template T* Tensor::data<T>() const;                   \
  template std::vector<T> Tensor::to_vector<T>() const;  \
  template T Tensor::item<T>() const;
STRATA_INSTANTIATE_ACCESSORS(float)
STRATA_INSTANTIATE_ACCESSORS(double)
STRATA_INSTANTIATE_ACCESSORS(bf16)
STRATA_INSTANTIATE_ACCESSORS(int32_t)
STRATA_INSTANTIATE_ACCESSORS(int64_t)
STRATA_INSTANTIATE_ACCESSORS(uint8_t)
#undef STRATA_INSTANTIATE_ACCESSORS

namespace {

// Nested brackets like PyTorch, eliding the middle of long dims.
void print_values(std::ostringstream& out, const std::vector<double>& values, const Shape& shape,
                  size_t dim, int64_t base, const Shape& strides) {
  if (shape.empty()) {
    out << fmt::format("{:.6g}", values[0]);
    return;
  }
  out << '[';
  int64_t n = shape[dim];
  for (int64_t i = 0; i < n; ++i) {
    if (n > 8 && i == 3) {
      out << "..., ";
      i = n - 3;
    }
    if (dim + 1 == shape.size()) {
      out << fmt::format("{:.6g}", values[base + i * strides[dim]]);
    } else {
      print_values(out, values, shape, dim + 1, base + i * strides[dim], strides);
    }
    if (i + 1 < n) out << ", ";
  }
  out << ']';
}

}  // namespace

std::string Tensor::str() const {
  if (!defined()) return "tensor(undefined)";
  std::ostringstream out;
  out << "tensor(";
  if (numel() == 0) {
    out << "[]";
  } else {
    std::vector<double> values =
        dtype() == DType::bf16 ? ops::cast(*this, DType::f32).to_vector<double>() : to_vector<double>();
    print_values(out, values, shape(), 0, 0, contiguous_strides(shape()));
  }
  out << ", shape=" << shape_str(shape()) << ", dtype=" << dtype_name(dtype());
  if (device().type != DeviceType::cpu) out << ", device=" << device().str();
  if (requires_grad()) out << ", requires_grad";
  out << ')';
  return out.str();
}

const Tensor& Tensor::requires_grad_(bool value) const {
  if (!is_leaf()) fail("requires_grad_", "only leaf tensors can change requires_grad");
  if (value && !is_floating(dtype())) fail("requires_grad_", "only floating tensors can require grad, got {}", dtype_name(dtype()));
  impl()->requires_grad = value;
  return *this;
}

// ---- construction -------------------------------------------------------------------

Tensor empty(const Shape& shape, TensorOptions options) {
  for (int64_t s : shape) {
    if (s < 0) fail("empty", "negative size in shape {}", shape_str(shape));
  }
  auto impl = std::make_shared<TensorImpl>();
  size_t nbytes = size_t(shape_numel(shape)) * dtype_size(options.dtype);
  if (options.pinned && options.device != Device::cpu()) {
    fail("empty", "pinned memory is host memory, but the device is {}", options.device.str());
  }
  Allocator& allocator = options.pinned ? pinned_host_allocator() : backend_for(options.device).allocator();
  impl->storage = std::make_shared<Storage>(nbytes, options.device, allocator);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = options.dtype;
  return Tensor(std::move(impl));
}

Tensor full(const Shape& shape, double value, TensorOptions options) {
  Tensor t = empty(shape, options);
  ops::fill_(t, value);
  return t;
}

Tensor zeros(const Shape& shape, TensorOptions options) { return full(shape, 0.0, options); }
Tensor ones(const Shape& shape, TensorOptions options) { return full(shape, 1.0, options); }
Tensor scalar_tensor(double value, TensorOptions options) { return full({}, value, options); }
Tensor empty_like(const Tensor& other) { return empty(other.shape(), other.options()); }
Tensor zeros_like(const Tensor& other) { return zeros(other.shape(), other.options()); }

Tensor arange(int64_t end, TensorOptions options) {
  std::vector<int64_t> values(size_t(std::max<int64_t>(end, 0)));
  for (int64_t i = 0; i < end; ++i) values[size_t(i)] = i;
  return ops::cast(from_vector(values, {int64_t(values.size())}), options.dtype).to(options.device);
}

template <typename T>
Tensor from_vector(const std::vector<T>& values, const Shape& shape) {
  if (shape_numel(shape) != int64_t(values.size())) {
    fail("from_vector", "{} values do not fill shape {}", values.size(), shape_str(shape));
  }
  Tensor t = empty(shape, {dtype_of<T>(), Device::cpu()});
  std::copy(values.begin(), values.end(), t.data<T>());
  return t;
}
template Tensor from_vector<float>(const std::vector<float>&, const Shape&);
template Tensor from_vector<double>(const std::vector<double>&, const Shape&);
template Tensor from_vector<bf16>(const std::vector<bf16>&, const Shape&);
template Tensor from_vector<int32_t>(const std::vector<int32_t>&, const Shape&);
template Tensor from_vector<int64_t>(const std::vector<int64_t>&, const Shape&);
template Tensor from_vector<uint8_t>(const std::vector<uint8_t>&, const Shape&);

Tensor as_strided(const Tensor& base, const Shape& shape, const Shape& strides, int64_t offset) {
  if (shape.size() != strides.size()) fail("as_strided", "shape {} and strides {} differ in rank", shape_str(shape), shape_str(strides));
  int64_t lo = offset, hi = offset;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] < 0 || strides[i] < 0) fail("as_strided", "negative size or stride in {} / {}", shape_str(shape), shape_str(strides));
    if (shape[i] == 0) { hi = lo - 1; break; }
    hi += (shape[i] - 1) * strides[i];
  }
  int64_t capacity = int64_t(base.impl()->storage->nbytes() / dtype_size(base.dtype()));
  if (lo < 0 || (hi >= lo && hi >= capacity)) {
    fail("as_strided", "view {} strides {} offset {} exceeds storage of {} elements", shape_str(shape),
         shape_str(strides), offset, capacity);
  }
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = base.impl()->storage;
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  impl->dtype = base.dtype();
  return Tensor(std::move(impl));
}

}  // namespace strata
