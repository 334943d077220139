#include "tools/sweep.h"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>

#include "train/sweep_config.h"
#include "train/sweep_grid.h"
#include "train/sweep_results.h"
#include "train/sweep_runner.h"
#include "tools/sweep_plot.h"

namespace strata::tools {

namespace fs = std::filesystem;

namespace {

void print_cells(const std::vector<SweepCell>& cells) {
  for (const SweepCell& cell : cells) {
    fmt::print("{}\n", cell.name);
    for (const std::string& assignment : cell.overrides) fmt::print("    --set {}\n", assignment);
  }
  fmt::print("{} cells\n", cells.size());
}

// A short table of the finished cells for the terminal (results.csv has everything).
void print_summary(const SweepConfig& sweep, const std::vector<SweepResult>& results) {
  fmt::print("\n{:<32} {:>10} {:>8} {:>9}  {}\n", "cell", "params", "rel.FLOPs", sweep.metric, "status");
  for (const SweepResult& r : results) {
    fmt::print("{:<32} {:>10} {:>8.3f} {:>9}  {}\n", r.cell.name, r.params, r.relative_flops,
               r.final ? fmt::format("{:.4f}", *r.final) : "-", r.status);
  }
}

}  // namespace

CLI::App* add_sweep_command(CLI::App& app, SweepCommandOptions& o) {
  CLI::App* sweep = app.add_subcommand(
      "sweep", "Train a grid of runs (structures x budgets x seeds) and plot the metric against FLOPs");
  sweep->add_option("sweep", o.sweep, "sweep file (YAML; see configs/sweeps/)")->required()->check(CLI::ExistingFile);
  sweep->add_option("--out", o.out, "output folder (default: runs/sweeps/<sweep file name>); rerun to resume");
  sweep->add_option("--jobs", o.jobs, "cells trained at a time")->check(CLI::Range(int64_t(1), int64_t(256)))
      ->capture_default_str();
  sweep->add_option("--threads", o.threads, "threads for all cells together, divided between them (0: all cores)")
      ->check(CLI::Range(int64_t(0), int64_t(4096)))
      ->capture_default_str();
  sweep->add_flag("--dry-run", o.dry_run, "list the cells and their overrides, run nothing");
  return sweep;
}

int run_sweep(const SweepCommandOptions& o) {
  const SweepConfig sweep = read_sweep_config(o.sweep);
  const std::vector<SweepCell> cells = expand_grid(sweep);
  check_cells(sweep, cells);
  if (o.dry_run) {
    print_cells(cells);
    return 0;
  }
  const std::string out = !o.out.empty() ? o.out : (fs::path("runs/sweeps") / fs::path(o.sweep).stem()).string();
  fs::create_directories(out);

  SweepRunOptions options;
  options.out_dir = out;
  options.jobs = o.jobs;
  options.threads = o.threads;
  options.say = [](const std::string& line) { fmt::print("sweep: {}\n", line), std::fflush(stdout); };
  fmt::print("sweep: {}: {} cells into {}\n", o.sweep, cells.size(), out);
  const SweepRunSummary summary = run_sweep_cells(sweep, cells, options);

  const std::vector<SweepResult> results = collect_results(sweep, cells, out);
  const std::string csv = (fs::path(out) / "results.csv").string();
  write_results_csv(csv, sweep, results);
  if (summary.stop_signal != 0) {
    fmt::print("sweep: stopped; {} written; resume with the same command\n", csv);
    return 128 + summary.stop_signal;
  }
  print_summary(sweep, results);
  const std::string png = (fs::path(out) / "results.png").string();
  plot_sweep(sweep, results, png);
  fmt::print("\nsweep: wrote {} and {}\n", csv, png);
  if (!summary.failed.empty()) {
    fmt::print(stderr, "sweep: {} cell(s) failed: {}\n", summary.failed.size(), fmt::join(summary.failed, ", "));
    return 1;
  }
  return 0;
}

}  // namespace strata::tools
