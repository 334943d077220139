#pragma once
// Which structure each linear ROLE of a model gets, read from the config key
// `linear` of its model section. Two forms:
//
//   linear: {type: blast, blocks: 3, flops_ratio: 0.5}   # one spec for every shared role
//
//   linear:                                              # a spec per role; missing roles are dense
//     qkv: {type: low_rank, rank: 64}
//     mlp_in: {type: monarch, blocks: 4, rank: 96}
//     head: {type: low_rank, rank: 32}                   # roles outside the shared set only this way
//
// A map is per-role iff none of its keys is a spec key (type, blocks, rank,
// flops_ratio, params_ratio, bias). Every key is read through
// config::Section, so unknown keys and roles (with "did you mean"), wrong
// types and unknown structures are errors naming file:line:column, also
// when the key came from a base file or a --set override. A spec's
// `source` is its dotted config path ("model.linear.qkv"), so later errors
// (make_linear: blocks not dividing a layer) name the key to fix.
#include <map>
#include <string>
#include <vector>

#include "config/config.h"
#include "layers/linear_spec.h"

namespace strata {

// The structure names make_linear builds (layers/linear_spec.cpp).
const std::vector<std::string>& linear_structure_types();

// Reads one spec map key by key; calls section.finish().
LinearSpec read_linear_spec(config::Section& section);

struct LinearRoles {
  std::map<std::string, LinearSpec> specs;  // every role of the model; dense where the config says nothing
  // The key each configured role was read from, relative to the model
  // section ("linear" or "linear.qkv"); absent for unconfigured roles.
  std::map<std::string, std::string> keys;
  const LinearSpec& at(const std::string& role) const;
};

// Reads `key` of `model`: absent means every role dense. `shared_roles`
// (a subset of `roles`) are the roles a single spec applies to.
LinearRoles read_linear_roles(config::Section& model, const std::string& key, const std::vector<std::string>& roles,
                              const std::vector<std::string>& shared_roles);

// The (in, out) of a role's layer.
using RoleShape = std::pair<std::string, std::pair<int64_t, int64_t>>;

// Resolves each configured spec against its layer now, so a spec that
// cannot build (blocks not dividing, budget too small) is reported at its
// config key instead of deep inside the model's constructor.
void check_linear_specs(config::Section& model, const LinearRoles& roles, const std::vector<RoleShape>& shapes);

}  // namespace strata
