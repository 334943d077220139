#pragma once
// Text generation with a GPT-2: autoregressive sampling over a KV cache
// (models/gpt2.h), so each new token costs one incremental forward.
//
//   prompt (token ids) -> prefill: one causal forward over the prompt
//   repeat: logits of the last position / temperature
//           -> keep the top_k largest (0: all) -> softmax -> draw a token
//           -> forward that one token through the cache
//
// temperature 0 is greedy decoding (arg-max). Draws come from a Generator
// seeded with `seed`, so a (model, prompt, options) triple always gives the
// same tokens. Generation stops after max_new_tokens, at stop_token, or
// when the context is full; a prompt longer than the context keeps its last
// context - 1 tokens.
#include <cstdint>
#include <functional>
#include <vector>

#include "models/gpt2.h"

namespace strata {

struct SamplingOptions {
  int64_t max_new_tokens = 100;
  double temperature = 1.0;
  int64_t top_k = 0;
  uint64_t seed = 0;
  int64_t stop_token = -1;  // e.g. 50256 (<|endoftext|>); -1: none
};

// The new tokens (not the prompt). `on_token`, when given, sees each one as
// it is drawn (for streaming output).
std::vector<int64_t> generate(Gpt2& model, std::vector<int64_t> prompt, const SamplingOptions& options,
                              const std::function<void(int64_t)>& on_token = {});

// One draw from logits (V) as the options say; `uniform` in [0, 1).
int64_t sample_token(const std::vector<double>& logits, double temperature, int64_t top_k, double uniform);

}  // namespace strata
