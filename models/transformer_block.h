#pragma once
// TransformerBlock: the pre-LN transformer block of ViT and GPT-2.
//
//   x (B, T, C)
//   x = x + drop_path(attn(norm1(x)))     multi-head self-attention (models/self_attention.h)
//   x = x + drop_path(mlp(norm2(x)))      fc1 -> GELU -> fc2 (layers/mlp.h)
//
// Drop-path (stochastic depth) is ViT's; GPT-2 builds its blocks with 0.
// With a KVCache the block runs incrementally for generation: the new
// tokens' keys and values are appended to the cache and attend to all
// cached ones (models/self_attention.h).
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "layers/layer_norm.h"
#include "layers/mlp.h"
#include "models/drop_path.h"
#include "models/model.h"
#include "models/self_attention.h"

namespace strata {

class TransformerBlock : public Module {
 public:
  TransformerBlock(std::shared_ptr<LayerNorm> norm1, std::shared_ptr<SelfAttention> attn,
                   std::shared_ptr<LayerNorm> norm2, std::shared_ptr<MLP> mlp, double drop_path = 0.0,
                   Generator* gen = nullptr);

  Tensor forward(const Tensor& x, KVCache* cache = nullptr);  // (B, T, C) -> (B, T, C)

  // The block's cost rows for `tokens` tokens per sample; `prefix` is its
  // dotted path with a trailing dot ("blocks.3."), `linears` the model's.
  std::vector<LayerCost> costs(const std::string& prefix, int64_t tokens, const LinearsByName& linears) const;

  std::shared_ptr<LayerNorm> norm1;
  std::shared_ptr<SelfAttention> attn;
  std::shared_ptr<DropPath> drop_path1;
  std::shared_ptr<LayerNorm> norm2;
  std::shared_ptr<MLP> mlp;
  std::shared_ptr<DropPath> drop_path2;
};

// Reads a transformer's `heads` (dividing `width`) and `mlp_ratio` (an MLP
// hidden width of at least 1), the block shape ViT and GPT-2 share.
void read_block_shape(config::Section& model, int64_t width, int64_t& heads, double& mlp_ratio);

}  // namespace strata
