#include "tools/eval.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/config.h"
#include "train/checkpoint.h"
#include "train/evaluate.h"
#include "train/language_model_task.h"
#include "train/load_model.h"
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
      ->check(CLI::IsMember({"test", "train", "val"}))
      ->capture_default_str();
  return eval;
}

namespace {

EvalResult evaluate_images(const CheckpointModel& loaded, const std::string& split_name) {
  const RunConfig& config = loaded.config;
  if (split_name == "val") fail("eval", "image datasets have train and test splits, not val");
  const data::Split split = split_name == "train" ? data::Split::train : data::Split::test;
  const data::Dataset dataset = data::load_dataset(config.data, split);
  data::Loader loader(dataset, data::eval_loader_options(config.data));
  SingleProcessCommunicator single;
  return *evaluate(dynamic_cast<ImageClassifier&>(*loaded.model), loader, single);
}

EvalResult evaluate_tokens(const CheckpointModel& loaded, const std::string& split_name) {
  const data::TokenDataConfig& d = loaded.config.tokens;
  const std::vector<std::string>& shards = split_name == "train" ? d.train : split_name == "val" ? d.val : d.test;
  if (shards.empty()) {
    fail("eval", "the config names no {} shards: add --set data.{}=FILE (written by strata tokenize)", split_name,
         split_name);
  }
  data::TokenLoader loader = eval_token_loader(d, shards);
  SingleProcessCommunicator single;
  return *evaluate(dynamic_cast<Gpt2&>(*loaded.model), loader, single);
}

}  // namespace

int run_eval(const EvalCommandOptions& o) {
  const CheckpointModel loaded = load_model(o.checkpoint, o.overrides);
  const bool tokens = loaded.config.kind == ModelKind::language_model;
  const EvalResult result = tokens ? evaluate_tokens(loaded, o.split) : evaluate_images(loaded, o.split);
  nlohmann::ordered_json line;
  line["loss"] = result.loss;
  line["accuracy"] = result.accuracy;
  line["count"] = result.count;
  if (tokens) line["ppl"] = result.perplexity;
  line["split"] = o.split;
  line["step"] = loaded.state.step;
  fmt::print("{}\n", line.dump());
  return 0;
}

}  // namespace strata::tools
