#pragma once
// Module: the base of every layer and model, shaped like torch.nn.Module.
// A module owns named parameters (leaf tensors that require grad), named
// buffers (state that is saved but not trained) and named child modules.
// Recursive views use dotted paths in registration order:
//   named_parameters() -> {"fc1.weight", "fc1.bias", "fc2.weight", ...}.
// Forward is an ordinary method on each layer, e.g. Tensor forward(const Tensor&).
//
// Parameters are Tensor handles sharing one TensorImpl with the layer's own
// members, so in-place updates (optimizers, load_state_dict, a
// ParameterArena rebinding them into one buffer) are seen by every holder.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "layers/state_dict.h"

namespace strata {

// What load_state_dict(strict=false) skipped, like PyTorch's return value.
struct LoadResult {
  std::vector<std::string> missing_keys;     // in the module, not in the dict
  std::vector<std::string> unexpected_keys;  // in the dict, not in the module
};

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // ---- registration (names are non-empty, dot-free, unique per module) ----
  // Marks `value` (a floating leaf) as requiring grad and returns it.
  Tensor register_parameter(const std::string& name, Tensor value);
  // Saved in state_dict() but not trained (e.g. running statistics).
  Tensor register_buffer(const std::string& name, Tensor value);
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }

  // ---- recursive views ------------------------------------------------------
  // Each parameter once (a tensor registered twice, e.g. tied weights, keeps
  // its first name), in registration order, depth first.
  std::vector<NamedTensor> named_parameters() const;
  std::vector<Tensor> parameters() const;
  std::vector<NamedTensor> named_buffers() const;
  // This module first (name ""), then every descendant by dotted path.
  std::vector<std::pair<std::string, Module*>> named_modules();
  std::vector<std::pair<std::string, const Module*>> named_modules() const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const {
    return children_;
  }
  int64_t num_parameters() const;  // elements over named_parameters()

  // ---- checkpoints ------------------------------------------------------------
  // Every parameter and buffer by dotted name (tied tensors under each name).
  // The tensors alias the module's: clone them to keep a snapshot.
  StateDict state_dict() const;
  // Copies values in place (dtype converted), so existing handles and arena
  // views stay valid. strict: missing or unexpected keys are errors; a shape
  // mismatch is always an error. Errors name the offending key.
  LoadResult load_state_dict(const StateDict& dict, bool strict = true);

  // ---- modes and gradients ---------------------------------------------------
  void train(bool on = true);  // recursive
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Zeroes every defined .grad in place (keeps arena views bound).
  void zero_grad();

  // ---- devices ---------------------------------------------------------------
  // Moves every parameter and buffer (and any .grad) to `device` in place:
  // each TensorImpl is rebound to a copy on the device, so every handle the
  // layers hold follows. Views taken earlier, and a ParameterArena, keep
  // the old memory: move the model first, then build the arena.
  void to(Device device);

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> module);
  void check_new_name(const std::string& name) const;
  template <typename Visit>
  void visit_tensors(const std::string& prefix, bool buffers, Visit& visit) const;

  std::vector<NamedTensor> params_;
  std::vector<NamedTensor> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace strata
