#include "models/patch_embed.h"

#include "autograd/functions.h"

namespace strata {

Tensor patchify(const Tensor& images, int64_t p) {
  if (images.dim() != 4) fail("patchify", "expected images (B, C, H, W), got {}", shape_str(images.shape()));
  const int64_t b = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  if (p < 1 || h % p != 0 || w % p != 0) fail("patchify", "patch {} does not tile a {}x{} image", p, h, w);
  const int64_t gh = h / p, gw = w / p;
  return images.reshape({b, c, gh, p, gw, p}).permute({0, 2, 4, 1, 3, 5}).reshape({b, gh * gw, c * p * p});
}

PatchEmbed::PatchEmbed(int64_t patch, int64_t channels, std::shared_ptr<StructuredLinear> proj_in)
    : patch_(patch), channels_(channels) {
  if (!proj_in) fail("PatchEmbed", "proj must be given");
  if (proj_in->in_features() != channels * patch * patch) {
    fail("PatchEmbed", "proj takes {} features, but {}-channel {}x{} patches have {}", proj_in->in_features(),
         channels, patch, patch, channels * patch * patch);
  }
  proj = register_module("proj", std::move(proj_in));
}

Tensor PatchEmbed::forward(const Tensor& images) {
  if (images.dim() != 4 || images.size(1) != channels_) {
    fail("PatchEmbed", "expected images (B, {}, H, W), got {}", channels_, shape_str(images.shape()));
  }
  return proj->forward(patchify(images, patch_));
}

}  // namespace strata
