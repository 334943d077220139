#include "models/vit.h"

#include <fmt/format.h>

#include "autograd/functions.h"
#include "models/init.h"

namespace strata {

// ---- model ---------------------------------------------------------------------------

std::shared_ptr<StructuredLinear> ViT::build_linear(const std::string& role, int64_t in, int64_t out, bool bias) {
  std::shared_ptr<StructuredLinear> layer = linear_builder_.build(role, in, out, bias);
  NoGradGuard no_grad;
  if (role == "patch_embed") return layer;  // PyTorch's default init, as timm leaves the conv
  if (auto* dense = dynamic_cast<Linear*>(layer.get())) {
    init_dense_timm(dense->weight, dense->bias, options_.generator);
  } else if (layer->bias.defined()) {
    ops::fill_(layer->bias, 0.0);
  }
  return layer;
}

std::shared_ptr<TransformerBlock> ViT::build_block(int64_t index) {
  const ViTConfig& c = config_;
  const int64_t w = c.width;
  LayerNormOptions ln{.eps = c.layer_norm_eps, .dtype = options_.dtype, .device = options_.device};
  SelfAttentionOptions ao{.attn_dropout = c.attn_dropout, .proj_dropout = c.dropout, .generator = options_.generator};
  std::shared_ptr<SelfAttention> attn;
  if (c.qkv_split) {
    auto q = build_linear("qkv", w, w, c.qkv_bias);
    auto k = build_linear("qkv", w, w, c.qkv_bias);
    auto v = build_linear("qkv", w, w, c.qkv_bias);
    attn = std::make_shared<SelfAttention>(c.heads, q, k, v, build_linear("attn_out", w, w), ao);
  } else {
    auto qkv = build_linear("qkv", w, 3 * w, c.qkv_bias);
    attn = std::make_shared<SelfAttention>(c.heads, qkv, build_linear("attn_out", w, w), ao);
  }
  MLPOptions mo{.dropout = c.dropout, .dtype = options_.dtype, .device = options_.device,
                .generator = options_.generator};
  auto mlp = std::make_shared<MLP>(build_linear("mlp_in", w, c.mlp_hidden()), build_linear("mlp_out", c.mlp_hidden(), w),
                                   mo);
  const double drop_path = c.depth > 1 ? c.drop_path * double(index) / double(c.depth - 1) : c.drop_path;
  return std::make_shared<TransformerBlock>(std::make_shared<LayerNorm>(w, ln), attn, std::make_shared<LayerNorm>(w, ln), mlp,
                                    drop_path, options_.generator);
}

ViT::ViT(const ViTConfig& config, ModelOptions options)
    : config_(config), options_(options), linear_builder_(config.linear, options) {
  const ViTConfig& c = config_;
  if (c.image_size < 1 || c.patch_size < 1 || c.image_size % c.patch_size != 0 || c.in_channels < 1 ||
      c.num_classes < 1 || c.width < 1 || c.depth < 1 || c.heads < 1 || c.width % c.heads != 0 ||
      c.mlp_hidden() < 1 || (c.pool != "cls" && c.pool != "mean")) {
    fail("ViT", "invalid config (image {} patch {} channels {} classes {} width {} depth {} heads {} pool {}): "
         "read it with read_vit_config", c.image_size, c.patch_size, c.in_channels, c.num_classes, c.width, c.depth,
         c.heads, c.pool);
  }
  const TensorOptions to{options.dtype, options.device};
  const int64_t w = c.width;
  if (c.pool == "cls") {
    Tensor t = empty({1, 1, w}, to);
    normal_(t, 0.0, 1e-6, options.generator);
    cls_token = register_parameter("cls_token", t);
  }
  Tensor pos = empty({1, c.tokens(), w}, to);
  trunc_normal_(pos, 0.02, options.generator);
  pos_embed = register_parameter("pos_embed", pos);

  patch_embed = register_module(
      "patch_embed", std::make_shared<PatchEmbed>(c.patch_size, c.in_channels,
                                                  build_linear("patch_embed", c.in_channels * c.patch_size * c.patch_size, w)));
  pos_drop = register_module("pos_drop", std::make_shared<Dropout>(c.dropout, options.generator));
  auto block_list = register_module("blocks", std::make_shared<Module>());
  for (int64_t i = 0; i < c.depth; ++i) {
    blocks.push_back(block_list->register_module(std::to_string(i), build_block(i)));
  }
  norm = register_module("norm", std::make_shared<LayerNorm>(
                                     w, LayerNormOptions{.eps = c.layer_norm_eps, .dtype = options.dtype,
                                                         .device = options.device}));
  head_drop = register_module("head_drop", std::make_shared<Dropout>(c.dropout, options.generator));
  head = register_module("head", build_linear("head", w, c.num_classes));

  linears_ = linear_builder_.named(*this);
}

void ViT::check_images(const Tensor& images) const {
  const ViTConfig& c = config_;
  if (images.dim() != 4 || images.size(1) != c.in_channels || images.size(2) != c.image_size ||
      images.size(3) != c.image_size) {
    fail("ViT", "expected images (B, {}, {}, {}), got {}", c.in_channels, c.image_size, c.image_size,
         shape_str(images.shape()));
  }
}

Tensor ViT::forward(const Tensor& images) {
  check_images(images);
  const int64_t b = images.size(0), w = config_.width;
  Tensor x = patch_embed->forward(images);  // (B, N, W)
  if (cls_token.defined()) x = cat({cls_token.expand({b, 1, w}), x}, 1);
  x = pos_drop->forward(add(x, pos_embed));
  for (const auto& block : blocks) x = block->forward(x);
  Tensor pooled = cls_token.defined() ? x.slice(1, 0, 1).reshape({b, w}) : mean(x, {1});
  return head->forward(head_drop->forward(norm->forward(pooled)));
}

std::string ViT::describe() const {
  const ViTConfig& c = config_;
  return fmt::format("vit: {}x{}x{} images, patch {} ({} tokens), width {}, depth {}, heads {}, mlp {}, pool {}{}, "
                     "{} classes", c.image_size, c.image_size, c.in_channels, c.patch_size, c.tokens(), c.width,
                     c.depth, c.heads, c.mlp_hidden(), c.pool, c.qkv_split ? ", q/k/v split" : "", c.num_classes);
}

// ---- costs ---------------------------------------------------------------------------

std::vector<LayerCost> ViT::layer_costs() const {
  const ViTConfig& c = config_;
  const int64_t t = c.tokens(), w = c.width;
  const LinearsByName linears = linears_by_name(linears_);
  std::vector<LayerCost> rows;
  rows.push_back(linear_cost(*linears.at("patch_embed.proj"), c.num_patches()));
  if (cls_token.defined()) rows.push_back(plain_cost("cls_token", "parameter", fmt::format("(1, {})", w), w));
  rows.push_back(plain_cost("pos_embed", "parameter", fmt::format("({}, {})", t, w), t * w));
  for (size_t i = 0; i < blocks.size(); ++i) {
    for (LayerCost& row : blocks[i]->costs(fmt::format("blocks.{}.", i), t, linears)) rows.push_back(std::move(row));
  }
  rows.push_back(plain_cost("norm", "layer_norm", fmt::format("{}", w), norm->num_parameters()));
  rows.push_back(linear_cost(*linears.at("head"), 1));
  return rows;
}

}  // namespace strata
