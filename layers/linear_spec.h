#pragma once
// LinearSpec: which structure a linear layer has and how big it is, as a
// config says it: by explicit size ({type: blast, blocks: 3, rank: 96}) or
// by a budget relative to the dense layer ({type: blast, blocks: 3,
// flops_ratio: 0.5} or params_ratio), solved for the largest size that fits.
//
//   LinearSpec spec = parse_linear_spec(yaml_node, "configs/vit.yaml");
//   std::unique_ptr<StructuredLinear> fc = make_linear(spec, 768, 3072);
//
// Errors (unknown type or key, blocks not dividing the dims, a budget too
// small for the smallest size) are strata::Error naming the key, its source
// ("file:line") and the reason.
#include <functional>
#include <memory>
#include <string>

#include "layers/linear.h"

namespace YAML {
class Node;
}

namespace strata {

struct LinearSpec {
  std::string type = "dense";  // dense | low_rank | block_diagonal | monarch | gblr | blast
  int64_t blocks = 0;          // 0: unset (the structure's default or solved from the budget)
  int64_t rank = 0;            // 0: unset (solved from the budget)
  double flops_ratio = 0.0;    // 0: unset; budget as a fraction of the dense layer's FLOPs
  double params_ratio = 0.0;   // 0: unset; budget as a fraction of the dense weight's parameters
  bool bias = true;
  std::string source;  // where the spec came from ("file.yaml:12"), for error messages
};

// Reads a spec from a YAML map; `file` names the file in errors.
LinearSpec parse_linear_spec(const YAML::Node& node, const std::string& file);

// The spec with blocks and rank made concrete for an (out x in) layer.
LinearSpec resolve_linear_spec(const LinearSpec& spec, int64_t in_features, int64_t out_features);

// Builds the layer a spec describes, freshly initialised.
std::unique_ptr<StructuredLinear> make_linear(const LinearSpec& spec, int64_t in_features, int64_t out_features,
                                              LinearOptions options = {});

// The best approximation of W (out x in) in the spec's class, and its
// relative Frobenius error ||W - W_hat|| / ||W||.
struct Projection {
  std::unique_ptr<StructuredLinear> layer;
  double relative_error;
};
Projection from_dense(const Tensor& weight, const LinearSpec& spec, LinearOptions options = {});

// ---- for the structure files: shared budget solving and errors --------------

// Throws strata::Error "linear spec (<source>): <key>: <reason>".
[[noreturn]] void spec_error(const LinearSpec& spec, const std::string& key, const std::string& reason);

// A structure's cost at one size, without bias: weight parameters and
// FLOPs per token (2 x multiply-adds), for budget solving.
struct StructureCost {
  int64_t params = 0;
  int64_t flops_per_token = 0;
};

// The largest rank in [1, max_rank] whose cost fits the spec's budget
// (flops_ratio or params_ratio of the dense in*out layer); the spec's own
// rank when it gives one (checked against max_rank). Errors name the key:
// no rank and no budget, both a rank and a budget, or a budget below rank 1.
int64_t resolve_rank(const LinearSpec& spec, int64_t in_features, int64_t out_features, int64_t max_rank,
                     const std::function<StructureCost(int64_t rank)>& cost);

// Checks that `blocks` divides both dims, naming the key.
void check_blocks_divide(const LinearSpec& spec, int64_t blocks, int64_t in_features, int64_t out_features);

}  // namespace strata
