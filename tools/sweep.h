#pragma once
// `strata sweep SWEEP.yaml [--out DIR] [--jobs N] [--threads T]`
//
// Trains every cell of a sweep file (train/sweep_config.h: a base run config
// and a grid of structures x budgets x seeds x further axes) as its own
// `strata train` process, N at a time with T/N threads each, in
// DIR/cells/<cell>/ (train/sweep_runner.h), then writes
//   DIR/results.csv   one row per cell (train/sweep_results.h)
//   DIR/results.png   the metric vs relative FLOPs (tools/sweep_plot.h),
//                     with results.dat and results.gp beside it
// DIR defaults to runs/sweeps/<sweep file stem>.
//
// Rerunning the same command resumes an interrupted sweep: finished cells
// are skipped, unfinished ones continue from their checkpoints. Ctrl-C (or
// SIGTERM) stops the running cells after they write a checkpoint.
//
// Exit codes: 0 every cell finished and the results are written; 2 a bad
// sweep file (file:line), 1 a cell failed (its log is named; the results of
// the others are still written), 128+signal when stopped by a signal.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace strata::tools {

struct SweepCommandOptions {
  std::string sweep;
  std::string out;
  int64_t jobs = 1;
  int64_t threads = 0;  // for all cells together; 0: the machine's cores
  bool dry_run = false;
};

CLI::App* add_sweep_command(CLI::App& app, SweepCommandOptions& options);
int run_sweep(const SweepCommandOptions& options);

}  // namespace strata::tools
