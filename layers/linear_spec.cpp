#include "layers/linear_spec.h"

#include <cmath>

#include "core/ops.h"

namespace strata {

void spec_error(const LinearSpec& spec, const std::string& key, const std::string& reason) {
  std::string where = spec.source.empty() ? "" : " (" + spec.source + ")";
  throw Error(fmt::format("linear spec{}: {}: {}", where, key, reason));
}

void check_blocks_divide(const LinearSpec& spec, int64_t blocks, int64_t in_features, int64_t out_features) {
  if (blocks < 1) spec_error(spec, "blocks", fmt::format("must be >= 1, got {}", blocks));
  if (in_features % blocks != 0 || out_features % blocks != 0) {
    spec_error(spec, "blocks",
               fmt::format("{} blocks do not divide the layer {} -> {}", blocks, in_features, out_features));
  }
}

int64_t resolve_rank(const LinearSpec& spec, int64_t in_features, int64_t out_features, int64_t max_rank,
                     const std::function<StructureCost(int64_t rank)>& cost) {
  const bool by_flops = spec.flops_ratio > 0.0, by_params = spec.params_ratio > 0.0;
  if (spec.flops_ratio < 0.0) spec_error(spec, "flops_ratio", fmt::format("must be positive, got {}", spec.flops_ratio));
  if (spec.params_ratio < 0.0) spec_error(spec, "params_ratio", fmt::format("must be positive, got {}", spec.params_ratio));
  if (by_flops && by_params) spec_error(spec, "flops_ratio", "give flops_ratio or params_ratio, not both");
  if (spec.rank != 0) {
    if (by_flops || by_params) spec_error(spec, "rank", "give a rank or a budget (flops_ratio/params_ratio), not both");
    if (spec.rank < 1 || spec.rank > max_rank) {
      spec_error(spec, "rank", fmt::format("must be in [1, {}] for {} -> {}, got {}", max_rank, in_features,
                                           out_features, spec.rank));
    }
    return spec.rank;
  }
  if (!by_flops && !by_params) spec_error(spec, "rank", "missing: give rank, flops_ratio or params_ratio");
  const double dense = double(in_features) * double(out_features);
  auto fits = [&](int64_t rank) {
    StructureCost c = cost(rank);
    return by_flops ? double(c.flops_per_token) <= spec.flops_ratio * 2.0 * dense
                    : double(c.params) <= spec.params_ratio * dense;
  };
  if (!fits(1)) {
    spec_error(spec, by_flops ? "flops_ratio" : "params_ratio",
               fmt::format("budget {} is too small: rank 1 already exceeds it for {} -> {}",
                           by_flops ? spec.flops_ratio : spec.params_ratio, in_features, out_features));
  }
  int64_t lo = 1, hi = max_rank;  // costs grow with rank: binary search the last that fits
  while (lo < hi) {
    int64_t mid = lo + (hi - lo + 1) / 2;
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

Projection from_dense(const Tensor& weight, const LinearSpec& spec, LinearOptions options) {
  if (weight.dim() != 2) fail("from_dense", "weight must be (out, in), got {}", shape_str(weight.shape()));
  Projection p;
  p.layer = make_linear(spec, weight.size(1), weight.size(0), options);
  p.relative_error = p.layer->project(weight);
  return p;
}

}  // namespace strata

namespace strata {

LinearSpec resolve_linear_spec(const LinearSpec& spec, int64_t in_features, int64_t out_features) {
  if (spec.type == "dense") {
    if (spec.blocks || spec.rank || spec.flops_ratio || spec.params_ratio) {
      spec_error(spec, "type", "dense takes no blocks, rank or budget");
    }
    return spec;
  }
  (void)in_features;
  (void)out_features;
  spec_error(spec, "type", fmt::format("unknown structure '{}'", spec.type));
}

std::unique_ptr<StructuredLinear> make_linear(const LinearSpec& spec, int64_t in_features, int64_t out_features,
                                              LinearOptions options) {
  LinearSpec resolved = resolve_linear_spec(spec, in_features, out_features);
  options.bias = resolved.bias;
  if (resolved.type == "dense") return std::make_unique<Linear>(in_features, out_features, options);
  spec_error(spec, "type", fmt::format("unknown structure '{}'", spec.type));
}

}  // namespace strata
