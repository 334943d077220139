#pragma once
// Multi-head self-attention (timm Attention), on x (B, T, C), H heads of
// D = C / H features:
//   q, k, v = the projections of x, each (B, T, C) viewed as (B, H, T, D)
//   o = softmax(q k^T / sqrt(D)) v          the fused attention op (B, H, T, D)
//   y = proj(o as (B, T, C)), then dropout
// The projections come in one of two forms:
//   fused: qkv maps C -> 3C, outputs ordered [q | k | v], each head-major
//          (timm's layout, so timm's qkv.weight loads as is);
//   split: q, k and v map C -> C each, so a structure applies to each
//          C x C matrix (the GBLR/BLAST CIFAR setting: q, k, v structured).
// The head split is views only (reshape + permute); the attention op makes
// its operands contiguous and the head merge is one copy.
//
// Causal attention (GPT-2) masks every key after its query. For generation
// a KVCache keeps the keys and values of the tokens seen so far: the first
// call (the prompt) runs causal attention over its own tokens; each later
// call brings one new token, whose query attends to every cached key (all
// of them precede it), so generating N tokens costs O(N) per token.
//
// FLOPs per sample of the two attention products (q k^T and P v):
// 2 * 2 * T * T * D * H = 4 T^2 C (softmax not counted).
#include <memory>

#include "core/random.h"
#include "core/tensor.h"
#include "layers/dropout.h"
#include "layers/module.h"
#include "layers/structured_linear.h"

namespace strata {

// Keys and values of the tokens seen so far, each (B, H, capacity, D); the
// first `length` positions are filled. Empty until the first forward.
struct KVCache {
  int64_t capacity = 0;
  int64_t length = 0;
  Tensor k, v;
};

struct SelfAttentionOptions {
  bool causal = false;        // mask keys after the query (GPT-2)
  double attn_dropout = 0.0;  // on the attention probabilities, training only
  double proj_dropout = 0.0;  // after proj, training only
  Generator* generator = nullptr;
};

class SelfAttention : public Module {
 public:
  // Fused: qkv (C -> 3C), proj (C -> C).
  SelfAttention(int64_t heads, std::shared_ptr<StructuredLinear> qkv, std::shared_ptr<StructuredLinear> proj,
                SelfAttentionOptions options = {});
  // Split: q, k, v (C -> C each), proj (C -> C).
  SelfAttention(int64_t heads, std::shared_ptr<StructuredLinear> q, std::shared_ptr<StructuredLinear> k,
                std::shared_ptr<StructuredLinear> v, std::shared_ptr<StructuredLinear> proj,
                SelfAttentionOptions options = {});

  // (B, T, C) -> (B, T, C). With a cache (inference only): appends the T new
  // tokens' keys and values; T must be 1 once the cache holds tokens.
  Tensor forward(const Tensor& x, KVCache* cache = nullptr);

  int64_t width() const { return width_; }
  int64_t heads() const { return heads_; }
  bool split() const { return q != nullptr; }
  static int64_t attention_flops(int64_t tokens, int64_t width) { return 4 * tokens * tokens * width; }

  std::shared_ptr<StructuredLinear> qkv;   // fused form (else null)
  std::shared_ptr<StructuredLinear> q, k, v;  // split form (else null)
  std::shared_ptr<StructuredLinear> proj;
  std::shared_ptr<Dropout> proj_drop;

 private:
  void check_width(const char* name, const StructuredLinear& layer, int64_t out_multiple) const;
  void finish_construction(std::shared_ptr<StructuredLinear> proj_in, const SelfAttentionOptions& options);
  // (B, T, C) -> (B, H, T, D), a view.
  Tensor split_heads(const Tensor& x) const;
  // The new keys and values appended to the cache; returns all cached ones.
  std::pair<Tensor, Tensor> append_to_cache(KVCache& cache, const Tensor& kh, const Tensor& vh) const;

  int64_t width_, heads_;
  bool causal_;
  double attn_dropout_;
  Generator* generator_;
};

}  // namespace strata
