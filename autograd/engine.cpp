// The backward engine: walks the recorded graph from the root in reverse
// topological order (Kahn's algorithm; among ready nodes the most recently
// created runs first, as in PyTorch), summing the gradients that reach each
// node before applying it, and adding what reaches a leaf into its .grad.
#include <queue>
#include <unordered_map>
#include <unordered_set>

#include "autograd/node.h"
#include "core/ops.h"

namespace strata {

namespace {

void accumulate(Tensor& slot, const Tensor& grad) {
  if (!slot.defined()) {
    slot = grad;
  } else {
    slot = ops::add(slot, grad);
  }
}

// Adds into the tensor's .grad in place when it exists (so a .grad that is a
// view into a gradient arena stays one), else stores a fresh copy.
void accumulate_into_grad(TensorImpl* impl, const Tensor& grad) {
  Tensor existing(impl->grad);
  if (existing.defined()) {
    ops::add_(existing, grad);
  } else {
    impl->grad = ops::clone(grad).impl_ptr();
  }
}

void check_grad_shape(const Node& node, const Tensor& grad, const Shape& expected) {
  if (grad.shape() != expected) {
    fail("backward", "op '{}' produced a gradient of shape {} for an input of shape {}", node.name(),
         shape_str(grad.shape()), shape_str(expected));
  }
}

// Number of graph edges that point at each node reachable from root.
std::unordered_map<Node*, int> count_dependencies(Node* root) {
  std::unordered_map<Node*, int> deps;
  std::unordered_set<Node*> seen{root};
  std::vector<Node*> stack{root};
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    for (const auto& next : node->next()) {
      if (!next) continue;
      ++deps[next.get()];
      if (seen.insert(next.get()).second) stack.push_back(next.get());
    }
  }
  return deps;
}

struct NewestFirst {
  bool operator()(Node* a, Node* b) const { return a->sequence() < b->sequence(); }
};

}  // namespace

void run_backward(const Tensor& root, const Tensor& gradient, bool retain_graph) {
  if (!root.requires_grad()) {
    fail("backward", "the tensor does not require grad and has no grad_fn");
  }
  Tensor seed = gradient;
  if (!seed.defined()) {
    if (root.numel() != 1) {
      fail("backward", "grad can be implicitly created only for scalar outputs; got shape {}: pass a gradient",
           shape_str(root.shape()));
    }
    seed = ones(root.shape(), root.options());
  } else if (seed.shape() != root.shape()) {
    fail("backward", "gradient shape {} does not match output shape {}", shape_str(seed.shape()),
         shape_str(root.shape()));
  }

  NoGradGuard no_grad;
  if (root.is_leaf()) {
    accumulate_into_grad(root.impl(), seed);
    return;
  }
  Node* start = root.grad_fn().get();
  std::unordered_map<Node*, int> deps = count_dependencies(start);
  std::unordered_map<Node*, Tensor> grads;
  grads[start] = seed;
  std::priority_queue<Node*, std::vector<Node*>, NewestFirst> ready;
  ready.push(start);

  while (!ready.empty()) {
    Node* node = ready.top();
    ready.pop();
    Tensor grad = std::move(grads[node]);
    grads.erase(node);

    if (node->is_accumulator()) {
      if (auto leaf = node->leaf(); leaf && grad.defined()) accumulate_into_grad(leaf.get(), grad);
      continue;
    }
    if (auto output = node->output(); output && output->retains_grad && grad.defined()) {
      accumulate_into_grad(output.get(), grad);
    }

    // A node that received no gradient passes none on, but still releases
    // its inputs' dependency counts so they can run.
    std::vector<Tensor> input_grads =
        grad.defined() ? node->apply(grad) : std::vector<Tensor>(node->next().size());
    const auto& next = node->next();
    if (input_grads.size() != next.size()) {
      fail("backward", "op '{}' returned {} gradients for {} inputs", node->name(), input_grads.size(), next.size());
    }
    for (size_t i = 0; i < next.size(); ++i) {
      Node* target = next[i].get();
      if (!target) continue;
      if (input_grads[i].defined()) {
        check_grad_shape(*node, input_grads[i], target->output_shape());
        // A leaf that already has a .grad (e.g. a view into a gradient arena)
        // takes each contribution in place as it comes: no sum of a big
        // gradient (a tied embedding's) is ever held besides it.
        auto leaf = target->is_accumulator() ? target->leaf() : nullptr;
        if (leaf && leaf->grad) {
          accumulate_into_grad(leaf.get(), input_grads[i]);
        } else {
          accumulate(grads[target], input_grads[i]);
        }
        input_grads[i] = Tensor();
      }
      if (--deps[target] == 0) ready.push(target);
    }
    if (!retain_graph) node->release();
  }
}

}  // namespace strata
