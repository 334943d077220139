#include "models/transformer_block.h"

#include <fmt/format.h>

#include "autograd/functions.h"

namespace strata {

TransformerBlock::TransformerBlock(std::shared_ptr<LayerNorm> norm1_in, std::shared_ptr<SelfAttention> attn_in,
                                   std::shared_ptr<LayerNorm> norm2_in, std::shared_ptr<MLP> mlp_in, double drop_path,
                                   Generator* gen) {
  norm1 = register_module("norm1", std::move(norm1_in));
  attn = register_module("attn", std::move(attn_in));
  drop_path1 = register_module("drop_path1", std::make_shared<DropPath>(drop_path, gen));
  norm2 = register_module("norm2", std::move(norm2_in));
  mlp = register_module("mlp", std::move(mlp_in));
  drop_path2 = register_module("drop_path2", std::make_shared<DropPath>(drop_path, gen));
}

Tensor TransformerBlock::forward(const Tensor& x, KVCache* cache) {
  Tensor h = add(x, drop_path1->forward(attn->forward(norm1->forward(x), cache)));
  return add(h, drop_path2->forward(mlp->forward(norm2->forward(h))));
}

namespace {

LayerCost norm_cost(const std::string& name, const LayerNorm& norm) {
  return plain_cost(name, "layer_norm", fmt::format("{}", norm.normalized_dim()), norm.num_parameters());
}

}  // namespace

std::vector<LayerCost> TransformerBlock::costs(const std::string& prefix, int64_t tokens,
                                               const LinearsByName& linears) const {
  auto linear_row = [&](const std::string& name) { return linear_cost(*linears.at(prefix + name), tokens); };
  const int64_t width = attn->width(), heads = attn->heads();
  std::vector<LayerCost> rows;
  rows.push_back(norm_cost(prefix + "norm1", *norm1));
  if (attn->split()) {
    for (const char* name : {"attn.q", "attn.k", "attn.v"}) rows.push_back(linear_row(name));
  } else {
    rows.push_back(linear_row("attn.qkv"));
  }
  LayerCost sdpa = plain_cost(prefix + "attn.sdpa", fmt::format("attention h={}", heads),
                              fmt::format("{} x {} x {}", tokens, tokens, width / heads), 0);
  sdpa.flops = sdpa.dense_flops = SelfAttention::attention_flops(tokens, width);
  rows.push_back(sdpa);
  rows.push_back(linear_row("attn.proj"));
  rows.push_back(norm_cost(prefix + "norm2", *norm2));
  rows.push_back(linear_row("mlp.fc1"));
  rows.push_back(linear_row("mlp.fc2"));
  return rows;
}

void read_block_shape(config::Section& s, int64_t width, int64_t& heads, double& mlp_ratio) {
  s.field<int64_t>("heads", heads, [&](const int64_t& h) -> std::string {
    if (h < 1) return "must be > 0";
    return width % h == 0 ? "" : fmt::format("{} heads do not divide width {}", h, width);
  });
  s.field<double>("mlp_ratio", mlp_ratio, [&](const double& r) -> std::string {
    return r > 0.0 && int64_t(double(width) * r) >= 1 ? "" : "must give an MLP hidden width >= 1";
  });
}

}  // namespace strata
