#include "tools/import_model.h"

#include <fmt/format.h>

#include "train/hf_gpt2.h"

namespace strata::tools {

CLI::App* add_import_command(CLI::App& app, ImportCommandOptions& o) {
  CLI::App* import = app.add_subcommand("import", "Convert pre-trained weights into a Strata checkpoint");
  import->require_subcommand(1);
  CLI::App* gpt2 = import->add_subcommand("gpt2", "Hugging Face GPT-2 (model.safetensors) -> Strata checkpoint");
  gpt2->add_option("--from", o.from, "Hugging Face model.safetensors")->required()->check(CLI::ExistingFile);
  gpt2->add_option("--out", o.out, "Strata checkpoint to write")->required();
  gpt2->add_option("--heads", o.heads, "attention heads (0: width / 64, as every GPT-2 size)")
      ->check(CLI::Range(int64_t(0), int64_t(1) << 16))
      ->capture_default_str();
  gpt2->add_option("--vocab", o.vocab, "tokenizer recorded as data.vocab (for strata sample)")->capture_default_str();
  return import;
}

int run_import(const ImportCommandOptions& o) {
  const CheckpointState state = import_hf_gpt2(o.from, {.heads = o.heads, .vocab = o.vocab});
  save_checkpoint(o.out, state);
  int64_t params = 0;
  for (const auto& [name, t] : state.model) params += t.numel();
  fmt::print("wrote {}: GPT-2 with {} parameters from {}\n", o.out, params, o.from);
  return 0;
}

}  // namespace strata::tools
