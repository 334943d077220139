#pragma once
// The figure of a sweep (OUT/results.png): its metric against the model's
// FLOPs relative to the all-dense model, one line per structure (and per
// value of any further grid axis), each point the mean over seeds with
// min-max error bars; dense cells as a reference point and a dashed line.
// Data and script go beside the PNG (results.dat, results.gp).
#include <string>
#include <vector>

#include "train/sweep_config.h"
#include "train/sweep_results.h"

namespace strata::tools {

inline constexpr int kSweepPlotWidth = 900;
inline constexpr int kSweepPlotHeight = 600;

// Plots the finished cells of `results`; an error when none has finished.
void plot_sweep(const SweepConfig& sweep, const std::vector<SweepResult>& results, const std::string& png);

}  // namespace strata::tools
