#include "models/vit.h"

#include <fmt/format.h>

#include "autograd/functions.h"
#include "models/init.h"

namespace strata {

// ---- block ---------------------------------------------------------------------------

ViTBlock::ViTBlock(std::shared_ptr<LayerNorm> norm1_in, std::shared_ptr<SelfAttention> attn_in,
                   std::shared_ptr<LayerNorm> norm2_in, std::shared_ptr<MLP> mlp_in, double drop_path, Generator* gen) {
  norm1 = register_module("norm1", std::move(norm1_in));
  attn = register_module("attn", std::move(attn_in));
  drop_path1 = register_module("drop_path1", std::make_shared<DropPath>(drop_path, gen));
  norm2 = register_module("norm2", std::move(norm2_in));
  mlp = register_module("mlp", std::move(mlp_in));
  drop_path2 = register_module("drop_path2", std::make_shared<DropPath>(drop_path, gen));
}

Tensor ViTBlock::forward(const Tensor& x) {
  Tensor h = add(x, drop_path1->forward(attn->forward(norm1->forward(x))));
  return add(h, drop_path2->forward(mlp->forward(norm2->forward(h))));
}

// ---- model ---------------------------------------------------------------------------

std::shared_ptr<StructuredLinear> ViT::build_linear(const std::string& role, int64_t in, int64_t out, bool bias) {
  LinearSpec spec = config_.linear.at(role);
  spec.bias = spec.bias && bias;
  const LinearSpec resolved = resolve_linear_spec(spec, in, out);
  LinearOptions lo{.bias = resolved.bias, .dtype = options_.dtype, .device = options_.device,
                   .generator = options_.generator};
  std::shared_ptr<StructuredLinear> layer = make_linear(resolved, in, out, lo);
  NoGradGuard no_grad;
  if (resolved.type == "dense" && role != "patch_embed") {
    init_dense_timm(static_cast<Linear&>(*layer).weight, layer->bias, options_.generator);
  } else if (role != "patch_embed" && layer->bias.defined()) {
    ops::fill_(layer->bias, 0.0);
  }
  built_[layer.get()] = {role, resolved};
  return layer;
}

std::shared_ptr<ViTBlock> ViT::build_block(int64_t index) {
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
  return std::make_shared<ViTBlock>(std::make_shared<LayerNorm>(w, ln), attn, std::make_shared<LayerNorm>(w, ln), mlp,
                                    drop_path, options_.generator);
}

ViT::ViT(const ViTConfig& config, ModelOptions options) : config_(config), options_(options) {
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

  for (auto& [name, module] : named_modules()) {
    auto* layer = dynamic_cast<StructuredLinear*>(module);
    auto it = built_.find(layer);
    if (it != built_.end()) linears_.push_back({name, it->second.first, it->second.second, layer});
  }
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

namespace {

LayerCost plain_row(std::string name, std::string structure, std::string shape, int64_t params) {
  LayerCost c;
  c.name = std::move(name);
  c.structure = std::move(structure);
  c.shape = std::move(shape);
  c.params = c.dense_params = params;
  return c;
}

LayerCost norm_row(const std::string& name, const LayerNorm& norm) {
  return plain_row(name, "layer_norm", fmt::format("{}", norm.normalized_dim()), norm.num_parameters());
}

}  // namespace

std::vector<LayerCost> ViT::layer_costs() const {
  const ViTConfig& c = config_;
  const int64_t t = c.tokens(), w = c.width;
  // Linears by name, each applied to the tokens of its place in the network.
  std::map<std::string, const NamedLinear*> by_name;
  for (const NamedLinear& l : linears_) by_name[l.name] = &l;
  auto linear_row = [&](const std::string& name, int64_t tokens) { return linear_cost(*by_name.at(name), tokens); };

  std::vector<LayerCost> rows;
  rows.push_back(linear_row("patch_embed.proj", c.num_patches()));
  if (cls_token.defined()) rows.push_back(plain_row("cls_token", "parameter", fmt::format("(1, {})", w), w));
  rows.push_back(plain_row("pos_embed", "parameter", fmt::format("({}, {})", t, w), t * w));
  for (size_t i = 0; i < blocks.size(); ++i) {
    const std::string p = fmt::format("blocks.{}.", i);
    rows.push_back(norm_row(p + "norm1", *blocks[i]->norm1));
    for (const char* qkv : c.qkv_split ? std::vector<const char*>{"q", "k", "v"} : std::vector<const char*>{"qkv"}) {
      rows.push_back(linear_row(p + "attn." + qkv, t));
    }
    LayerCost sdpa = plain_row(p + "attn.sdpa", fmt::format("attention h={}", c.heads),
                               fmt::format("{} x {} x {}", t, t, w / c.heads), 0);
    sdpa.flops = sdpa.dense_flops = SelfAttention::attention_flops(t, w);
    rows.push_back(sdpa);
    rows.push_back(linear_row(p + "attn.proj", t));
    rows.push_back(norm_row(p + "norm2", *blocks[i]->norm2));
    rows.push_back(linear_row(p + "mlp.fc1", t));
    rows.push_back(linear_row(p + "mlp.fc2", t));
  }
  rows.push_back(norm_row("norm", *norm));
  rows.push_back(linear_row("head", 1));
  return rows;
}

}  // namespace strata
