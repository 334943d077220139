#include "autograd/node.h"

#include <algorithm>
#include <atomic>

namespace strata {

namespace {

std::atomic<uint64_t> next_sequence{0};
thread_local bool grad_enabled = true;

}  // namespace

Node::Node(std::string name, BackwardFn backward, std::vector<std::shared_ptr<Node>> next, Shape output_shape)
    : name_(std::move(name)), backward_(std::move(backward)), next_(std::move(next)),
      output_shape_(std::move(output_shape)), sequence_(next_sequence++) {}

Node::Node(const std::shared_ptr<TensorImpl>& leaf)
    : name_("accumulate_grad"), output_shape_(leaf->shape), sequence_(next_sequence++), is_accumulator_(true),
      leaf_(leaf) {}

std::vector<Tensor> Node::apply(const Tensor& grad_output) const {
  if (released_) {
    fail("backward", "trying to backward through the graph of '{}' a second time: its saved tensors were "
         "freed; call backward(grad, /*retain_graph=*/true) the first time", name_);
  }
  return backward_(grad_output);
}

void Node::release() {
  if (is_accumulator_) return;
  backward_ = nullptr;
  released_ = true;
}

bool grad_mode_enabled() { return grad_enabled; }

LeafGradTarget::LeafGradTarget(const Tensor& t) {
  if (t.defined() && t.requires_grad() && t.is_leaf()) leaf_ = t.impl_ptr();
}

Tensor LeafGradTarget::target() const {
  const std::shared_ptr<TensorImpl> leaf = leaf_.lock();
  return leaf && leaf->grad ? Tensor(leaf->grad) : Tensor();
}

NoGradGuard::NoGradGuard() : previous_(grad_enabled) { grad_enabled = false; }
NoGradGuard::~NoGradGuard() { grad_enabled = previous_; }

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  if (!grad_enabled) return false;
  return std::any_of(inputs.begin(), inputs.end(), [](const Tensor& t) { return t.defined() && t.requires_grad(); });
}

namespace {

std::shared_ptr<Node> edge_to(const Tensor& input) {
  if (!input.defined() || !input.requires_grad()) return nullptr;
  TensorImpl* impl = input.impl();
  if (impl->grad_fn) return impl->grad_fn;
  if (!impl->grad_accumulator) impl->grad_accumulator = std::make_shared<Node>(input.impl_ptr());
  return impl->grad_accumulator;
}

}  // namespace

Tensor record(const char* name, Tensor output, const std::vector<Tensor>& inputs, BackwardFn backward) {
  if (!any_requires_grad(inputs)) return output;
  const auto& registry = differentiable_ops();
  if (std::find(registry.begin(), registry.end(), name) == registry.end()) {
    fail("autograd", "op '{}' is not in the differentiable op registry", name);
  }
  std::vector<std::shared_ptr<Node>> next;
  next.reserve(inputs.size());
  for (const Tensor& input : inputs) next.push_back(edge_to(input));
  // The output may alias an input (a view): give it its own impl so the
  // input keeps its own history.
  auto node = std::make_shared<Node>(name, std::move(backward), std::move(next), output.shape());
  TensorImpl* impl = output.impl();
  if (impl->grad_fn || impl->requires_grad) {
    auto alias = std::make_shared<TensorImpl>(*impl);
    alias->grad = nullptr;
    alias->grad_accumulator = nullptr;
    alias->retains_grad = false;
    output = Tensor(std::move(alias));
    impl = output.impl();
  }
  impl->requires_grad = true;
  impl->grad_fn = node;
  node->set_output(output.impl_ptr());
  return output;
}

}  // namespace strata
