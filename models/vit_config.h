#pragma once
// The `model:` section of a ViT run config (timm VisionTransformer names):
//
//   model:
//     name: vit
//     image_size: 32      # 0 (default): from the data; else must match it
//     in_channels: 3      # 0 (default): from the data; else must match it
//     num_classes: 10     # 0 (default): from the data; else must match it
//     patch_size: 4       # divides image_size
//     width: 384          # embedding dim C; divisible by heads
//     depth: 12           # blocks
//     heads: 6
//     mlp_ratio: 4.0      # MLP hidden = int(width * mlp_ratio)
//     pool: cls           # cls (class token) | mean (mean over patch tokens, no class token)
//     dropout: 0.0        # after the position embedding, attention proj, MLP, before the head
//     attn_dropout: 0.0   # on the attention probabilities
//     drop_path: 0.0      # stochastic depth, rising linearly from 0 (first block) to this (last)
//     qkv_bias: true      # false drops the qkv bias whatever the qkv spec says
//     qkv_split: false    # true: separate q, k, v linears (C x C each; the qkv spec applies to
//                         # each), as the GBLR/BLAST CIFAR ViT-S structures them; false: one fused
//                         # C x 3C qkv linear (timm; ViT-B/16 and GPT-2 settings)
//     layer_norm_eps: 1e-6
//     linear: {type: blast, blocks: 3, flops_ratio: 0.5}   # or per role, see models/linear_roles.h
//
// Linear roles: qkv, attn_out, mlp_in, mlp_out (a single spec applies to
// these four) and patch_embed, head (dense unless the per-role map names
// them). Defaults are ViT-S/4 for 32x32 images.
//
// Errors name file:line:column and the key: unknown keys (did you mean),
// wrong types, out-of-range values, width not divisible by heads, image
// size not divisible by the patch, a size that disagrees with the data, and
// a linear spec that cannot build its layer (blocks not dividing it, budget
// too small), which is resolved against every role's layer shape here.
#include <cstdint>
#include <string>

#include "config/config.h"
#include "models/image_classifier.h"
#include "models/linear_roles.h"

namespace strata {

struct ViTConfig {
  int64_t image_size = 0;
  int64_t in_channels = 0;
  int64_t num_classes = 0;
  int64_t patch_size = 4;
  int64_t width = 384;
  int64_t depth = 12;
  int64_t heads = 6;
  double mlp_ratio = 4.0;
  std::string pool = "cls";
  double dropout = 0.0;
  double attn_dropout = 0.0;
  double drop_path = 0.0;
  bool qkv_bias = true;
  bool qkv_split = false;
  double layer_norm_eps = 1e-6;
  LinearRoles linear;

  int64_t mlp_hidden() const { return int64_t(double(width) * mlp_ratio); }
  int64_t num_patches() const { return (image_size / patch_size) * (image_size / patch_size); }
  int64_t tokens() const { return num_patches() + (pool == "cls" ? 1 : 0); }
};

// Every linear role of a ViT, and the ones a single `linear` spec covers.
const std::vector<std::string>& vit_linear_roles();
const std::vector<std::string>& vit_shared_linear_roles();

// Reads and checks the section (calls section.finish()); image_size,
// in_channels and num_classes fall back to `data` and must agree with it
// where both are known.
ViTConfig read_vit_config(config::Section& section, const ImageShape& data = {});

}  // namespace strata
