#pragma once
// `strata import gpt2 --from model.safetensors --out FILE [--heads H] [--vocab PATH]`
//
// Converts Hugging Face GPT-2 weights into a Strata checkpoint (the name map
// and the Conv1D transposes are in train/hf_gpt2.h) that `strata sample`,
// `strata eval` (with --set data.val=... or data.test=...) and
// `strata compress` accept. The file is written atomically.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

namespace strata::tools {

struct ImportCommandOptions {
  std::string from;
  std::string out;
  int64_t heads = 0;
  std::string vocab = "deps/gpt2/gpt2.tiktoken";
};

// Adds `import` with its `gpt2` subcommand; returns `import`.
CLI::App* add_import_command(CLI::App& app, ImportCommandOptions& options);
int run_import(const ImportCommandOptions& options);

}  // namespace strata::tools
