// Views: new shape/strides/offset over the same storage, no data moved.
#include <algorithm>
#include <numeric>
#include <optional>

#include "core/ops.h"

namespace strata::ops {

namespace {

Tensor make_view(const Tensor& x, Shape shape, Shape strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = x.impl()->storage;
  impl->shape = std::move(shape);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = x.dtype();
  return Tensor(std::move(impl));
}

// Strides that let `x` be seen with `shape` without moving data (PyTorch's
// rule: each run of dims that is contiguous in memory may be split or merged).
std::optional<Shape> view_strides(const Tensor& x, const Shape& shape) {
  const Shape& old_shape = x.shape();
  const Shape& old_strides = x.strides();
  if (old_shape.empty() || x.numel() == 0) return contiguous_strides(shape);
  Shape strides(shape.size(), 1);
  int64_t view_d = int64_t(shape.size()) - 1;
  int64_t chunk_base_stride = old_strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t tensor_d = int64_t(old_shape.size()) - 1; tensor_d >= 0; --tensor_d) {
    tensor_numel *= old_shape[tensor_d];
    bool chunk_ends = tensor_d == 0 || (old_shape[tensor_d - 1] != 1 &&
                                        old_strides[tensor_d - 1] != tensor_numel * chunk_base_stride);
    if (!chunk_ends) continue;
    while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
      strides[view_d] = view_numel * chunk_base_stride;
      view_numel *= shape[view_d];
      --view_d;
    }
    if (view_numel != tensor_numel) return std::nullopt;
    if (tensor_d > 0) {
      chunk_base_stride = old_strides[tensor_d - 1];
      tensor_numel = 1;
      view_numel = 1;
    }
  }
  if (view_d != -1) return std::nullopt;
  return strides;
}

}  // namespace

Shape infer_shape(Shape shape, int64_t numel, const char* op) {
  int64_t known = 1;
  int infer_at = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer_at >= 0) fail(op, "only one dim may be -1, got {}", shape_str(shape));
      infer_at = int(i);
    } else if (shape[i] < 0) {
      fail(op, "invalid size {} in shape {}", shape[i], shape_str(shape));
    } else {
      known *= shape[i];
    }
  }
  if (infer_at >= 0) {
    if (known == 0 || numel % known != 0) {
      fail(op, "shape {} is invalid for {} elements", shape_str(shape), numel);
    }
    shape[infer_at] = numel / known;
  }
  if (shape_numel(shape) != numel) fail(op, "shape {} is invalid for {} elements", shape_str(shape), numel);
  return shape;
}

bool can_view(const Tensor& x, const Shape& shape) {
  return shape_numel(shape) == x.numel() && view_strides(x, shape).has_value();
}

Tensor view(const Tensor& x, Shape shape) {
  shape = infer_shape(std::move(shape), x.numel(), "view");
  auto strides = view_strides(x, shape);
  if (!strides) {
    fail("view", "a tensor of shape {} with strides {} cannot be viewed as {}; use reshape",
         shape_str(x.shape()), shape_str(x.strides()), shape_str(shape));
  }
  return make_view(x, std::move(shape), std::move(*strides), x.offset());
}

Tensor reshape(const Tensor& x, Shape shape) {
  shape = infer_shape(std::move(shape), x.numel(), "reshape");
  if (can_view(x, shape)) return view(x, shape);
  return view(clone(x), shape);
}

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) {
  int d0 = normalize_dim(dim0, x.dim(), "transpose");
  int d1 = normalize_dim(dim1, x.dim(), "transpose");
  Shape shape = x.shape(), strides = x.strides();
  std::swap(shape[d0], shape[d1]);
  std::swap(strides[d0], strides[d1]);
  return make_view(x, std::move(shape), std::move(strides), x.offset());
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  if (int64_t(dims.size()) != x.dim()) {
    fail("permute", "got {} dims for a tensor of rank {}", dims.size(), x.dim());
  }
  Shape shape(dims.size()), strides(dims.size());
  std::vector<bool> seen(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    int d = normalize_dim(dims[i], x.dim(), "permute");
    if (seen[d]) fail("permute", "dim {} repeated in {}", d, shape_str(dims));
    seen[d] = true;
    shape[i] = x.shape()[d];
    strides[i] = x.strides()[d];
  }
  return make_view(x, std::move(shape), std::move(strides), x.offset());
}

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  int d = normalize_dim(dim, x.dim(), "slice");
  if (step <= 0) fail("slice", "step must be positive, got {}", step);
  int64_t n = x.shape()[d];
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  Shape shape = x.shape(), strides = x.strides();
  shape[d] = (end - start + step - 1) / step;
  strides[d] = x.strides()[d] * step;
  return make_view(x, std::move(shape), std::move(strides), x.offset() + start * x.strides()[d]);
}

Tensor expand(const Tensor& x, const Shape& shape) {
  if (shape.size() < x.shape().size()) {
    fail("expand", "cannot expand {} to fewer dims {}", shape_str(x.shape()), shape_str(shape));
  }
  size_t lead = shape.size() - x.shape().size();
  Shape out_shape(shape.size()), strides(shape.size(), 0);
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i < lead) {
      if (shape[i] < 0) fail("expand", "-1 not allowed for a new leading dim in {}", shape_str(shape));
      out_shape[i] = shape[i];
      continue;
    }
    int64_t have = x.shape()[i - lead];
    int64_t want = shape[i] == -1 ? have : shape[i];
    if (have == want) {
      strides[i] = x.strides()[i - lead];
    } else if (have != 1) {
      fail("expand", "cannot expand {} to {}", shape_str(x.shape()), shape_str(shape));
    }
    out_shape[i] = want;
  }
  return make_view(x, std::move(out_shape), std::move(strides), x.offset());
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  int d = normalize_dim(dim, x.dim() + 1, "unsqueeze");
  Shape shape = x.shape(), strides = x.strides();
  int64_t stride = d < x.dim() ? x.strides()[d] * x.shape()[d] : 1;
  shape.insert(shape.begin() + d, 1);
  strides.insert(strides.begin() + d, stride);
  return make_view(x, std::move(shape), std::move(strides), x.offset());
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  int d = normalize_dim(dim, x.dim(), "squeeze");
  if (x.shape()[d] != 1) return x;
  Shape shape = x.shape(), strides = x.strides();
  shape.erase(shape.begin() + d);
  strides.erase(strides.begin() + d);
  return make_view(x, std::move(shape), std::move(strides), x.offset());
}

}  // namespace strata::ops
