#pragma once
// Optimizer: updates the parameters of a ParameterArena in place from the
// gradients in its grad arena. Subclasses keep their state (moments,
// momentum buffers) as flat tensors with the arena's layout, so a state
// element i belongs to the parameter element params()[i].
//
// Usage per training step:
//   opt.zero_grad(); loss.backward(); clip_grad_norm(arena, 1.0);
//   opt.set_lr(schedule.lr_at(opt.step_count())); opt.step();
#include <cstdint>
#include <string>
#include <vector>

#include "layers/parameter_arena.h"

namespace strata {

// The arena must outlive the optimizer.
class Optimizer {
 public:
  Optimizer(ParameterArena& arena, double lr);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update; increments step_count() first (bias corrections are 1-based).
  virtual void step() = 0;
  void zero_grad() { arena_.zero_grad(); }

  double lr() const { return lr_; }
  void set_lr(double lr);
  int64_t step_count() const { return step_; }

  // The flat state tensors by name (e.g. "exp_avg"), aliasing the
  // optimizer's own: a checkpoint saves them and copies into them to resume,
  // together with set_step_count().
  virtual std::vector<NamedTensor> state() const = 0;
  void set_step_count(int64_t step);

  ParameterArena& arena() const { return arena_; }

 protected:
  // A flat zero tensor shaped like the arena (for moments and buffers).
  Tensor zeros_like_arena() const;

  // The arena's decayed prefix and the rest, each with its weight decay;
  // empty ranges are left out. An update runs once per range.
  struct DecayRange {
    int64_t begin, end;
    double weight_decay;
    // The same elements of a flat arena-shaped tensor (undefined stays undefined).
    Tensor of(const Tensor& flat) const;
  };
  std::vector<DecayRange> decay_ranges(double weight_decay) const;

  ParameterArena& arena_;
  double lr_;
  int64_t step_ = 0;
};

}  // namespace strata
