#pragma once
// Dataset: a labelled image set held in memory, the common result of every
// reader (CIFAR-10/100, IDX, image folders) and the input of the Loader.
//
//   images  u8  (N, C, H, W)  pixels as stored on disk, channel-planar
//   labels  i64 (N)           in [0, num_classes)
//
// Both tensors are contiguous on the CPU. A Dataset is a few handles: copying
// it shares the pixels.
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace strata::data {

enum class Split { train, test };

struct Dataset {
  std::string name;  // e.g. "cifar10/train": shown in errors and logs
  Tensor images;     // u8 (N, C, H, W)
  Tensor labels;     // i64 (N)
  int64_t num_classes = 0;
  std::vector<std::string> class_names;  // num_classes entries

  int64_t size() const { return images.defined() ? images.size(0) : 0; }
  int64_t channels() const { return images.size(1); }
  int64_t height() const { return images.size(2); }
  int64_t width() const { return images.size(3); }
  // Checks the invariants above (shapes, dtypes, label range); throws naming `name`.
  void validate() const;
};

std::string split_name(Split split);  // "train" / "test"

}  // namespace strata::data
