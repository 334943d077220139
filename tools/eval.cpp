#include "tools/eval.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/config.h"
#include "train/checkpoint.h"
#include "train/evaluate.h"
#include "train/run_config.h"

namespace strata::tools {

CLI::App* add_eval_command(CLI::App& app, EvalCommandOptions& o) {
  CLI::App* eval = app.add_subcommand("eval", "Evaluate a checkpoint on its run's dataset; prints one JSON line");
  eval->add_option("--checkpoint", o.checkpoint, "checkpoint file (e.g. runs/NAME/checkpoints/last.safetensors)")
      ->required();
  eval->add_option("--set", o.overrides, "override a key of the stored config (repeatable)")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false);
  eval->add_option("--split", o.split, "which split to evaluate")
      ->check(CLI::IsMember({"test", "train"}))
      ->capture_default_str();
  return eval;
}

int run_eval(const EvalCommandOptions& o) {
  const CheckpointState state = load_checkpoint(o.checkpoint);
  config::Document doc = config::Document::parse(state.config_yaml, o.checkpoint + " (stored config)");
  for (const std::string& assignment : o.overrides) doc.apply_override(assignment);
  const RunConfig config = read_run_config(std::move(doc));

  const data::Split split = o.split == "train" ? data::Split::train : data::Split::test;
  const data::Dataset dataset = data::load_dataset(config.data, split);
  ImageShape shape{dataset.num_classes, dataset.channels(),
                   config.data.augment.crop > 0 ? config.data.augment.crop : dataset.height()};
  Generator generator(uint64_t(config.train.seed));
  std::unique_ptr<ImageClassifier> model = build_model(config, shape, &generator);
  restore_model(*model, state);

  data::Loader loader(dataset, data::eval_loader_options(config.data));
  SingleProcessCommunicator single;
  const EvalResult result = *evaluate(*model, loader, single);
  nlohmann::ordered_json line;
  line["loss"] = result.loss;
  line["accuracy"] = result.accuracy;
  line["count"] = result.count;
  line["split"] = o.split;
  line["step"] = state.step;
  fmt::print("{}\n", line.dump());
  return 0;
}

}  // namespace strata::tools
