#pragma once
// Hugging Face GPT-2 weights (model.safetensors of GPT2Model or
// GPT2LMHeadModel) as a Strata checkpoint.
//
//   HF name (optional "transformer." prefix)   Strata name
//   wte.weight (V, C), wpe.weight (P, C)       wte.weight, wpe.weight
//   h.i.ln_1.{weight,bias}                     blocks.i.norm1.{weight,bias}
//   h.i.attn.c_attn.weight (C, 3C), bias       blocks.i.attn.qkv.weight (3C, C), bias
//   h.i.attn.c_proj.weight (C, C), bias        blocks.i.attn.proj.weight (C, C), bias
//   h.i.ln_2.{weight,bias}                     blocks.i.norm2.{weight,bias}
//   h.i.mlp.c_fc.weight (C, 4C), bias          blocks.i.mlp.fc1.weight (4C, C), bias
//   h.i.mlp.c_proj.weight (4C, C), bias        blocks.i.mlp.fc2.weight (C, 4C), bias
//   ln_f.{weight,bias}                         ln_f.{weight,bias}
//
// HF stores its linears as Conv1D, weight (in, out): they are transposed to
// Strata's (out, in). The causal-mask buffers (h.i.attn.bias,
// h.i.attn.masked_bias) are not weights and are skipped; lm_head.weight is
// the tied wte and must equal it. The sizes come from the tensors; the head
// count is not stored in the weights (every GPT-2 size uses 64-wide heads,
// the default). Any other name, a missing one, or a shape that disagrees is
// an error naming the file and the tensor.
#include <cstdint>
#include <string>

#include "train/checkpoint.h"

namespace strata {

struct HfGpt2ImportOptions {
  int64_t heads = 0;             // 0: width / 64
  std::string vocab = "deps/gpt2/gpt2.tiktoken";  // recorded as data.vocab for `strata sample`
};

// A checkpoint at step 0 whose stored config describes the dense GPT-2 the
// weights fit (model section, data.vocab) and whose model tensors are them.
CheckpointState import_hf_gpt2(const std::string& safetensors_path, const HfGpt2ImportOptions& options = {});

}  // namespace strata
