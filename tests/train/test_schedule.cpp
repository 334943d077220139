// LR schedules: warmup from 0 to the peak, then constant, cosine or linear.
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "train/schedule.h"

namespace strata {
namespace {

TEST(LRSchedule, WarmupStartsAtZeroAndPeaksAtItsEnd) {
  for (ScheduleKind kind : {ScheduleKind::constant, ScheduleKind::cosine, ScheduleKind::linear}) {
    LRSchedule s{kind, 0.1, 10, 110, 0.01};
    EXPECT_DOUBLE_EQ(s.lr_at(0), 0.0);
    EXPECT_DOUBLE_EQ(s.lr_at(5), 0.05);
    EXPECT_DOUBLE_EQ(s.lr_at(10), 0.1);
    for (int64_t t = 1; t <= 10; ++t) EXPECT_GT(s.lr_at(t), s.lr_at(t - 1));
  }
}

TEST(LRSchedule, Constant) {
  LRSchedule s{ScheduleKind::constant, 0.1, 0, 0, 0.0};
  EXPECT_DOUBLE_EQ(s.lr_at(0), 0.1);
  EXPECT_DOUBLE_EQ(s.lr_at(1000000), 0.1);
}

TEST(LRSchedule, CosineEndsAtMinLr) {
  LRSchedule s{ScheduleKind::cosine, 0.1, 10, 110, 0.01};
  EXPECT_DOUBLE_EQ(s.lr_at(60), 0.01 + 0.09 * 0.5);  // half way: the mean
  EXPECT_NEAR(s.lr_at(35), 0.01 + 0.09 * 0.5 * (1 + std::cos(M_PI * 0.25)), 1e-15);
  EXPECT_DOUBLE_EQ(s.lr_at(110), 0.01);
  EXPECT_DOUBLE_EQ(s.lr_at(500), 0.01);
  for (int64_t t = 11; t <= 110; ++t) EXPECT_LT(s.lr_at(t), s.lr_at(t - 1));
}

TEST(LRSchedule, LinearDecay) {
  LRSchedule s{ScheduleKind::linear, 0.1, 0, 100, 0.0};
  EXPECT_DOUBLE_EQ(s.lr_at(0), 0.1);
  EXPECT_DOUBLE_EQ(s.lr_at(25), 0.075);
  EXPECT_DOUBLE_EQ(s.lr_at(100), 0.0);
  EXPECT_DOUBLE_EQ(s.lr_at(101), 0.0);
}

TEST(LRSchedule, ParsingAndValidation) {
  EXPECT_EQ(parse_schedule_kind("cosine"), ScheduleKind::cosine);
  EXPECT_EQ(schedule_kind_name(ScheduleKind::linear), "linear");
  EXPECT_THROW(parse_schedule_kind("step"), Error);
  EXPECT_THROW((LRSchedule{ScheduleKind::cosine, 0.1, 10, 5, 0.0}.lr_at(0)), Error);
  EXPECT_THROW((LRSchedule{ScheduleKind::cosine, 0.1, 0, 5, 0.2}.lr_at(0)), Error);
  EXPECT_THROW((LRSchedule{ScheduleKind::constant, -0.1, 0, 0, 0.0}.lr_at(0)), Error);
}

}  // namespace
}  // namespace strata
