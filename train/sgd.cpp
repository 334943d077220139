#include "train/sgd.h"

#include "core/ops.h"

namespace strata {

SGD::SGD(ParameterArena& arena, SGDOptions options) : Optimizer(arena, options.lr), options_(options) {
  const auto& o = options;
  if (!(o.momentum >= 0.0)) fail("SGD", "momentum = {} must be >= 0", o.momentum);
  if (!(o.weight_decay >= 0.0)) fail("SGD", "weight_decay = {} must be >= 0", o.weight_decay);
  if (o.nesterov && o.momentum == 0.0) fail("SGD", "Nesterov momentum requires momentum > 0");
  if (o.momentum != 0.0) buf_ = zeros_like_arena();
  for (const DecayRange& r : decay_ranges(o.weight_decay)) {
    groups_.push_back({r.of(arena.params()), r.of(arena.grads()), r.of(buf_), r.weight_decay});
  }
}

void SGD::step() {
  arena_.check_bound();
  ++step_;
  for (const Group& g : groups_) {
    ops::sgd_step_(g.param, g.grad, g.buf, lr_, options_.momentum, g.weight_decay, options_.nesterov);
  }
}

std::vector<NamedTensor> SGD::state() const {
  if (!buf_.defined()) return {};
  return {{"momentum_buffer", buf_}};
}

}  // namespace strata
