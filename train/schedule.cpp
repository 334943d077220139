#include "train/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"

namespace strata {

ScheduleKind parse_schedule_kind(const std::string& name) {
  if (name == "constant") return ScheduleKind::constant;
  if (name == "cosine") return ScheduleKind::cosine;
  if (name == "linear") return ScheduleKind::linear;
  fail("LRSchedule", "unknown schedule '{}' (expected constant, cosine or linear)", name);
}

std::string schedule_kind_name(ScheduleKind kind) {
  switch (kind) {
    case ScheduleKind::constant: return "constant";
    case ScheduleKind::cosine: return "cosine";
    case ScheduleKind::linear: return "linear";
  }
  return "?";
}

void LRSchedule::validate() const {
  if (!(base_lr >= 0.0) || !std::isfinite(base_lr)) fail("LRSchedule", "base_lr = {} must be finite and >= 0", base_lr);
  if (!(min_lr >= 0.0 && min_lr <= base_lr)) fail("LRSchedule", "min_lr = {} not in [0, base_lr = {}]", min_lr, base_lr);
  if (warmup_steps < 0) fail("LRSchedule", "warmup_steps = {} must be >= 0", warmup_steps);
  if (kind != ScheduleKind::constant && total_steps < warmup_steps) {
    fail("LRSchedule", "total_steps = {} must be >= warmup_steps = {} for a {} schedule", total_steps, warmup_steps,
         schedule_kind_name(kind));
  }
}

double LRSchedule::lr_at(int64_t step) const {
  validate();
  if (step < warmup_steps) return base_lr * double(step) / double(warmup_steps);
  if (kind == ScheduleKind::constant) return base_lr;
  int64_t span = total_steps - warmup_steps;
  double q = span > 0 ? std::clamp(double(step - warmup_steps) / double(span), 0.0, 1.0) : 1.0;
  if (kind == ScheduleKind::cosine) return min_lr + (base_lr - min_lr) * 0.5 * (1.0 + std::cos(std::numbers::pi * q));
  return base_lr + (min_lr - base_lr) * q;
}

}  // namespace strata
