#pragma once
// Model: what the trainer, `strata info`, `strata compress` and the
// benchmarks see of any network built from structured linears (ViT, GPT-2).
//
//   structured_linears() every linear built from a LinearSpec (dense ones
//                       too), by dotted module path and role: the hook for
//                       GBLR's sigma schedule and width shrinking, and for
//                       compression;
//   layer_costs()       one row per layer for `strata info`: parameters and
//                       forward FLOPs per sample (an image, or a sequence of
//                       the model's context length), beside what the same
//                       layer costs with dense linears;
//   flops_per_sample()  the sum of the rows' FLOPs.
//
// FLOPs convention: 2 x multiply-adds of matrix products only (linears,
// patch embedding, attention's q k^T and P v, head), as fvcore and the
// structured-matrix papers count; norms, softmax, GELU, residual adds and
// biases are not counted (well under 1% of a transformer's products).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/random.h"
#include "core/tensor.h"
#include "layers/linear_spec.h"
#include "layers/module.h"
#include "layers/structured_linear.h"

namespace strata {

// Where a model's parameters live and which generator draws its
// initialisation and its dropout masks (null: the default generator; it
// must outlive the model).
struct ModelOptions {
  DType dtype = DType::f32;
  Device device = Device::cpu();
  Generator* generator = nullptr;
};

struct NamedLinear {
  std::string name;  // dotted module path, e.g. "blocks.3.mlp.fc1"
  std::string role;  // the config role that built it: qkv, attn_out, mlp_in, mlp_out, patch_embed, head
  LinearSpec spec;   // resolved: blocks and rank concrete
  StructuredLinear* layer = nullptr;
};

struct LayerCost {
  std::string name;       // dotted path ("blocks.0.attn.qkv", "blocks.0.attn.sdpa", "pos_embed")
  std::string structure;  // "dense", "blast b=3 r=96", "layer_norm", "attention h=6", "parameter", ...
  std::string shape;      // "384 -> 1152", "(65, 384)"
  int64_t params = 0;
  int64_t flops = 0;  // per sample, forward
  int64_t dense_params = 0;  // the same layer with a dense linear (= params for non-linears)
  int64_t dense_flops = 0;
  bool linear = false;  // a row of a linear layer (whose structure the config chooses)
};

// "dense", "low_rank r=64", "blast b=3 r=96", "gblr K=384 flops=0.5" for a resolved spec.
std::string describe_structure(const LinearSpec& resolved);

// The cost row of one linear applied to `tokens` tokens per sample.
LayerCost linear_cost(const NamedLinear& linear, int64_t tokens);

// A row without matrix products of its own (a norm, an embedding, a parameter).
LayerCost plain_cost(std::string name, std::string structure, std::string shape, int64_t params);

// A model's linears by dotted path, for building its cost rows.
using LinearsByName = std::map<std::string, const NamedLinear*>;
LinearsByName linears_by_name(const std::vector<NamedLinear>& linears);

class Model : public Module {
 public:
  virtual std::vector<NamedLinear> structured_linears() const = 0;
  virtual std::vector<LayerCost> layer_costs() const = 0;
  // One line naming the architecture and its sizes, for logs and `strata info`.
  virtual std::string describe() const = 0;

  int64_t flops_per_sample() const;
  int64_t dense_flops_per_sample() const;  // the same model with every linear dense
};

}  // namespace strata
