#pragma once
// A sweep's results: one row per cell, from the cell's metrics.jsonl and
// cell.json and from building the cell's model in-process (parameters and
// FLOPs, as `strata info` counts them), written to OUT/results.csv:
//
//   cell, structure, spec, budget, <one column per further grid axis>, seed,
//   params, flops, relative_flops, metric, best, final, wall_seconds, status, run_dir
//
//   flops           forward FLOPs per sample of the whole model (train/../models/model.h)
//   relative_flops  flops / the same model with every linear dense
//   metric          the sweep's test metric (accuracy in [0, 1], or loss)
//   best, final     its best (max accuracy, min loss) and last test value; empty until the cell ran
//   wall_seconds    the cell's training processes' wall time, summed over attempts
//   status          finished | failed | stopped | pending
//
// Python: pandas.read_csv("results.csv").
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "train/sweep_config.h"
#include "train/sweep_grid.h"

namespace strata {

struct SweepResult {
  SweepCell cell;
  int64_t params = 0;
  int64_t flops = 0;
  double relative_flops = 0.0;
  std::optional<double> best, final;
  double wall_seconds = 0.0;
  std::string status = "pending";
  std::string run_dir;
};

// One result per cell, in the cells' order.
std::vector<SweepResult> collect_results(const SweepConfig& sweep, const std::vector<SweepCell>& cells,
                                         const std::string& out_dir);

// The test metric of a run folder's metrics.jsonl: best and last value
// (nullopt when it has no test record yet).
struct MetricSummary {
  std::optional<double> best, final;
};
MetricSummary summarize_test_metric(const std::string& metrics_path, const std::string& metric);

// Writes results.csv atomically (see the header above for the columns).
void write_results_csv(const std::string& path, const SweepConfig& sweep, const std::vector<SweepResult>& results);

}  // namespace strata
