#pragma once
// Shared by the GPT-2 tests: a tiny GPT-2 config read from YAML text through
// the real config path.
#include <memory>
#include <string>

#include "config/config.h"
#include "models/gpt2.h"

namespace strata::testing {

// vocab 13, context 8, width 8, depth 2, heads 2 (mlp 32); `extra` lines of
// the model map replace the defaults they name.
inline std::string tiny_gpt2_yaml(const std::string& extra = "") {
  const std::vector<std::pair<std::string, std::string>> defaults = {
      {"name", "gpt2"}, {"vocab_size", "13"}, {"context", "8"}, {"width", "8"}, {"depth", "2"}, {"heads", "2"}};
  std::string text = "model:\n" + extra;
  for (const auto& [key, value] : defaults) {
    if (extra.find("  " + key + ":") == std::string::npos) text += "  " + key + ": " + value + "\n";
  }
  return text;
}

inline Gpt2Config tiny_gpt2_config(const std::string& extra = "") {
  config::Document doc = config::Document::parse(tiny_gpt2_yaml(extra), "tiny_gpt2.yaml");
  config::Section model = config::Section(doc).section("model");
  return read_gpt2_config(model);
}

}  // namespace strata::testing
