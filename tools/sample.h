#pragma once
// `strata sample --checkpoint FILE [--prompt TEXT] [--tokens N] [--temperature T] [--top-k K] [--seed S]
//                [--vocab PATH]`
//
// Continues the prompt with a GPT-2 checkpoint (models/generate.h: KV cache,
// so each token costs one incremental forward) and prints the prompt and the
// generated text as it is drawn. The tokenizer is the run config's
// data.vocab unless --vocab names one. An empty prompt starts from
// <|endoftext|> (unconditional text); generation stops at <|endoftext|>.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace strata::tools {

struct SampleCommandOptions {
  std::string checkpoint;
  std::string prompt;
  std::string vocab;
  int64_t tokens = 200;
  double temperature = 0.8;
  int64_t top_k = 40;
  uint64_t seed = 0;
};

CLI::App* add_sample_command(CLI::App& app, SampleCommandOptions& options);
int run_sample(const SampleCommandOptions& options);

}  // namespace strata::tools
