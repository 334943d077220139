#pragma once
// GPT-2 (Radford et al. 2019) as Hugging Face and llm.c build it, with
// every linear role built from a LinearSpec (models/gpt2_config.h).
//
//   tokens (B, T) i64, T <= context
//   x = wte[tokens] + wpe[0..T), dropout          (B, T, C)
//   per block (pre-LN, models/transformer_block.h):
//     x = x + attn(norm1(x))      qkv (C -> 3C), causal fused attention, proj (C -> C), dropout
//     x = x + mlp(norm2(x))       fc1 (C -> 4C), GELU (tanh), fc2 (4C -> C), dropout
//   x = ln_f(x)
//   logits = x wte^T                               (B, T, V)   the LM head is tied to wte
//
// Module names: wte, wpe, blocks.i.{norm1, attn.qkv, attn.proj, norm2,
// mlp.fc1, mlp.fc2}, ln_f (HF: transformer.h.i.{ln_1, attn.c_attn,
// attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj}; `strata import gpt2` maps them).
//
// Initialisation (GPT-2 / llm.c): wte, wpe and dense linear weights
// N(0, 0.02^2), the residual projections (attn.proj, mlp.fc2) N(0, (0.02 /
// sqrt(2 depth))^2), biases 0, LayerNorm 1 and 0. Structured linears keep
// their own init (W's variance matches PyTorch's Linear, 1 / (3 in), close
// to 0.02^2 at GPT-2's widths), biases 0.
//
// Generation: forward(tokens, cache) runs the blocks incrementally over a
// Gpt2Cache (one KVCache per block): the prompt first, then one token per
// call, each costing O(length) instead of a full forward.
#include <memory>
#include <vector>

#include "layers/dropout.h"
#include "layers/embedding.h"
#include "layers/layer_norm.h"
#include "models/gpt2_config.h"
#include "models/linear_builder.h"
#include "models/model.h"
#include "models/transformer_block.h"

namespace strata {

struct Gpt2Cache {
  std::vector<KVCache> layers;
  int64_t length() const { return layers.empty() ? 0 : layers.front().length; }
};

class Gpt2 : public Model {
 public:
  // The config must have been checked (read_gpt2_config does).
  explicit Gpt2(const Gpt2Config& config, ModelOptions options = {});

  // tokens (B, T) i64 -> logits (B, T, vocab_size).
  Tensor forward(const Tensor& tokens);
  // The final hidden states (B, T, C) (before the LM head).
  Tensor hidden(const Tensor& tokens);
  // Incremental: tokens (B, t) at positions cache.length() .. + t; returns
  // the logits of these positions. Inference only (no autograd recording).
  Tensor forward(const Tensor& tokens, Gpt2Cache& cache);
  // A cache for `batch` sequences of up to `capacity` (<= context) tokens.
  Gpt2Cache new_cache(int64_t capacity) const;

  // Mean cross-entropy of predicting targets (B, T) from tokens (B, T).
  Tensor loss(const Tensor& tokens, const Tensor& targets);

  std::vector<NamedLinear> structured_linears() const override { return linears_; }
  std::vector<LayerCost> layer_costs() const override;  // per sequence of `context` tokens
  std::string describe() const override;
  const Gpt2Config& config() const { return config_; }

  std::shared_ptr<Embedding> wte;  // (V, C), also the LM head
  std::shared_ptr<Embedding> wpe;  // (context, C)
  std::shared_ptr<Dropout> drop;
  std::vector<std::shared_ptr<TransformerBlock>> blocks;
  std::shared_ptr<LayerNorm> ln_f;

 private:
  std::shared_ptr<StructuredLinear> build_linear(const std::string& role, int64_t in, int64_t out, double std);
  std::shared_ptr<TransformerBlock> build_block();
  void check_tokens(const Tensor& tokens, int64_t first_position) const;
  Tensor embed(const Tensor& tokens, int64_t first_position);
  Tensor lm_head(const Tensor& x) const;

  Gpt2Config config_;
  ModelOptions options_;
  LinearBuilder linear_builder_;
  std::vector<NamedLinear> linears_;  // filled once the modules are registered
};

}  // namespace strata
