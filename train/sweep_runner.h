#pragma once
// Runs a sweep's cells as separate `strata train` processes, N at a time,
// and resumes an interrupted sweep.
//
// Each cell lives in OUT/cells/<name>/:
//   (the run folder of `strata train`: config.yaml, metrics.jsonl, checkpoints/)
//   train.log   the child's stdout and stderr, appended per attempt
//   cell.json   what the sweep knows of the cell, rewritten atomically after
//               every attempt: {"name", "overrides", "attempts",
//               "wall_seconds" (summed over attempts), "exit_code",
//               "finished" (true once a child exited 0)}
//
// A cell is finished when its cell.json says so; finished cells are skipped
// when the sweep runs again. An unfinished cell with a checkpoint resumes
// from it (`strata train CONFIG --resume DIR`); one without starts afresh
// (`--overwrite`). A cell.json whose overrides differ from the sweep's is
// refused: the sweep file changed under an earlier OUT.
//
// SIGINT/SIGTERM to the sweep are forwarded to the running children (they
// write a checkpoint and exit 128+signal); the sweep waits for them and
// reports the signal. Children run in their own process group (so a
// terminal's Ctrl-C reaches them once, through the sweep) and get SIGTERM
// should the sweep die first.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "train/sweep_config.h"
#include "train/sweep_grid.h"

namespace strata {

struct SweepRunOptions {
  std::string out_dir;                     // OUT
  int64_t jobs = 1;                        // cells at a time
  int64_t threads = 0;                     // threads for all cells together; 0: the machine's cores
  std::string binary = "/proc/self/exe";   // the `strata` to run
  std::function<void(const std::string&)> say = [](const std::string&) {};  // progress lines
};

struct CellRecord {
  std::string name;
  std::vector<std::string> overrides;
  int64_t attempts = 0;
  double wall_seconds = 0.0;
  int exit_code = -1;
  bool finished = false;
};

// OUT/cells/<name>
std::string cell_folder(const std::string& out_dir, const SweepCell& cell);
// The cell's cell.json, or a record with attempts 0 when there is none.
CellRecord read_cell_record(const std::string& folder);

struct SweepRunSummary {
  int64_t skipped = 0;   // finished before this run
  int64_t finished = 0;  // finished in this run
  std::vector<std::string> failed;  // cells whose child exited with an error, with their log file
  int stop_signal = 0;   // the signal that stopped the sweep, or 0
};

// Runs every unfinished cell; returns when all have exited or, after a
// signal, when the running ones have stopped.
SweepRunSummary run_sweep_cells(const SweepConfig& sweep, const std::vector<SweepCell>& cells,
                                const SweepRunOptions& options);

}  // namespace strata
