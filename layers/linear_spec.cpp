#include "layers/linear_spec.h"

#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/ops.h"
#include "layers/blast.h"
#include "layers/block_diagonal.h"
#include "layers/gblr.h"
#include "layers/low_rank.h"
#include "layers/monarch.h"

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

// ---- parsing --------------------------------------------------------------------

namespace {

const std::vector<std::string> kKeys = {"type", "blocks", "rank", "flops_ratio", "params_ratio", "bias"};
// Every structure a spec may name (blast and gblr come with their layers).
const std::vector<std::string> kTypes = {"dense", "low_rank", "block_diagonal", "monarch", "gblr", "blast"};

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : ", ") + w;
  return out;
}

// " (did you mean 'x'?)" naming the closest candidate when it is near
// enough to be a typo (config::closest_match's rule).
std::string suggestion(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best = config::closest_match(word, candidates);
  return best.empty() ? "" : fmt::format(" (did you mean '{}'?)", best);
}

std::string where(const std::string& file, const YAML::Node& node) {
  return fmt::format("{}:{}", file, node.Mark().line + 1);
}

// Throws naming the key and its line.
[[noreturn]] void key_error(const std::string& file, const YAML::Node& at, const std::string& key,
                            const std::string& reason) {
  LinearSpec located;
  located.source = where(file, at);
  spec_error(located, key, reason);
}

template <typename T>
T scalar_as(const std::string& file, const YAML::Node& key, const YAML::Node& value, const char* expected) {
  const std::string name = key.as<std::string>();
  if (!value.IsScalar()) {
    const char* got = value.IsMap() ? "a map" : value.IsSequence() ? "a sequence" : "nothing";
    key_error(file, key, name, fmt::format("expected {}, got {}", expected, got));
  }
  try {
    return value.as<T>();
  } catch (const YAML::Exception&) {
    key_error(file, key, name, fmt::format("expected {}, got '{}'", expected, value.Scalar()));
  }
}

}  // namespace

LinearSpec parse_linear_spec(const YAML::Node& node, const std::string& file) {
  LinearSpec spec;
  if (!node.IsMap()) {
    LinearSpec located;
    located.source = node.IsDefined() ? where(file, node) : file;
    spec_error(located, "type", "a linear spec must be a map such as {type: low_rank, rank: 64}");
  }
  spec.source = where(file, node);
  for (const auto& item : node) {
    const YAML::Node& key = item.first;
    const YAML::Node& value = item.second;
    const std::string name = key.IsScalar() ? key.Scalar() : "?";
    if (name == "type") {
      spec.type = scalar_as<std::string>(file, key, value, "a structure name");
      if (std::find(kTypes.begin(), kTypes.end(), spec.type) == kTypes.end()) {
        key_error(file, key, "type", fmt::format("unknown structure '{}'{}; valid types: {}", spec.type,
                                                 suggestion(spec.type, kTypes), join(kTypes)));
      }
    } else if (name == "blocks") {
      spec.blocks = scalar_as<int64_t>(file, key, value, "an integer");
    } else if (name == "rank") {
      spec.rank = scalar_as<int64_t>(file, key, value, "an integer");
    } else if (name == "flops_ratio") {
      spec.flops_ratio = scalar_as<double>(file, key, value, "a number");
    } else if (name == "params_ratio") {
      spec.params_ratio = scalar_as<double>(file, key, value, "a number");
    } else if (name == "bias") {
      spec.bias = scalar_as<bool>(file, key, value, "true or false");
    } else {
      key_error(file, key, name,
                fmt::format("unknown key{}; valid keys: {}", suggestion(name, kKeys), join(kKeys)));
    }
  }
  return spec;
}

// ---- the factory: one case per structure ------------------------------------------------

// Dispatches to the structure's static resolve. The result is an explicit
// size with no budget left (gblr keeps its flops_ratio, which sets its mask
// widths), so resolving it again, as make_linear does, is a no-op.
LinearSpec resolve_linear_spec(const LinearSpec& spec, int64_t in_features, int64_t out_features) {
  LinearSpec out;
  if (spec.type == "dense") {
    if (spec.blocks || spec.rank || spec.flops_ratio || spec.params_ratio) {
      spec_error(spec, "type", "dense takes no blocks, rank or budget");
    }
    out = spec;
  } else if (spec.type == "low_rank") {
    out = LowRank::resolve(spec, in_features, out_features);
  } else if (spec.type == "block_diagonal") {
    out = BlockDiagonal::resolve(spec, in_features, out_features);
  } else if (spec.type == "monarch") {
    out = Monarch::resolve(spec, in_features, out_features);
  }
  else if (spec.type == "blast") {
    out = Blast::resolve(spec, in_features, out_features);
  }
  else if (spec.type == "gblr") {
    return Gblr::resolve_spec(spec, in_features, out_features);  // keeps flops_ratio: it sets the mask widths
  }
  else {
    spec_error(spec, "type", fmt::format("unknown structure '{}'; valid types: {}", spec.type, join(kTypes)));
  }
  out.flops_ratio = out.params_ratio = 0.0;
  return out;
}

std::unique_ptr<StructuredLinear> make_linear(const LinearSpec& spec, int64_t in_features, int64_t out_features,
                                              LinearOptions options) {
  const LinearSpec r = resolve_linear_spec(spec, in_features, out_features);
  options.bias = r.bias;
  if (r.type == "dense") return std::make_unique<Linear>(in_features, out_features, options);
  if (r.type == "low_rank") return std::make_unique<LowRank>(in_features, out_features, r.rank, options);
  if (r.type == "block_diagonal") return std::make_unique<BlockDiagonal>(in_features, out_features, r.blocks, options);
  if (r.type == "monarch") return std::make_unique<Monarch>(in_features, out_features, r.blocks, r.rank, options);
  if (r.type == "blast") return std::make_unique<Blast>(in_features, out_features, r.blocks, r.rank, options);
  if (r.type == "gblr") {
    return std::make_unique<Gblr>(in_features, out_features, Gblr::resolve(r, in_features, out_features), options);
  }
  spec_error(spec, "type", fmt::format("unknown structure '{}'; valid types: {}", spec.type, join(kTypes)));
}

}  // namespace strata
