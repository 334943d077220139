#include "models/linear_builder.h"

namespace strata {

std::shared_ptr<StructuredLinear> LinearBuilder::build(const std::string& role, int64_t in, int64_t out, bool bias) {
  LinearSpec spec = roles_.at(role);
  spec.bias = spec.bias && bias;
  const LinearSpec resolved = resolve_linear_spec(spec, in, out);
  LinearOptions lo{.bias = resolved.bias, .dtype = options_.dtype, .device = options_.device,
                   .generator = options_.generator};
  std::shared_ptr<StructuredLinear> layer = make_linear(resolved, in, out, lo);
  built_[layer.get()] = {role, resolved};
  return layer;
}

std::vector<NamedLinear> LinearBuilder::named(const Module& root) const {
  std::vector<NamedLinear> out;
  for (const auto& [name, module] : root.named_modules()) {
    const auto* layer = dynamic_cast<const StructuredLinear*>(module);
    auto it = built_.find(layer);
    if (it != built_.end()) {
      out.push_back({name, it->second.first, it->second.second, const_cast<StructuredLinear*>(layer)});
    }
  }
  return out;
}

}  // namespace strata
