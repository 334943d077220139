#pragma once
// Patch embedding (timm PatchEmbed) as a linear on flattened patches, i.e.
// a stride-p p x p convolution written as one GEMM:
//   images (B, C, H, W) -> patchify -> (B, N, C p p) -> proj -> (B, N, width)
// with N = (H/p)(W/p) patches in row-major order over the patch grid and
// each patch flattened as (c, i, j), the layout of Conv2d's weight
// (width, C, p, p), so proj.weight is that weight reshaped to (width, C p p).
//
// patchify is two views and one copy: reshape to (B, C, H/p, p, W/p, p)
// (a view), permute to (B, H/p, W/p, C, p, p) (a view), reshape to
// (B, N, C p p) (the copy). Differentiable, though images seldom need it.
#include <memory>

#include "core/tensor.h"
#include "layers/module.h"
#include "layers/structured_linear.h"

namespace strata {

Tensor patchify(const Tensor& images, int64_t patch);

class PatchEmbed : public Module {
 public:
  // proj maps C p p features to the embedding width.
  PatchEmbed(int64_t patch, int64_t channels, std::shared_ptr<StructuredLinear> proj);

  Tensor forward(const Tensor& images);  // (B, C, H, W) -> (B, N, width)
  int64_t patch() const { return patch_; }

  std::shared_ptr<StructuredLinear> proj;

 private:
  int64_t patch_, channels_;
};

}  // namespace strata
