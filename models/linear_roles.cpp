#include "models/linear_roles.h"

#include <algorithm>

namespace strata {

namespace {

const std::vector<std::string> kSpecKeys = {"type", "blocks", "rank", "flops_ratio", "params_ratio", "bias"};

bool contains(const std::vector<std::string>& words, const std::string& word) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

// A spec map has at least one spec key; a per-role map has none.
bool is_spec_map(const YAML::Node& node) {
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (it->first.IsScalar() && contains(kSpecKeys, it->first.Scalar())) return true;
  }
  return false;
}

}  // namespace

const std::vector<std::string>& linear_structure_types() {
  static const std::vector<std::string> types = {"dense", "low_rank", "block_diagonal", "monarch", "gblr", "blast"};
  return types;
}

LinearSpec read_linear_spec(config::Section& s) {
  LinearSpec spec;
  s.choice("type", spec.type, linear_structure_types());
  s.field("blocks", spec.blocks, config::non_negative<int64_t>());
  s.field("rank", spec.rank, config::non_negative<int64_t>());
  s.field("flops_ratio", spec.flops_ratio, config::non_negative<double>());
  s.field("params_ratio", spec.params_ratio, config::non_negative<double>());
  s.field("bias", spec.bias);
  s.finish();
  spec.source = s.path_of("");
  if (!spec.source.empty() && spec.source.back() == '.') spec.source.pop_back();
  return spec;
}

const LinearSpec& LinearRoles::at(const std::string& role) const {
  auto it = specs.find(role);
  if (it == specs.end()) fail("LinearRoles", "no role '{}'", role);
  return it->second;
}

LinearRoles read_linear_roles(config::Section& model, const std::string& key, const std::vector<std::string>& roles,
                              const std::vector<std::string>& shared_roles) {
  LinearRoles out;
  for (const std::string& role : roles) out.specs[role] = LinearSpec{};
  if (!model.has(key)) return out;
  const YAML::Node node = model.raw(key);
  if (!node.IsMap()) {
    model.error(key, "expected a linear spec such as {type: blast, blocks: 3, flops_ratio: 0.5} or a map of "
                     "roles (" + fmt::format("{}", fmt::join(roles, ", ")) + ") to specs");
  }
  config::Section section = model.section(key);
  if (is_spec_map(node)) {
    const LinearSpec spec = read_linear_spec(section);
    for (const std::string& role : shared_roles) {
      out.specs[role] = spec;
      out.keys[role] = key;
    }
    return out;
  }
  for (const std::string& role : roles) {
    if (!section.has(role)) {
      section.raw(role);  // declares the role, so a misspelt one gets "did you mean"
      continue;
    }
    config::Section role_section = section.section(role);
    out.specs[role] = read_linear_spec(role_section);
    out.keys[role] = key + "." + role;
  }
  section.finish();
  return out;
}

void check_linear_specs(config::Section& model, const LinearRoles& roles, const std::vector<RoleShape>& shapes) {
  for (const auto& [role, shape] : shapes) {
    auto key = roles.keys.find(role);
    if (key == roles.keys.end()) continue;
    try {
      resolve_linear_spec(roles.at(role), shape.first, shape.second);
    } catch (const Error& e) {
      std::string reason = e.what();
      const std::string prefix = "linear spec (" + roles.at(role).source + "): ";
      if (reason.rfind(prefix, 0) == 0) reason = reason.substr(prefix.size());
      model.error(key->second, fmt::format("role {} ({} -> {}): {}", role, shape.first, shape.second, reason));
    }
  }
}

}  // namespace strata
