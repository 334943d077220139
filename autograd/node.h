#pragma once
// The tape. Every differentiable op whose inputs require grad records one
// Node: the op's name, an edge to the Node of each input (its producer, or
// the accumulator of a leaf), and a closure that maps the gradient of the
// op's output to gradients of its inputs. Closures capture detached aliases
// of the tensors they need, so the graph holds no reference cycles.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace strata {

// Maps the gradient of the output to one gradient per input (undefined for
// an input that needs none).
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output)>;

class Node {
 public:
  Node(std::string name, BackwardFn backward, std::vector<std::shared_ptr<Node>> next, Shape output_shape);
  // An accumulator: the node that adds incoming gradient into a leaf's .grad.
  explicit Node(const std::shared_ptr<TensorImpl>& leaf);

  const std::string& name() const { return name_; }
  const std::vector<std::shared_ptr<Node>>& next() const { return next_; }
  uint64_t sequence() const { return sequence_; }
  bool is_accumulator() const { return is_accumulator_; }
  bool released() const { return released_; }
  const Shape& output_shape() const { return output_shape_; }

  std::vector<Tensor> apply(const Tensor& grad_output) const;
  void release();  // frees the saved tensors (the closure)
  std::shared_ptr<TensorImpl> leaf() const { return leaf_.lock(); }
  void set_output(const std::shared_ptr<TensorImpl>& output) { output_ = output; }
  std::shared_ptr<TensorImpl> output() const { return output_.lock(); }

 private:
  std::string name_;
  BackwardFn backward_;
  std::vector<std::shared_ptr<Node>> next_;
  Shape output_shape_;
  uint64_t sequence_;
  bool is_accumulator_ = false;
  bool released_ = false;
  std::weak_ptr<TensorImpl> leaf_;    // accumulators
  std::weak_ptr<TensorImpl> output_;  // for retain_grad
};

// A leaf parameter whose gradient a backward closure may accumulate itself.
// Captured when the op runs; at backward time target() is the leaf's .grad
// if it has one (after the first step, a view into the gradient arena), and
// undefined otherwise: then the closure returns the gradient as usual and
// the engine stores it. Writing into the target lets a product add its
// result there directly (GEMM with beta = 1, index_add into the rows):
// no temporary the size of the parameter and no separate add over it.
// A closure that wrote into the target returns an undefined gradient.
class LeafGradTarget {
 public:
  LeafGradTarget() = default;
  explicit LeafGradTarget(const Tensor& t);  // empty unless t is a leaf that requires grad
  Tensor target() const;

 private:
  std::weak_ptr<TensorImpl> leaf_;
};

// Is recording on? Off inside NoGradGuard and during backward.
bool grad_mode_enabled();

class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// Attaches a Node to `output` when recording is on and any input requires
// grad; returns `output`. `name` must be in differentiable_ops().
Tensor record(const char* name, Tensor output, const std::vector<Tensor>& inputs, BackwardFn backward);

// True when recording is on and some input requires grad: ops use it to
// skip saving tensors that no backward will read.
bool any_requires_grad(const std::vector<Tensor>& inputs);

// The names of all differentiable ops. A test walks this list and fails for
// any op without a gradcheck case.
const std::vector<std::string>& differentiable_ops();

// Runs the backward pass from `root` (see Tensor::backward).
void run_backward(const Tensor& root, const Tensor& gradient, bool retain_graph);

}  // namespace strata
