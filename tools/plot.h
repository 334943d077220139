#pragma once
// `strata plot RUN_DIR... [--out FILE.png] [--metric accuracy|loss] [--size WxH]`
//
// Training curves of one or more runs in one PNG (gnuplot, tools/gnuplot.h):
// left, the train loss against the optimizer step; right, the test metric
// against the step; one line per run, named by its folder. Reads each run's
// metrics.jsonl (train/metrics.h). --out defaults to curves.png in the
// first run's folder; its data (.dat) and script (.gp) go beside it.
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace strata::tools {

struct PlotCommandOptions {
  std::vector<std::string> runs;
  std::string out;
  std::string metric = "accuracy";
  std::string size = "1200x450";
};

CLI::App* add_plot_command(CLI::App& app, PlotCommandOptions& options);
int run_plot(const PlotCommandOptions& options);

}  // namespace strata::tools
