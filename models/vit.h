#pragma once
// ViT: the Vision Transformer (Dosovitskiy et al. 2021) as timm builds it,
// with every linear role built from a LinearSpec (models/vit_config.h).
//
//   images (B, C, H, W)
//   x = patch_embed(images)                      (B, N, W)   N = (H/p)(W/p), W = width
//   x = [cls_token; x] + pos_embed, dropout      (B, T, W)   T = N + 1 (pool cls) or N (pool mean)
//   per block (pre-LN):
//     x = x + drop_path(attn(norm1(x)))          attn: qkv (fused or split), fused attention, proj
//     x = x + drop_path(mlp(norm2(x)))           mlp: fc1 (W -> hidden), GELU, fc2, dropout
//   z = x[:, 0] (cls) or mean over tokens (mean); z = norm(z), dropout
//   logits = head(z)                             (B, num_classes)
// The final LayerNorm is applied after pooling: for cls it equals timm's
// norm-then-select (LayerNorm is per token); for mean it is timm's fc_norm.
// Module names follow timm (patch_embed.proj, cls_token, pos_embed,
// blocks.i.{norm1, attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2}, norm,
// head; attn.q/k/v when qkv_split), with patch_embed.proj.weight as
// (width, C p p), timm's conv weight flattened.
//
// Initialisation (timm's default "init_weights"):
//   dense linears of the roles qkv, attn_out, mlp_in, mlp_out and head:
//     weight trunc_normal(std 0.02), bias 0;
//   structured linears: their own init, whose W matches the variance of
//     PyTorch's default Linear init (1 / (3 in)), bias 0;
//   patch embedding: PyTorch's default (timm leaves its Conv2d alone):
//     weight and bias U(-1/sqrt(C p p), 1/sqrt(C p p));
//   pos_embed trunc_normal(0.02); cls_token N(0, 1e-6^2);
//   LayerNorm weight 1, bias 0.
// Dropout (config `dropout`) follows the position embedding, the attention
// proj, the MLP's fc2 and precedes the head (timm also drops after the MLP
// activation; layers/MLP does not).
// Stochastic depth rises linearly over the blocks: block i drops its
// branches with probability drop_path * i / (depth - 1).
#include <map>
#include <memory>
#include <vector>

#include "layers/dropout.h"
#include "models/image_classifier.h"
#include "models/linear_builder.h"
#include "models/patch_embed.h"
#include "models/transformer_block.h"
#include "models/vit_config.h"

namespace strata {

class ViT : public ImageClassifier {
 public:
  // The config must have been checked (read_vit_config does).
  explicit ViT(const ViTConfig& config, ModelOptions options = {});

  Tensor forward(const Tensor& images) override;  // (B, C, H, W) -> (B, num_classes)
  int64_t num_classes() const override { return config_.num_classes; }
  std::vector<NamedLinear> structured_linears() const override { return linears_; }
  std::vector<LayerCost> layer_costs() const override;
  std::string describe() const override;
  const ViTConfig& config() const { return config_; }

  std::shared_ptr<PatchEmbed> patch_embed;
  Tensor cls_token;  // (1, 1, C); undefined with pool mean
  Tensor pos_embed;  // (1, T, C)
  std::shared_ptr<Dropout> pos_drop;
  std::vector<std::shared_ptr<TransformerBlock>> blocks;
  std::shared_ptr<LayerNorm> norm;
  std::shared_ptr<Dropout> head_drop;
  std::shared_ptr<StructuredLinear> head;

 private:
  // make_linear for a role, initialised as the top comment says.
  std::shared_ptr<StructuredLinear> build_linear(const std::string& role, int64_t in, int64_t out, bool bias = true);
  std::shared_ptr<TransformerBlock> build_block(int64_t index);
  void check_images(const Tensor& images) const;

  ViTConfig config_;
  ModelOptions options_;
  LinearBuilder linear_builder_;
  std::vector<NamedLinear> linears_;  // filled once the modules are registered
};

}  // namespace strata
