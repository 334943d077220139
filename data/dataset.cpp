#include "data/dataset.h"

namespace strata::data {

std::string split_name(Split split) { return split == Split::train ? "train" : "test"; }

void Dataset::validate() const {
  const std::string who = "dataset " + name;
  if (!images.defined() || !labels.defined()) fail(who, "images or labels missing");
  if (images.dtype() != DType::u8 || images.dim() != 4 || !images.is_contiguous()) {
    fail(who, "images must be contiguous u8 (N, C, H, W), got {} {}", dtype_name(images.dtype()),
         shape_str(images.shape()));
  }
  if (labels.dtype() != DType::i64 || labels.dim() != 1 || !labels.is_contiguous()) {
    fail(who, "labels must be contiguous i64 (N), got {} {}", dtype_name(labels.dtype()), shape_str(labels.shape()));
  }
  if (labels.size(0) != images.size(0)) fail(who, "{} images but {} labels", images.size(0), labels.size(0));
  if (int64_t(class_names.size()) != num_classes) {
    fail(who, "{} class names for {} classes", class_names.size(), num_classes);
  }
  const int64_t* y = labels.data<int64_t>();
  for (int64_t i = 0; i < labels.numel(); ++i) {
    if (y[i] < 0 || y[i] >= num_classes) fail(who, "sample {} has label {}, expected 0..{}", i, y[i], num_classes - 1);
  }
}

}  // namespace strata::data
