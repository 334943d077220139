#pragma once
// The cells of a sweep: the product of its axes (train/sweep_config.h), each
// one training run with its own name, folder and `--set` overrides.
//
//   SweepConfig sweep = read_sweep_config("configs/sweeps/fmnist_vit_tiny.yaml");
//   for (const SweepCell& cell : expand_grid(sweep)) ...   // blast_flops0.5_seed0, ...
//
// Order: seeds outermost, then structures (file order), budgets, further
// axes; so an interrupted sweep has every structure's first seed first.
// Names: <structure>[_<budget>][_<axis><value>...]_seed<seed>, e.g.
// "dense_seed0", "blast_flops0.25_seed1", "low_rank_r16_lr0.001_seed0".
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "train/sweep_config.h"

namespace strata {

struct SweepCell {
  std::string name;       // the cell's folder name under OUT/cells/
  std::string structure;  // the structure's name in the sweep file
  std::string spec;       // the linear spec the cell trains with (flow YAML)
  std::string budget;     // "flops_ratio=0.5", "blocks=4 rank=8"; "" for dense or fixed-size specs
  bool dense = false;     // a dense spec: the figure's reference
  int64_t seed = 0;
  std::vector<std::pair<std::string, std::string>> axes;  // the further grid axes' key and value
  std::vector<std::string> overrides;                     // "key=value" for `strata train --set`, in order
};

// Every cell of the sweep; names are unique (an error names the sweep file
// when two would collide).
std::vector<SweepCell> expand_grid(const SweepConfig& sweep);

// The cell's run config: the base file with the cell's overrides applied.
config::Document cell_document(const SweepConfig& sweep, const SweepCell& cell);

// Reads every cell's run config, so a spec that cannot build (blocks not
// dividing a layer, a budget below the smallest size) is refused before any
// cell runs; errors name the sweep file, the structure and the cell.
void check_cells(const SweepConfig& sweep, const std::vector<SweepCell>& cells);

}  // namespace strata
