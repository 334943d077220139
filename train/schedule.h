#pragma once
// Learning-rate schedules as functions of the step (the number of optimizer
// steps already taken, so step 0 is the first update), with linear warmup:
//   s < W:            lr = base * s / W                     (0 at s = 0)
//   after warmup, with progress q = (s - W) / (T - W) clamped to [0, 1]:
//     constant:       lr = base
//     cosine:         lr = min + (base - min) * (1 + cos(pi q)) / 2
//     linear:         lr = base + (min - base) * q
// W = warmup_steps, T = total_steps; lr = min_lr for s >= T (cosine, linear).
#include <cstdint>
#include <string>

namespace strata {

enum class ScheduleKind { constant, cosine, linear };

// "constant" | "cosine" | "linear"; anything else is an error naming it.
ScheduleKind parse_schedule_kind(const std::string& name);
std::string schedule_kind_name(ScheduleKind kind);

struct LRSchedule {
  ScheduleKind kind = ScheduleKind::constant;
  double base_lr = 1e-3;
  int64_t warmup_steps = 0;
  int64_t total_steps = 0;  // needed by cosine and linear
  double min_lr = 0.0;

  // Throws strata::Error naming the bad field.
  void validate() const;
  double lr_at(int64_t step) const;
};

}  // namespace strata
