// Sweep files (train/sweep_config.h) and their cells (train/sweep_grid.h):
// how many cells a grid makes, their names and overrides, and the errors
// a bad sweep file gets (file:line, did-you-mean, the run config's refusal).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "tests/train/train_fixtures.h"
#include "train/run_config.h"
#include "train/sweep_config.h"
#include "train/sweep_grid.h"

namespace strata {
namespace {

using data::testing::TempDir;

// A base run config (the tiny CIFAR ViT; read_run_config reads no data) and a sweep file beside it.
struct SweepFiles {
  TempDir dir;
  std::string base = dir / "base.yaml";
  std::string sweep = dir / "sweep.yaml";
  explicit SweepFiles(const std::string& sweep_text) {
    std::ofstream(base) << testing::tiny_run_config(dir / "cifar", 3);
    std::ofstream(sweep) << sweep_text;
  }
};

const SweepCell& find_cell(const std::vector<SweepCell>& cells, const std::string& name) {
  auto it = std::find_if(cells.begin(), cells.end(), [&](const SweepCell& c) { return c.name == name; });
  if (it == cells.end()) throw std::runtime_error("no cell " + name);
  return *it;
}

bool has(const std::vector<std::string>& words, const std::string& word) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

TEST(SweepGrid, ExpandsStructuresBudgetsAxesAndSeeds) {
  SweepFiles f(R"(config: base.yaml
set:
  train.steps: 4
  optim.weight_decay: 0.1
structures:
  dense: {type: dense}
  low_rank: {type: low_rank}
  blast: {type: blast, blocks: 2}
  monarch: {type: monarch, blocks: 2, budgets: [{rank: 4}]}
  fixed: {type: low_rank, rank: 8}
budgets: [{flops_ratio: 0.5}, {flops_ratio: 0.25}]
seeds: [0, 1]
grid:
  optim.lr: [1.0e-3, 3.0e-3]
)");
  const SweepConfig sweep = read_sweep_config(f.sweep);
  EXPECT_EQ(sweep.base_config, f.base);
  const std::vector<SweepCell> cells = expand_grid(sweep);
  // seeds x (dense + low_rank x 2 budgets + blast x 2 + monarch x its 1 + fixed) x 2 learning rates
  EXPECT_EQ(cells.size(), 2u * (1 + 2 + 2 + 1 + 1) * 2);
  // Values name cells as the file writes them; seeds outermost: every structure's first seed comes first.
  EXPECT_EQ(cells.front().name, "dense_lr1.0e-3_seed0");
  EXPECT_EQ(cells.front().seed, 0);
  EXPECT_EQ(cells.back().seed, 1);

  const SweepCell& blast = find_cell(cells, "blast_flops0.25_lr3.0e-3_seed1");
  EXPECT_EQ(blast.structure, "blast");
  EXPECT_EQ(blast.spec, "{type: blast, blocks: 2, flops_ratio: 0.25}");
  EXPECT_EQ(blast.budget, "flops_ratio=0.25");
  EXPECT_EQ(blast.seed, 1);
  EXPECT_FALSE(blast.dense);
  const std::vector<std::string> expected = {"train.steps=4", "optim.weight_decay=0.1",
                                             "model.linear={type: blast, blocks: 2, flops_ratio: 0.25}",
                                             "optim.lr=3.0e-3", "train.seed=1"};
  EXPECT_EQ(blast.overrides, expected);

  const SweepCell& dense = find_cell(cells, "dense_lr3.0e-3_seed0");
  EXPECT_TRUE(dense.dense);
  EXPECT_EQ(dense.budget, "");
  EXPECT_TRUE(has(dense.overrides, "model.linear={type: dense}"));

  // A structure's own budgets (explicit sizes) replace the sweep's; a fixed size runs once.
  EXPECT_EQ(find_cell(cells, "monarch_r4_lr1.0e-3_seed0").spec, "{type: monarch, blocks: 2, rank: 4}");
  EXPECT_EQ(find_cell(cells, "fixed_lr1.0e-3_seed1").spec, "{type: low_rank, rank: 8}");

  // Every cell's config is a valid run config with the cell's values.
  check_cells(sweep, cells);
  const RunConfig config = read_run_config(cell_document(sweep, blast));
  EXPECT_EQ(config.train.seed, 1);
  EXPECT_EQ(config.train.steps, 4);
  EXPECT_DOUBLE_EQ(config.optim.lr, 3e-3);
  EXPECT_DOUBLE_EQ(config.optim.weight_decay, 0.1);
}

TEST(SweepGrid, DefaultsToOneSeedAndNoFurtherAxes) {
  SweepFiles f("config: base.yaml\nstructures:\n  low_rank: {type: low_rank}\nbudgets: [{params_ratio: 0.5}]\n");
  const std::vector<SweepCell> cells = expand_grid(read_sweep_config(f.sweep));
  ASSERT_EQ(cells.size(), 1u);
  EXPECT_EQ(cells[0].name, "low_rank_params0.5_seed0");
  EXPECT_EQ(cells[0].overrides.back(), "train.seed=0");
}

// The message of the Error a sweep file gets.
std::string error_of(const std::string& sweep_text) {
  SweepFiles f(sweep_text);
  try {
    const SweepConfig sweep = read_sweep_config(f.sweep);
    check_cells(sweep, expand_grid(sweep));
  } catch (const Error& e) {
    std::string message = e.what();
    const std::string dir = f.dir / "";
    for (size_t at; (at = message.find(dir)) != std::string::npos;) message.erase(at, dir.size());
    return message;
  }
  return "(no error)";
}

TEST(SweepGrid, BadSweepFilesNameTheLineAndTheKey) {
  const std::string head = "config: base.yaml\nstructures:\n  dense: {type: dense}\n";
  EXPECT_NE(error_of(head + "seed: [0, 1]\n").find("sweep.yaml:4:1: seed: unknown key (did you mean 'seeds'?)"),
            std::string::npos)
      << error_of(head + "seed: [0, 1]\n");
  EXPECT_NE(error_of(head + "seeds: zero\n").find("sweep.yaml:4:1: seeds: expected a list of integers"),
            std::string::npos)
      << error_of(head + "seeds: zero\n");
  // A `set:` key the run config does not have: the sweep file's line, then the run config's reason.
  const std::string set = error_of(head + "set:\n  optim.lrr: 0.1\n");
  EXPECT_NE(set.find("sweep.yaml:5:3: set.optim.lrr: the run config base.yaml refuses optim.lrr=0.1"), std::string::npos)
      << set;
  EXPECT_NE(set.find("did you mean 'lr'?"), std::string::npos) << set;
  // A grid value of the wrong type.
  const std::string grid = error_of(head + "grid:\n  train.epochs: [two]\n");
  EXPECT_NE(grid.find("sweep.yaml:5:3: grid.train.epochs:"), std::string::npos) << grid;
  EXPECT_NE(grid.find("expected an integer"), std::string::npos) << grid;
  // A misspelt spec key, an unknown structure type, a budget key.
  const std::string spec = error_of("config: base.yaml\nstructures:\n  blast: {type: blast, block: 2}\n");
  EXPECT_NE(spec.find("sweep.yaml:3:24: structures.blast.block: unknown key (did you mean 'blocks'?)"),
            std::string::npos)
      << spec;
  const std::string type = error_of("config: base.yaml\nstructures:\n  x: {type: blasst}\n");
  EXPECT_NE(type.find("sweep.yaml:3:7: structures.x.type: 'blasst' is not one of"), std::string::npos) << type;
  EXPECT_NE(type.find("did you mean 'blast'?"), std::string::npos) << type;
  const std::string budget = error_of(head + "  lr: {type: low_rank}\nbudgets: [{flops: 0.5}]\n");
  EXPECT_NE(budget.find("sweep.yaml:5:11: budgets[0].flops: unknown budget key (valid: flops_ratio"),
            std::string::npos)
      << budget;
  // A structure with no size, a missing base config, a spec that cannot build.
  EXPECT_NE(error_of("config: base.yaml\nstructures:\n  lr: {type: low_rank}\n")
                .find("sweep.yaml:3:3: structures.lr: has no size"),
            std::string::npos);
  EXPECT_NE(error_of("config: nowhere.yaml\nstructures:\n  dense: {type: dense}\n")
                .find("sweep.yaml:1:1: config: nowhere.yaml: no such file"),
            std::string::npos)
      << error_of("config: nowhere.yaml\nstructures:\n  dense: {type: dense}\n");
  const std::string cell = error_of("config: base.yaml\nstructures:\n  b: {type: blast, blocks: 5}\n"
                                    "budgets: [{flops_ratio: 0.5}]\n");
  EXPECT_NE(cell.find("sweep.yaml:3:3: structures.b: cell b_flops0.5_seed0"), std::string::npos) << cell;
}

// Every sweep file in configs/sweeps/ reads, expands and has valid cells
// (reading needs no data files); the tiny one is the README's 22 cells.
TEST(SweepGrid, EveryShippedSweepReads) {
  const std::filesystem::path root = std::filesystem::path(STRATA_SOURCE_DIR) / "configs/sweeps";
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(root)) {
    if (entry.path().extension() != ".yaml") continue;
    SCOPED_TRACE(entry.path().string());
    const SweepConfig sweep = read_sweep_config(entry.path().string());
    const std::vector<SweepCell> cells = expand_grid(sweep);
    EXPECT_NO_THROW(check_cells(sweep, cells));
    if (entry.path().stem() == "fmnist_vit_tiny") {
      EXPECT_EQ(cells.size(), 22u);
      EXPECT_EQ(sweep.structures.size(), 6u);
    }
    ++count;
  }
  EXPECT_GE(count, 2);
}

}  // namespace
}  // namespace strata
