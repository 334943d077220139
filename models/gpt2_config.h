#pragma once
// The `model:` section of a GPT-2 run config (Hugging Face GPT2Config names
// in brackets):
//
//   model:
//     name: gpt2
//     vocab_size: 50257     # [vocab_size] GPT-2's byte-level BPE
//     context: 1024         # [n_positions] longest sequence; learned positions
//     width: 768            # [n_embd] divisible by heads
//     depth: 12             # [n_layer]
//     heads: 12             # [n_head]
//     mlp_ratio: 4.0        # MLP hidden = int(width * mlp_ratio) (GPT-2: 4 width)
//     dropout: 0.0          # [embd_pdrop, resid_pdrop] after the embeddings and each residual branch
//     attn_dropout: 0.0     # [attn_pdrop] on the attention probabilities
//     bias: true            # biases of every linear
//     layer_norm_eps: 1.0e-5
//     linear: {type: blast, blocks: 6, rank: 192}   # or per role, see models/linear_roles.h
//
// Linear roles: qkv (c_attn), attn_out (attn.c_proj), mlp_in (c_fc),
// mlp_out (mlp.c_proj). A single `linear` spec applies to qkv, mlp_in and
// mlp_out, the layers the BLAST paper structures; attn_out stays dense
// unless the per-role map names it. The LM head is tied to the token
// embedding, so it is never structured. Defaults are GPT-2 small (124M).
//
// Errors name file:line:column and the key, as for the ViT section.
#include <cstdint>
#include <string>

#include "config/config.h"
#include "models/linear_roles.h"

namespace strata {

struct Gpt2Config {
  int64_t vocab_size = 50257;
  int64_t context = 1024;
  int64_t width = 768;
  int64_t depth = 12;
  int64_t heads = 12;
  double mlp_ratio = 4.0;
  double dropout = 0.0;
  double attn_dropout = 0.0;
  bool bias = true;
  double layer_norm_eps = 1e-5;
  LinearRoles linear;

  int64_t mlp_hidden() const { return int64_t(double(width) * mlp_ratio); }
};

const std::vector<std::string>& gpt2_linear_roles();
const std::vector<std::string>& gpt2_shared_linear_roles();

// Reads and checks the section (calls section.finish()).
Gpt2Config read_gpt2_config(config::Section& section);

}  // namespace strata
