#include "layers/module.h"

#include <algorithm>
#include <unordered_set>

#include "autograd/node.h"
#include "core/ops.h"

namespace strata {

namespace {

std::string join(const std::string& prefix, const std::string& name) {
  if (prefix.empty()) return name;
  return name.empty() ? prefix : prefix + "." + name;
}

template <typename List>
bool has_name(const List& list, const std::string& name) {
  return std::any_of(list.begin(), list.end(), [&](const auto& entry) { return entry.first == name; });
}

}  // namespace

void Module::check_new_name(const std::string& name) const {
  if (name.empty()) fail("Module", "empty name");
  if (name.find('.') != std::string::npos) fail("Module", "name '{}' contains '.'", name);
  if (has_name(params_, name) || has_name(buffers_, name) || has_name(children_, name)) {
    fail("Module", "name '{}' is already registered", name);
  }
}

Tensor Module::register_parameter(const std::string& name, Tensor value) {
  check_new_name(name);
  if (!value.defined()) fail("register_parameter", "'{}' is undefined", name);
  if (!value.is_leaf()) fail("register_parameter", "'{}' is not a leaf tensor (detach it first)", name);
  value.requires_grad_(true);
  params_.emplace_back(name, value);
  return value;
}

Tensor Module::register_buffer(const std::string& name, Tensor value) {
  check_new_name(name);
  if (!value.defined()) fail("register_buffer", "'{}' is undefined", name);
  buffers_.emplace_back(name, value);
  return value;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> module) {
  check_new_name(name);
  if (!module) fail("register_module", "'{}' is null", name);
  children_.emplace_back(name, std::move(module));
}

// Calls visit(dotted_name, tensor) for every parameter (or buffer), depth first.
template <typename Visit>
void Module::visit_tensors(const std::string& prefix, bool buffers, Visit& visit) const {
  for (const auto& [name, t] : buffers ? buffers_ : params_) visit(join(prefix, name), t);
  for (const auto& [name, child] : children_) child->visit_tensors(join(prefix, name), buffers, visit);
}

std::vector<NamedTensor> Module::named_parameters() const {
  std::vector<NamedTensor> out;
  std::unordered_set<const TensorImpl*> seen;
  auto visit = [&](const std::string& name, const Tensor& t) {
    if (seen.insert(t.impl()).second) out.emplace_back(name, t);
  };
  visit_tensors("", false, visit);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

std::vector<NamedTensor> Module::named_buffers() const {
  std::vector<NamedTensor> out;
  auto visit = [&](const std::string& name, const Tensor& t) { out.emplace_back(name, t); };
  visit_tensors("", true, visit);
  return out;
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out{{"", this}};
  for (auto& [name, child] : children_) {
    for (auto& [sub, module] : child->named_modules()) out.emplace_back(join(name, sub), module);
  }
  return out;
}

std::vector<std::pair<std::string, const Module*>> Module::named_modules() const {
  std::vector<std::pair<std::string, const Module*>> out;
  for (auto& [name, module] : const_cast<Module*>(this)->named_modules()) out.emplace_back(name, module);
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const auto& [name, t] : named_parameters()) n += t.numel();
  return n;
}

StateDict Module::state_dict() const {
  StateDict dict;
  auto visit = [&](const std::string& name, const Tensor& t) { dict.insert(name, t); };
  // Parameters then buffers per module, as PyTorch orders them.
  auto walk = [&](auto& self, const Module& m, const std::string& prefix) -> void {
    for (const auto& [name, t] : m.params_) visit(join(prefix, name), t);
    for (const auto& [name, t] : m.buffers_) visit(join(prefix, name), t);
    for (const auto& [name, child] : m.children_) self(self, *child, join(prefix, name));
  };
  walk(walk, *this, "");
  return dict;
}

LoadResult Module::load_state_dict(const StateDict& dict, bool strict) {
  const StateDict own = state_dict();
  LoadResult result;
  for (const auto& [key, t] : own) {
    if (!dict.contains(key)) result.missing_keys.push_back(key);
  }
  for (const auto& [key, t] : dict) {
    if (!own.contains(key)) result.unexpected_keys.push_back(key);
  }
  if (strict && (!result.missing_keys.empty() || !result.unexpected_keys.empty())) {
    std::string message;
    if (!result.missing_keys.empty()) message += fmt::format("missing keys {}", result.missing_keys);
    if (!result.unexpected_keys.empty()) {
      message += fmt::format("{}unexpected keys {}", message.empty() ? "" : "; ", result.unexpected_keys);
    }
    fail("load_state_dict", "{}", message);
  }
  // Check every shape before copying anything, so a failed load changes nothing.
  for (const auto& [key, src] : dict) {
    const Tensor* dst = own.find(key);
    if (dst && dst->shape() != src.shape()) {
      fail("load_state_dict", "shape mismatch for '{}': the dict has {}, the module {}", key,
           shape_str(src.shape()), shape_str(dst->shape()));
    }
  }
  NoGradGuard no_grad;
  for (const auto& [key, src] : dict) {
    if (const Tensor* dst = own.find(key)) ops::copy_(*dst, src);
  }
  return result;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::to(Device device) {
  NoGradGuard no_grad;
  std::unordered_set<const TensorImpl*> moved;  // tied tensors move once
  auto move = [&](const Tensor& t) {
    if (!moved.insert(t.impl()).second || t.device() == device) return;
    Tensor copy = t.to(device);
    TensorImpl* impl = t.impl();
    impl->storage = copy.impl()->storage;
    impl->offset = copy.offset();
    impl->strides = copy.strides();
    if (impl->grad) impl->grad = Tensor(impl->grad).to(device).impl_ptr();
  };
  for (const auto& [name, t] : named_parameters()) move(t);
  for (const auto& [name, t] : named_buffers()) move(t);
}

void Module::zero_grad() {
  for (const auto& t : parameters()) {
    if (Tensor g = t.grad(); g.defined()) ops::fill_(g, 0.0);
  }
}

}  // namespace strata
