#pragma once
// LinearBuilder: makes a model's linears from its per-role LinearSpecs and
// remembers the role and resolved spec of each, so that the finished model
// can list them by module path (Model::structured_linears()).
//
//   LinearBuilder linears(config.linear, options);
//   auto qkv = linears.build("qkv", C, 3 * C, /*bias=*/true);   // then the model's own init
//   ... register every module ...
//   linears_ = linears.named(*this);                               // in module order
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "models/linear_roles.h"
#include "models/model.h"

namespace strata {

class LinearBuilder {
 public:
  LinearBuilder(LinearRoles roles, ModelOptions options) : roles_(std::move(roles)), options_(options) {}

  // The role's spec resolved for (in -> out); `bias` false drops the bias
  // whatever the spec says. Structured layers come with their own init.
  std::shared_ptr<StructuredLinear> build(const std::string& role, int64_t in, int64_t out, bool bias = true);

  // Every built linear under `root`, by dotted path, in module order.
  std::vector<NamedLinear> named(const Module& root) const;

 private:
  LinearRoles roles_;
  ModelOptions options_;
  std::map<const StructuredLinear*, std::pair<std::string, LinearSpec>> built_;  // role, resolved spec
};

}  // namespace strata
