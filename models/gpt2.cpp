#include "models/gpt2.h"

#include <fmt/format.h>

#include <cmath>

#include "autograd/functions.h"

namespace strata {

constexpr double kInitStd = 0.02;

std::shared_ptr<StructuredLinear> Gpt2::build_linear(const std::string& role, int64_t in, int64_t out, double std) {
  std::shared_ptr<StructuredLinear> layer = linear_builder_.build(role, in, out, config_.bias);
  NoGradGuard no_grad;
  if (auto* dense = dynamic_cast<Linear*>(layer.get())) normal_(dense->weight, 0.0, std, options_.generator);
  if (layer->bias.defined()) ops::fill_(layer->bias, 0.0);
  return layer;
}

std::shared_ptr<TransformerBlock> Gpt2::build_block() {
  const Gpt2Config& c = config_;
  const int64_t w = c.width;
  // The residual projections add into the stream once per block and
  // branch: scaling them keeps the stream's variance independent of depth.
  const double residual_std = kInitStd / std::sqrt(2.0 * double(c.depth));
  LayerNormOptions ln{.eps = c.layer_norm_eps, .dtype = options_.dtype, .device = options_.device};
  SelfAttentionOptions ao{.causal = true, .attn_dropout = c.attn_dropout, .proj_dropout = c.dropout,
                          .generator = options_.generator};
  auto attn = std::make_shared<SelfAttention>(c.heads, build_linear("qkv", w, 3 * w, kInitStd),
                                              build_linear("attn_out", w, w, residual_std), ao);
  MLPOptions mo{.approx = GeluApprox::tanh, .dropout = c.dropout, .dtype = options_.dtype, .device = options_.device,
                .generator = options_.generator};
  auto mlp = std::make_shared<MLP>(build_linear("mlp_in", w, c.mlp_hidden(), kInitStd),
                                   build_linear("mlp_out", c.mlp_hidden(), w, residual_std), mo);
  return std::make_shared<TransformerBlock>(std::make_shared<LayerNorm>(w, ln), attn, std::make_shared<LayerNorm>(w, ln),
                                            mlp);
}

Gpt2::Gpt2(const Gpt2Config& config, ModelOptions options)
    : config_(config), options_(options), linear_builder_(config.linear, options) {
  const Gpt2Config& c = config_;
  if (c.vocab_size < 1 || c.context < 1 || c.width < 1 || c.depth < 1 || c.heads < 1 || c.width % c.heads != 0 ||
      c.mlp_hidden() < 1) {
    fail("Gpt2", "invalid config (vocab {} context {} width {} depth {} heads {}): read it with read_gpt2_config",
         c.vocab_size, c.context, c.width, c.depth, c.heads);
  }
  EmbeddingOptions eo{.dtype = options.dtype, .device = options.device, .generator = options.generator};
  wte = register_module("wte", std::make_shared<Embedding>(c.vocab_size, c.width, eo));
  wpe = register_module("wpe", std::make_shared<Embedding>(c.context, c.width, eo));
  {
    NoGradGuard no_grad;
    normal_(wte->weight, 0.0, kInitStd, options.generator);
    normal_(wpe->weight, 0.0, kInitStd, options.generator);
  }
  drop = register_module("drop", std::make_shared<Dropout>(c.dropout, options.generator));
  auto block_list = register_module("blocks", std::make_shared<Module>());
  for (int64_t i = 0; i < c.depth; ++i) blocks.push_back(block_list->register_module(std::to_string(i), build_block()));
  ln_f = register_module("ln_f", std::make_shared<LayerNorm>(
                                     c.width, LayerNormOptions{.eps = c.layer_norm_eps, .dtype = options.dtype,
                                                               .device = options.device}));
  linears_ = linear_builder_.named(*this);
}

void Gpt2::check_tokens(const Tensor& tokens, int64_t first_position) const {
  if (tokens.dim() != 2 || tokens.dtype() != DType::i64 || tokens.size(1) < 1) {
    fail("Gpt2", "expected tokens (B, T) i64 with T >= 1, got {} {}", shape_str(tokens.shape()),
         dtype_name(tokens.dtype()));
  }
  if (first_position + tokens.size(1) > config_.context) {
    fail("Gpt2", "positions {}..{} exceed the context of {} tokens", first_position,
         first_position + tokens.size(1) - 1, config_.context);
  }
}

Tensor Gpt2::embed(const Tensor& tokens, int64_t first_position) {
  const int64_t t = tokens.size(1);
  Tensor positions = wpe->weight.slice(0, first_position, first_position + t);  // (T, C)
  return drop->forward(add(wte->forward(tokens), positions));
}

Tensor Gpt2::lm_head(const Tensor& x) const { return linear(x, wte->weight); }

Tensor Gpt2::hidden(const Tensor& tokens) {
  check_tokens(tokens, 0);
  Tensor x = embed(tokens, 0);
  for (const auto& block : blocks) x = block->forward(x);
  return ln_f->forward(x);
}

Tensor Gpt2::forward(const Tensor& tokens) { return lm_head(hidden(tokens)); }

Tensor Gpt2::loss(const Tensor& tokens, const Tensor& targets) {
  if (targets.shape() != tokens.shape()) {
    fail("Gpt2", "targets {} must have the shape of tokens {}", shape_str(targets.shape()), shape_str(tokens.shape()));
  }
  return cross_entropy(forward(tokens), targets);
}

Gpt2Cache Gpt2::new_cache(int64_t capacity) const {
  if (capacity < 1 || capacity > config_.context) {
    fail("Gpt2", "a cache holds 1..{} positions, asked for {}", config_.context, capacity);
  }
  Gpt2Cache cache;
  cache.layers.resize(blocks.size());
  for (KVCache& layer : cache.layers) layer.capacity = capacity;
  return cache;
}

Tensor Gpt2::forward(const Tensor& tokens, Gpt2Cache& cache) {
  if (cache.layers.size() != blocks.size()) fail("Gpt2", "the cache was not made by this model (new_cache)");
  const int64_t start = cache.length();
  check_tokens(tokens, start);
  NoGradGuard no_grad;
  Tensor x = embed(tokens, start);
  for (size_t i = 0; i < blocks.size(); ++i) x = blocks[i]->forward(x, &cache.layers[i]);
  return lm_head(ln_f->forward(x));
}

std::string Gpt2::describe() const {
  const Gpt2Config& c = config_;
  return fmt::format("gpt2: vocab {}, context {}, width {}, depth {}, heads {}, mlp {}", c.vocab_size, c.context,
                     c.width, c.depth, c.heads, c.mlp_hidden());
}

std::vector<LayerCost> Gpt2::layer_costs() const {
  const Gpt2Config& c = config_;
  const int64_t t = c.context, w = c.width;
  const LinearsByName linears = linears_by_name(linears_);
  std::vector<LayerCost> rows;
  rows.push_back(plain_cost("wte", "embedding", fmt::format("({}, {})", c.vocab_size, w), c.vocab_size * w));
  rows.push_back(plain_cost("wpe", "embedding", fmt::format("({}, {})", c.context, w), c.context * w));
  for (size_t i = 0; i < blocks.size(); ++i) {
    for (LayerCost& row : blocks[i]->costs(fmt::format("blocks.{}.", i), t, linears)) rows.push_back(std::move(row));
  }
  rows.push_back(plain_cost("ln_f", "layer_norm", fmt::format("{}", w), ln_f->num_parameters()));
  // Tied to wte: no parameters of its own, and never structured.
  LayerCost head = plain_cost("lm_head", "tied to wte", fmt::format("{} -> {}", w, c.vocab_size), 0);
  head.flops = head.dense_flops = 2 * t * w * c.vocab_size;
  rows.push_back(head);
  return rows;
}

}  // namespace strata
