#include "train/adamw.h"

#include "core/ops.h"

namespace strata {

AdamW::AdamW(ParameterArena& arena, AdamWOptions options) : Optimizer(arena, options.lr), options_(options) {
  const auto& o = options;
  if (!(o.beta1 >= 0.0 && o.beta1 < 1.0)) fail("AdamW", "beta1 = {} not in [0, 1)", o.beta1);
  if (!(o.beta2 >= 0.0 && o.beta2 < 1.0)) fail("AdamW", "beta2 = {} not in [0, 1)", o.beta2);
  if (!(o.eps >= 0.0)) fail("AdamW", "eps = {} must be >= 0", o.eps);
  if (!(o.weight_decay >= 0.0)) fail("AdamW", "weight_decay = {} must be >= 0", o.weight_decay);
  m_ = zeros_like_arena();
  v_ = zeros_like_arena();
  for (const DecayRange& r : decay_ranges(o.weight_decay)) {
    groups_.push_back({r.of(arena.params()), r.of(arena.grads()), r.of(m_), r.of(v_), r.weight_decay});
  }
}

void AdamW::step() {
  arena_.check_bound();
  ++step_;
  for (const Group& g : groups_) {
    AdamWArgs args{lr_, options_.beta1, options_.beta2, options_.eps, g.weight_decay, step_};
    ops::adamw_step_(g.param, g.grad, g.m, g.v, args);
  }
}

std::vector<NamedTensor> AdamW::state() const { return {{"exp_avg", m_}, {"exp_avg_sq", v_}}; }

}  // namespace strata
