#pragma once
// `strata eval --checkpoint FILE [--set key=value]... [--split test|train|val]`
//
// Evaluates a checkpoint's model on a split of its run's dataset (the
// config stored in the checkpoint, with the overrides applied: e.g.
// `--set data.root=...` where the data moved) and prints one JSON line:
//   {"loss": 0.3012, "accuracy": 0.8934, "count": 10000, "split": "test", "step": 4690}
// Language models (GPT-2) read the split's token shards (data.val,
// data.test, data.train) as non-overlapping blocks of data.context tokens
// and add the perplexity, exp(loss per token); count is then tokens:
//   {"loss": 3.01, "accuracy": 0.41, "count": 245760, "ppl": 20.3, "split": "test", "step": 4690}
// Exit codes: 0, 2 (bad usage, config, data, or a damaged checkpoint: the
// message names the file), 1 (internal).
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace strata::tools {

struct EvalCommandOptions {
  std::string checkpoint;
  std::vector<std::string> overrides;
  std::string split = "test";
};

CLI::App* add_eval_command(CLI::App& app, EvalCommandOptions& options);
int run_eval(const EvalCommandOptions& options);

}  // namespace strata::tools
