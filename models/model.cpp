#include "models/model.h"

#include <fmt/format.h>

namespace strata {

std::string describe_structure(const LinearSpec& s) {
  if (s.type == "dense") return "dense";
  if (s.type == "low_rank") return fmt::format("low_rank r={}", s.rank);
  if (s.type == "block_diagonal") return fmt::format("block_diagonal b={}", s.blocks);
  if (s.type == "gblr") {
    return s.flops_ratio > 0.0 ? fmt::format("gblr K={} flops={:g}", s.rank, s.flops_ratio)
                               : fmt::format("gblr K={}", s.rank);
  }
  return fmt::format("{} b={} r={}", s.type, s.blocks, s.rank);  // monarch, blast
}

LayerCost linear_cost(const NamedLinear& linear, int64_t tokens) {
  const StructuredLinear& l = *linear.layer;
  const int64_t bias = l.bias.defined() ? l.out_features() : 0;
  LayerCost c;
  c.name = linear.name;
  c.structure = describe_structure(linear.spec);
  c.shape = fmt::format("{} -> {}", l.in_features(), l.out_features());
  c.params = l.num_params();
  c.flops = l.flops(tokens);
  c.dense_params = l.in_features() * l.out_features() + bias;
  c.dense_flops = 2 * tokens * l.in_features() * l.out_features();
  c.linear = true;
  return c;
}

LayerCost plain_cost(std::string name, std::string structure, std::string shape, int64_t params) {
  LayerCost c;
  c.name = std::move(name);
  c.structure = std::move(structure);
  c.shape = std::move(shape);
  c.params = c.dense_params = params;
  return c;
}

LinearsByName linears_by_name(const std::vector<NamedLinear>& linears) {
  LinearsByName by_name;
  for (const NamedLinear& l : linears) by_name[l.name] = &l;
  return by_name;
}

int64_t Model::flops_per_sample() const {
  int64_t total = 0;
  for (const LayerCost& c : layer_costs()) total += c.flops;
  return total;
}

int64_t Model::dense_flops_per_sample() const {
  int64_t total = 0;
  for (const LayerCost& c : layer_costs()) total += c.dense_flops;
  return total;
}

}  // namespace strata
