#pragma once
// A sweep file: one base run config and the grid of runs to make from it,
// for accuracy-vs-FLOPs figures (`strata sweep`, tools/sweep.h).
//
//   # configs/sweeps/fmnist_vit_tiny.yaml
//   config: ../default.yaml        # the run config every cell starts from (relative to this file)
//   set:                           # overrides for every cell: dotted run-config key: value
//     train.epochs: 2
//   structures:                    # the structure axis: name: linear spec (written to model.linear)
//     dense: {type: dense}         # a dense spec runs once per seed, whatever the budgets
//     low_rank: {type: low_rank}
//     blast: {type: blast, blocks: 3}
//     monarch: {type: monarch, budgets: [{blocks: 4, rank: 8}]}   # own budgets (explicit sizes)
//   budgets:                       # the budget axis: merged into each structured spec
//     - {flops_ratio: 0.5}         # flops_ratio | params_ratio | rank | blocks
//     - {flops_ratio: 0.25}
//   seeds: [0, 1]                  # the seed axis (train.seed); default [0]
//   grid:                          # optional further axes: dotted run-config key: [values]
//     optim.lr: [1.0e-3, 3.0e-3]
//   metric: accuracy               # the test metric results.csv/png report: accuracy | loss
//   linear_key: model.linear       # where the structure spec goes (default model.linear)
//
// Cells are the product structures x budgets x grid axes x seeds
// (train/sweep_grid.h). A spec that already fixes its size (rank,
// flops_ratio or params_ratio) ignores the budgets axis and runs once.
//
// Errors (unknown keys with "did you mean", wrong types, a `set:` or `grid:`
// key the run config does not accept, a spec that cannot build) are
// strata::Error naming the sweep file's line.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"

namespace strata {

// One structure of the sweep: its name (the plot's line) and spec.
struct SweepStructure {
  std::string name;
  YAML::Node spec;                  // the spec map without `budgets`
  std::vector<YAML::Node> budgets;  // its own budgets (maps), or empty: the sweep's
  bool dense = false;               // type dense: one cell per seed
  bool fixed_size = false;          // the spec sets rank, flops_ratio or params_ratio itself
  config::Source source;            // where the structure was written
};

// A further axis: a dotted run-config key and the values it takes (YAML text).
struct SweepAxis {
  std::string key;
  std::vector<std::string> values;
  config::Source source;
};

struct SweepConfig {
  std::string file;         // the sweep file
  std::string base_config;  // the run config, as a path usable from the working directory
  std::vector<std::pair<std::string, std::string>> set;  // key, value (YAML text)
  std::vector<SweepStructure> structures;
  std::vector<YAML::Node> budgets;
  std::vector<int64_t> seeds{0};
  std::vector<SweepAxis> grid;
  std::string metric = "accuracy";
  std::string linear_key = "model.linear";
};

// Reads and checks a sweep file (see above). Every `set:` and `grid:` key is
// tried on the base run config, so a key the run config refuses is reported
// at the sweep file's line.
SweepConfig read_sweep_config(const std::string& path);

// A YAML node as one line of flow-style text ("{type: blast, blocks: 3}"),
// the form `--set key=value` takes.
std::string flow_yaml(const YAML::Node& node);

}  // namespace strata
