#include "models/self_attention.h"

#include "autograd/functions.h"

namespace strata {

SelfAttention::SelfAttention(int64_t heads, std::shared_ptr<StructuredLinear> qkv_in,
                             std::shared_ptr<StructuredLinear> proj_in, SelfAttentionOptions options)
    : width_(proj_in ? proj_in->in_features() : 0), heads_(heads) {
  if (!qkv_in || !proj_in) fail("SelfAttention", "qkv and proj must be given");
  check_width("qkv", *qkv_in, 3);
  qkv = register_module("qkv", std::move(qkv_in));
  finish_construction(std::move(proj_in), options);
}

SelfAttention::SelfAttention(int64_t heads, std::shared_ptr<StructuredLinear> q_in,
                             std::shared_ptr<StructuredLinear> k_in, std::shared_ptr<StructuredLinear> v_in,
                             std::shared_ptr<StructuredLinear> proj_in, SelfAttentionOptions options)
    : width_(proj_in ? proj_in->in_features() : 0), heads_(heads) {
  if (!q_in || !k_in || !v_in || !proj_in) fail("SelfAttention", "q, k, v and proj must be given");
  check_width("q", *q_in, 1);
  check_width("k", *k_in, 1);
  check_width("v", *v_in, 1);
  q = register_module("q", std::move(q_in));
  k = register_module("k", std::move(k_in));
  v = register_module("v", std::move(v_in));
  finish_construction(std::move(proj_in), options);
}

void SelfAttention::check_width(const char* name, const StructuredLinear& layer, int64_t out_multiple) const {
  if (layer.in_features() != width_ || layer.out_features() != out_multiple * width_) {
    fail("SelfAttention", "{} must map {} -> {}, got {} -> {}", name, width_, out_multiple * width_,
         layer.in_features(), layer.out_features());
  }
}

void SelfAttention::finish_construction(std::shared_ptr<StructuredLinear> proj_in, const SelfAttentionOptions& o) {
  if (heads_ < 1 || width_ % heads_ != 0) fail("SelfAttention", "{} heads do not divide width {}", heads_, width_);
  if (proj_in->out_features() != width_) {
    fail("SelfAttention", "proj must map {} -> {}, got {} -> {}", width_, width_, proj_in->in_features(),
         proj_in->out_features());
  }
  if (!(o.attn_dropout >= 0.0 && o.attn_dropout < 1.0)) fail("SelfAttention", "attn_dropout {} not in [0, 1)", o.attn_dropout);
  causal_ = o.causal;
  attn_dropout_ = o.attn_dropout;
  generator_ = o.generator;
  proj = register_module("proj", std::move(proj_in));
  proj_drop = register_module("proj_drop", std::make_shared<Dropout>(o.proj_dropout, o.generator));
}

Tensor SelfAttention::split_heads(const Tensor& x) const {
  return x.view({x.size(0), x.size(1), heads_, width_ / heads_}).permute({0, 2, 1, 3});
}

std::pair<Tensor, Tensor> SelfAttention::append_to_cache(KVCache& cache, const Tensor& kh, const Tensor& vh) const {
  const int64_t b = kh.size(0), t = kh.size(2), d = width_ / heads_;
  if (!cache.k.defined()) {
    const TensorOptions options{kh.dtype(), kh.device()};
    cache.k = zeros({b, heads_, cache.capacity, d}, options);
    cache.v = zeros({b, heads_, cache.capacity, d}, options);
  }
  if (cache.k.size(0) != b) fail("SelfAttention", "the KV cache holds batch {}, got {}", cache.k.size(0), b);
  if (cache.length > 0 && t != 1) {
    fail("SelfAttention", "a filled KV cache takes one token at a time, got {}", t);
  }
  if (cache.length + t > cache.capacity) {
    fail("SelfAttention", "the KV cache is full ({} of {} positions, {} more)", cache.length, cache.capacity, t);
  }
  ops::copy_(cache.k.slice(2, cache.length, cache.length + t), kh);
  ops::copy_(cache.v.slice(2, cache.length, cache.length + t), vh);
  cache.length += t;
  return {cache.k.slice(2, 0, cache.length), cache.v.slice(2, 0, cache.length)};
}

Tensor SelfAttention::forward(const Tensor& x, KVCache* cache) {
  if (x.dim() != 3 || x.size(2) != width_) {
    fail("SelfAttention", "expected x (B, T, {}), got {}", width_, shape_str(x.shape()));
  }
  const int64_t b = x.size(0), t = x.size(1);
  Tensor qh, kh, vh;
  if (qkv) {
    // Column slices of the (B, T, 3C) output: views with row stride 3C.
    Tensor all = qkv->forward(x);
    qh = split_heads(all.slice(2, 0, width_));
    kh = split_heads(all.slice(2, width_, 2 * width_));
    vh = split_heads(all.slice(2, 2 * width_, 3 * width_));
  } else {
    qh = split_heads(q->forward(x));
    kh = split_heads(k->forward(x));
    vh = split_heads(v->forward(x));
  }
  AttentionOptions options;
  // A single new token after the prompt sees every cached key: no mask.
  options.causal = causal_ && !(cache && cache->length > 0);
  if (cache) std::tie(kh, vh) = append_to_cache(*cache, kh, vh);
  options.dropout_p = is_training() ? attn_dropout_ : 0.0;
  options.generator = generator_;
  Tensor o = scaled_dot_product_attention(qh, kh, vh, options);  // (B, H, T, D)
  return proj_drop->forward(proj->forward(o.transpose(1, 2).reshape({b, t, width_})));
}

}  // namespace strata
