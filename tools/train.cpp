#include "tools/train.h"

#include <fmt/format.h>

#include <filesystem>

#include "config/config.h"
#include "train/checkpoint.h"
#include "train/run_config.h"
#include "train/stop_signal.h"
#include "train/trainer.h"

namespace strata::tools {

namespace fs = std::filesystem;

namespace {

// The checkpoint file `--resume X` names: X itself, or X's last.safetensors.
std::string resume_checkpoint(const std::string& resume) {
  std::error_code ec;
  if (fs::is_regular_file(resume, ec)) return resume;
  if (!fs::is_directory(resume, ec)) fail("--resume", "{}: no such run folder or checkpoint file", resume);
  const fs::path dir = fs::path(resume) / "checkpoints";
  std::optional<std::string> latest = CheckpointManager(dir.string()).latest();
  if (!latest) fail("--resume", "{}: no checkpoint to resume from (expected {})", resume, (dir / "last.safetensors").string());
  return *latest;
}

// The run folder a resumed checkpoint belongs to: .../RUN/checkpoints/x.safetensors -> .../RUN.
std::string run_folder_of(const std::string& checkpoint) {
  fs::path parent = fs::path(checkpoint).parent_path();
  if (parent.filename() == "checkpoints") parent = parent.parent_path();
  return parent.empty() ? "." : parent.string();
}

config::Document load_config(const TrainCommandOptions& o, const std::string& checkpoint) {
  config::Document doc = !o.config.empty()
                             ? config::Document::load(o.config)
                             : config::Document::parse(load_checkpoint(checkpoint).config_yaml,
                                                       checkpoint + " (stored config)");
  for (const std::string& assignment : o.overrides) doc.apply_override(assignment);
  return doc;
}

// A fresh run must not land on an earlier one unless asked to.
void prepare_fresh_out(const std::string& out, bool overwrite) {
  const fs::path checkpoints = fs::path(out) / "checkpoints", metrics = fs::path(out) / "metrics.jsonl";
  std::error_code ec;
  const bool earlier = fs::exists(checkpoints, ec) || fs::exists(metrics, ec);
  if (!earlier) return;
  if (!overwrite) {
    fail("train", "{} already holds a run: continue it with --resume {}, or start again with --overwrite "
         "(deletes its checkpoints and metrics), or choose another --out", out, out);
  }
  fs::remove_all(checkpoints);
  fs::remove(metrics);
}

int exit_code(const TrainResult& result) {
  if (result.status == TrainStatus::finished) return 0;
  return 128 + (result.stop_signal != 0 ? result.stop_signal : SIGINT);
}

}  // namespace

CLI::App* add_train_command(CLI::App& app, TrainCommandOptions& o) {
  CLI::App* train = app.add_subcommand("train", "Train a model from a run config (YAML)");
  train->add_option("config", o.config, "run config file (optional with --resume: the checkpoint's own config)");
  train->add_option("--out", o.out, "run folder (default: runs/<config name>, or the --resume folder)");
  train->add_option("--set", o.overrides, "override a config key, e.g. --set optim.lr=1e-3 (repeatable)")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false);  // one value per --set: `--set a=1 CONFIG` keeps CONFIG positional
  train->add_option("--resume", o.resume, "continue the run in this folder (or from this checkpoint file)");
  train->add_option("--init", o.init, "initialise the weights from this checkpoint and train from step 0")
      ->check(CLI::ExistingFile);
  train->add_flag("--overwrite", o.overwrite, "start afresh in a --out folder that holds an earlier run");
  train->callback([&o] {
    if (o.config.empty() && o.resume.empty() && o.init.empty()) throw CLI::RequiredError("config (or --resume or --init)");
    if (!o.init.empty() && !o.resume.empty()) throw CLI::ValidationError("--init", "cannot be combined with --resume");
    if (o.overwrite && !o.resume.empty()) throw CLI::ValidationError("--overwrite", "cannot be combined with --resume");
  });
  return train;
}

int run_train(const TrainCommandOptions& o) {
  const std::string checkpoint = o.resume.empty() ? "" : resume_checkpoint(o.resume);
  RunConfig config = read_run_config(load_config(o, checkpoint.empty() ? o.init : checkpoint));
  TrainerOptions options;
  options.out_dir = !o.out.empty()            ? o.out
                    : !checkpoint.empty()     ? run_folder_of(checkpoint)
                    : !o.config.empty()       ? (fs::path("runs") / fs::path(o.config).stem()).string()
                                              : (fs::path("runs") / (fs::path(o.init).stem().string() + "_retrain")).string();
  options.resume_from = checkpoint;
  options.init_from = o.init;
  if (checkpoint.empty()) prepare_fresh_out(options.out_dir, o.overwrite);
  Trainer trainer(std::move(config), options);
  // Installed only now: a Ctrl-C while the data loads just ends the process.
  StopSignalScope signals;
  TrainResult result = trainer.run();
  if (result.status == TrainStatus::stopped) {
    fmt::print("resume with: strata train --resume {}\n", options.out_dir);
  }
  return exit_code(result);
}

}  // namespace strata::tools
