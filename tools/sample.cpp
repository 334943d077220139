#include "tools/sample.h"

#include <fmt/format.h>

#include <cstdio>

#include "data/gpt2_tokenizer.h"
#include "models/generate.h"
#include "train/load_model.h"

namespace strata::tools {

CLI::App* add_sample_command(CLI::App& app, SampleCommandOptions& o) {
  CLI::App* sample = app.add_subcommand("sample", "Generate text with a GPT-2 checkpoint (KV cache)");
  sample->add_option("--checkpoint", o.checkpoint, "GPT-2 checkpoint (strata train or strata import gpt2)")
      ->required()
      ->check(CLI::ExistingFile);
  sample->add_option("--prompt", o.prompt, "text to continue (empty: start from <|endoftext|>)");
  sample->add_option("--tokens", o.tokens, "tokens to generate")->check(CLI::Range(int64_t(1), int64_t(1) << 20))->capture_default_str();
  sample->add_option("--temperature", o.temperature, "softmax temperature; 0 = greedy")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  sample->add_option("--top-k", o.top_k, "sample among the K most likely tokens; 0 = all")
      ->check(CLI::Range(int64_t(0), int64_t(1) << 20))
      ->capture_default_str();
  sample->add_option("--seed", o.seed, "seed of the draws")->capture_default_str();
  sample->add_option("--vocab", o.vocab, "tokenizer files (default: the run config's data.vocab)");
  return sample;
}

int run_sample(const SampleCommandOptions& o) {
  CheckpointModel loaded = load_model(o.checkpoint);
  auto* gpt2 = dynamic_cast<Gpt2*>(loaded.model.get());
  if (!gpt2) fail("sample", "{} is not a language model (model.name: gpt2)", o.checkpoint);
  const data::Gpt2Tokenizer tokenizer =
      data::Gpt2Tokenizer::load(o.vocab.empty() ? loaded.config.tokens.vocab : o.vocab);
  std::vector<int64_t> prompt;
  for (int32_t id : tokenizer.encode(o.prompt)) prompt.push_back(id);
  if (prompt.empty()) prompt.push_back(tokenizer.eot_id());

  SamplingOptions options{.max_new_tokens = o.tokens, .temperature = o.temperature, .top_k = o.top_k,
                          .seed = o.seed, .stop_token = tokenizer.eot_id()};
  fmt::print("{}", o.prompt);
  std::fflush(stdout);
  generate(*gpt2, prompt, options, [&](int64_t token) {
    if (token == tokenizer.eot_id()) return;
    const int32_t id = int32_t(token);
    fmt::print("{}", tokenizer.decode({&id, 1}));
    std::fflush(stdout);
  });
  fmt::print("\n");
  return 0;
}

}  // namespace strata::tools
