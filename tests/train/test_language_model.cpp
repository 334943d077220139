// Language modelling end to end: GPT-2 trained by the Trainer on token
// shards in the llm.c format that the test writes (a corpus with learnable
// structure), evaluated as perplexity, stopped and resumed bit-identically;
// `strata eval` on its checkpoint; Hugging Face GPT-2 weights (a tiny file
// in HF's layout, written here) imported and equal to the model they came
// from; `strata sample` reproducible with a seed.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>

#include "core/philox.h"
#include "data/token_shard.h"
#include "models/gpt2.h"
#include "tests/data/fixtures.h"
#include "tests/support/cli.h"
#include "tests/train/train_fixtures.h"
#include "train/checkpoint.h"
#include "train/hf_gpt2.h"
#include "train/safetensors.h"
#include "train/trainer.h"

namespace strata {
namespace {

using data::testing::TempDir;
using testing::run_strata;

// A stream over 16 token ids where each token determines the next with
// probability 7/8 (t -> 3t + 1 mod 16), else is random: the entropy is far
// below log(16), so a model that learns the rule lowers the loss clearly.
void write_corpus(const std::string& path, int64_t tokens, uint64_t seed) {
  data::TokenShardWriter writer(path);
  std::vector<int32_t> ids;
  int32_t t = 0;
  for (int64_t i = 0; i < tokens; ++i) {
    const auto r = philox4x32(seed, uint64_t(i), 3);
    t = r[0] % 8 == 0 ? int32_t(r[1] % 16) : (3 * t + 1) % 16;
    ids.push_back(t);
  }
  writer.write(ids);
  writer.close();
}

std::string lm_config(const std::string& dir, int64_t steps) {
  return fmt::format(R"(model:
  name: gpt2
  vocab_size: 16
  context: 16
  width: 32
  depth: 1
  heads: 2
data:
  train: {0}/train.bin
  val: {0}/val.bin
  test: {0}/val.bin
  batch_size: 8
optim:
  lr: 1.0e-2
  weight_decay: 0.0
schedule:
  kind: constant
train:
  steps: {1}
  seed: 1
eval:
  every_steps: 0
  every_epochs: 0
  at_end: true
checkpoint:
  every_epochs: 0
log:
  every_steps: 1
  progress: never
)",
                     dir, steps);
}

RunConfig read_config(const std::string& text) { return read_run_config(config::Document::parse(text, "lm.yaml")); }


TrainerOptions options_for(const std::string& out) {
  TrainerOptions o;
  o.out_dir = out;
  o.console = testing::quiet_console();
  return o;
}


struct Corpus {
  TempDir dir;
  Corpus() {
    write_corpus(dir / "train.bin", 20'000, 1);
    write_corpus(dir / "val.bin", 2'000, 2);
  }
};

TEST(LanguageModelTraining, ValidationPerplexityFallsFarBelowUniform) {
  Corpus corpus;
  Trainer trainer(read_config(lm_config(corpus.dir.str(), 80)), options_for(corpus.dir / "run"));
  const TrainResult result = trainer.run();
  ASSERT_TRUE(result.final_eval.has_value());
  const EvalResult& val = *result.final_eval;
  // Next-token entropy of the corpus: 7/8 of the time a determined token.
  const double entropy = -(7.0 / 8 + 1.0 / 128) * std::log(7.0 / 8 + 1.0 / 128) - 15 * (1.0 / 128) * std::log(1.0 / 128);
  EXPECT_LT(val.loss, 0.5 * std::log(16.0)) << "uniform is " << std::log(16.0);
  EXPECT_GT(val.loss, entropy - 0.05);
  EXPECT_NEAR(val.perplexity, std::exp(val.loss), 1e-9);
  EXPECT_EQ(val.count, (2000 - 1) / 16 * 16);  // every full block of the val shard, each token once

  const std::vector<nlohmann::json> lines = testing::read_metrics_file(corpus.dir / "run/metrics.jsonl");
  ASSERT_FALSE(lines.empty());
  EXPECT_TRUE(lines.front().contains("tok_per_s"));
  EXPECT_TRUE(lines.front().contains("ppl"));
  EXPECT_EQ(lines.back()["split"], "val");
  EXPECT_NEAR(lines.back()["ppl"].get<double>(), val.perplexity, 1e-9);
}

TEST(LanguageModelTraining, StopAndResumeGiveBitwiseEqualWeights) {
  Corpus corpus;
  Trainer straight(read_config(lm_config(corpus.dir.str(), 8)), options_for(corpus.dir / "straight"));
  straight.run();

  TrainerOptions stopping = options_for(corpus.dir / "split");
  stopping.should_stop = [](int64_t step) { return step == 3; };
  Trainer first(read_config(lm_config(corpus.dir.str(), 8)), stopping);
  EXPECT_EQ(first.run().status, TrainStatus::stopped);
  TrainerOptions resuming = options_for(corpus.dir / "split");
  resuming.resume_from = corpus.dir / "split/checkpoints/last.safetensors";
  Trainer second(read_config(lm_config(corpus.dir.str(), 8)), resuming);
  second.run();
  EXPECT_EQ(straight.arena().params().to_vector<float>(), second.arena().params().to_vector<float>());
}

TEST(LanguageModelCli, EvalPrintsThePerplexityOfTheCheckpoint) {
  Corpus corpus;
  std::ofstream(corpus.dir / "lm.yaml") << lm_config(corpus.dir.str(), 5);
  const auto train = run_strata(fmt::format("train '{}' --out '{}'", corpus.dir / "lm.yaml", corpus.dir / "run"));
  ASSERT_EQ(train.exit_code, 0) << train.output;
  const auto eval =
      run_strata(fmt::format("eval --checkpoint '{}' --split test", corpus.dir / "run/checkpoints/last.safetensors"));
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  const nlohmann::json line = nlohmann::json::parse(eval.output);
  EXPECT_NEAR(line["ppl"].get<double>(), std::exp(line["loss"].get<double>()), 1e-6);
  EXPECT_EQ(line["count"], (2000 - 1) / 16 * 16);
  // A config without test shards: a clear error, exit 2.
  const auto missing = run_strata(fmt::format("eval --checkpoint '{}' --split test --set 'data.test=[]'",
                                              corpus.dir / "run/checkpoints/last.safetensors"));
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
}

// ---- Hugging Face import --------------------------------------------------------------------

Gpt2Config tiny_config(int64_t vocab) {
  config::Document doc = config::Document::parse(
      fmt::format("model:\n  name: gpt2\n  vocab_size: {}\n  context: 8\n  width: 128\n  depth: 2\n  heads: 2\n", vocab),
      "tiny.yaml");
  config::Section model = config::Section(doc).section("model");
  return read_gpt2_config(model);
}

// The model's weights under HF's names and layout (Conv1D: (in, out)),
// with the causal-mask buffers and the tied lm_head HF files carry.
std::vector<NamedTensor> to_hf_layout(const Gpt2& model, bool prefix) {
  const std::map<std::string, std::string> parts = {{"norm1", "ln_1"},       {"attn.qkv", "attn.c_attn"},
                                                    {"attn.proj", "attn.c_proj"}, {"norm2", "ln_2"},
                                                    {"mlp.fc1", "mlp.c_fc"},  {"mlp.fc2", "mlp.c_proj"}};
  std::vector<NamedTensor> out;
  const std::string p = prefix ? "transformer." : "";
  for (const auto& [name, t] : model.state_dict()) {
    std::string hf = name;
    bool conv1d = false;
    if (name.rfind("blocks.", 0) == 0) {
      const size_t second_dot = name.find('.', 7);
      const std::string layer = name.substr(7, second_dot - 7), rest = name.substr(second_dot + 1);
      const size_t last = rest.rfind('.');
      hf = "h." + layer + "." + parts.at(rest.substr(0, last)) + rest.substr(last);
      conv1d = rest.substr(last) == ".weight" && rest.rfind("norm", 0) != 0;
    }
    out.emplace_back(p + hf, conv1d ? ops::contiguous(ops::transpose(t, 0, 1)) : t);
  }
  for (int i = 0; i < 2; ++i) out.emplace_back(fmt::format("{}h.{}.attn.bias", p, i), zeros({1, 1, 8, 8}));
  if (prefix) out.emplace_back("lm_head.weight", model.wte->weight);
  return out;
}

TEST(HfGpt2Import, WeightsInHfLayoutGiveTheSameModel) {
  TempDir dir;
  Generator gen(11);
  Gpt2 original(tiny_config(20), {.generator = &gen});
  for (bool prefix : {false, true}) {
    write_safetensors(dir / "model.safetensors", to_hf_layout(original, prefix));
    const CheckpointState state = import_hf_gpt2(dir / "model.safetensors");
    Gpt2 imported(tiny_config(20));
    restore_model(imported, state);
    const Tensor tokens = from_vector<int64_t>({1, 5, 19, 0, 7}, {1, 5});
    EXPECT_EQ(imported.forward(tokens).to_vector<float>(), original.forward(tokens).to_vector<float>());
    EXPECT_NE(state.config_yaml.find("heads: 2"), std::string::npos) << state.config_yaml;  // width 128 / 64
  }
}

TEST(HfGpt2Import, RefusesForeignOrInconsistentFiles) {
  TempDir dir;
  Gpt2 original(tiny_config(20));
  auto error_of = [&](std::vector<NamedTensor> tensors) {
    write_safetensors(dir / "bad.safetensors", tensors);
    try {
      import_hf_gpt2(dir / "bad.safetensors");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  std::vector<NamedTensor> extra = to_hf_layout(original, false);
  extra.emplace_back("h.0.mlp.gate.weight", zeros({4, 4}));
  EXPECT_NE(error_of(extra).find("unknown tensor 'h.0.mlp.gate.weight'"), std::string::npos) << error_of(extra);
  std::vector<NamedTensor> untied = to_hf_layout(original, true);
  untied.back().second = ones({20, 128});
  EXPECT_NE(error_of(untied).find("lm_head.weight differs"), std::string::npos);
  std::vector<NamedTensor> missing = to_hf_layout(original, false);
  missing.erase(missing.begin() + 3);
  EXPECT_NE(error_of(missing).find("bad.safetensors"), std::string::npos) << error_of(missing);
}

TEST(LanguageModelCli, ImportedGpt2SamplesReproducibly) {
  TempDir dir;
  Generator gen(12);
  Gpt2 original(tiny_config(50257), {.generator = &gen});
  write_safetensors(dir / "model.safetensors", to_hf_layout(original, true));
  const std::string vocab = std::string(STRATA_SOURCE_DIR) + "/deps/gpt2/gpt2.tiktoken";
  const auto imported = run_strata(fmt::format("import gpt2 --from '{}' --out '{}' --vocab '{}'",
                                               dir / "model.safetensors", dir / "gpt2.safetensors", vocab));
  ASSERT_EQ(imported.exit_code, 0) << imported.output;
  const std::string sample =
      fmt::format("sample --checkpoint '{}' --prompt 'Hello world' --tokens 6 --seed 3", dir / "gpt2.safetensors");
  const auto a = run_strata(sample), b = run_strata(sample);
  ASSERT_EQ(a.exit_code, 0) << a.output;
  EXPECT_EQ(a.output, b.output);
  EXPECT_EQ(a.output.rfind("Hello world", 0), 0u) << a.output;
  EXPECT_GT(a.output.size(), std::string("Hello world\n").size());
  const auto other = run_strata(fmt::format("sample --checkpoint '{}' --prompt 'Hello world' --tokens 6 --seed 4",
                                            dir / "gpt2.safetensors"));
  EXPECT_NE(other.output, a.output);
}

}  // namespace
}  // namespace strata
