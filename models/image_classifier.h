#pragma once
// ImageClassifier: a Model that maps images to class logits.
//
//   forward(images)     images (B, C, H, W) f32 -> logits (B, num_classes)
#include <cstdint>

#include "models/model.h"

namespace strata {

// What the data says about its images (square, side image_size); 0 where
// it does not know.
struct ImageShape {
  int64_t num_classes = 0;
  int64_t channels = 0;
  int64_t image_size = 0;
};

class ImageClassifier : public Model {
 public:
  virtual Tensor forward(const Tensor& images) = 0;
  virtual int64_t num_classes() const = 0;
};

}  // namespace strata
