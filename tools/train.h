#pragma once
// `strata train CONFIG [--out DIR] [--set key=value]... [--resume DIR|FILE] [--init FILE] [--overwrite]`
//
//   CONFIG        a run config (train/run_config.h); optional with --resume,
//                 which then uses the config stored in the checkpoint
//   --out DIR     the run folder; default runs/<CONFIG's file stem>, or the
//                 --resume folder
//   --set k=v     overrides, applied after the file and its base chain
//   --resume X    continue a run: X is a run folder (its
//                 checkpoints/last.safetensors) or a checkpoint file
//   --init FILE   initialise the model's weights from a checkpoint (e.g. one
//                 `strata compress` wrote) and train afresh from step 0;
//                 CONFIG is then optional: the checkpoint's stored config
//   --overwrite   start afresh in a folder that holds an earlier run,
//                 deleting its checkpoints and metrics (without it such a
//                 folder is refused, so a run is never clobbered by accident)
//
// Exit codes: 0 finished; 2 bad usage, config, data or checkpoint; 1
// internal error; 128 + signal (130 SIGINT, 143 SIGTERM) when stopped by a
// signal after writing a checkpoint (train/stop_signal.h), so that scripts
// can tell a stopped run from a finished one and resume it.
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace strata::tools {

struct TrainCommandOptions {
  std::string config;
  std::string out;
  std::vector<std::string> overrides;
  std::string resume;
  std::string init;
  bool overwrite = false;
};

// Adds the subcommand to `app`; returns it (for got_subcommand checks).
CLI::App* add_train_command(CLI::App& app, TrainCommandOptions& options);
int run_train(const TrainCommandOptions& options);

}  // namespace strata::tools
