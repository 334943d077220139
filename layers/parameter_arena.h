#pragma once
// ParameterArena: every trainable parameter of a model in ONE contiguous f32
// buffer, and every gradient in a second one with the same layout, so an
// optimizer step is one fused loop per weight-decay group and a gradient
// all-reduce is one call on one buffer.
//
// Layout (numel N = sum of parameter sizes, D = decay_numel()):
//   params() = [ decayed params ... | non-decayed params ... ]   shape (N)
//   grads()  = same layout                                      shape (N)
// The decayed group is the prefix [0, D). By default a parameter decays iff
// dim() >= 2 (matrices and embeddings decay; biases and norm gains do not),
// as in nanoGPT and timm.
//
// Construction copies each parameter's values into the arena and then
// REBINDS its TensorImpl (storage, offset, contiguous strides) to its slice,
// and sets its .grad to the matching slice of the grad arena (zeroed). Every
// existing Tensor handle to a parameter stays valid, since handles share the
// impl; the backward engine adds into an existing .grad in place, so
// gradients land in the arena. Build the arena before the first forward:
// views or detached aliases taken earlier still point at the old memory.
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "layers/module.h"

namespace strata {

struct ParameterSegment {
  std::string name;
  Tensor param;      // the (rebound) parameter
  int64_t offset;    // into params() / grads()
  int64_t numel;
  bool decay;
};

using DecayPredicate = std::function<bool(const std::string& name, const Tensor& param)>;

// dim() >= 2: weight matrices and embedding tables decay; vectors do not.
bool default_decay(const std::string& name, const Tensor& param);

class ParameterArena {
 public:
  // The module's named_parameters() that require grad (frozen ones stay out).
  explicit ParameterArena(const Module& module, DecayPredicate decay = default_decay);
  // Parameters must be distinct f32 leaves on one device.
  explicit ParameterArena(const std::vector<NamedTensor>& params, DecayPredicate decay = default_decay);
  ParameterArena(const ParameterArena&) = delete;
  ParameterArena& operator=(const ParameterArena&) = delete;

  const Tensor& params() const { return params_; }  // (N) f32
  const Tensor& grads() const { return grads_; }    // (N) f32
  const std::vector<ParameterSegment>& segments() const { return segments_; }
  int64_t numel() const { return params_.numel(); }
  int64_t decay_numel() const { return decay_numel_; }

  void zero_grad();  // one fill of the grad arena
  // Throws naming the first parameter whose value or .grad is no longer a
  // view into the arena (e.g. its grad was replaced): a step would not see it.
  void check_bound() const;

 private:
  void build(std::vector<ParameterSegment> segments);

  Tensor params_, grads_;
  std::vector<ParameterSegment> segments_;
  int64_t decay_numel_ = 0;
};

}  // namespace strata
