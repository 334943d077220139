#pragma once
// The real GPT-2 vocabulary for the tokenizer tests, from deps/gpt2 (fetched
// and checksummed by scripts/install-deps.sh). A missing file fails the test
// that needs it, with the command that fetches it: never a silent skip.
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "data/gpt2_tokenizer.h"

namespace strata::data::testing {

inline std::string gpt2_file(const std::string& name) {
  const std::string path = std::string(STRATA_SOURCE_DIR) + "/deps/gpt2/" + name;
  if (!std::filesystem::is_regular_file(path)) {
    throw std::runtime_error(path + " is missing: run scripts/install-deps.sh (it fetches the GPT-2 vocabulary)");
  }
  return path;
}

// Loaded once per test binary: each form takes a fraction of a second.
inline const Gpt2Tokenizer& gpt2_tiktoken() {
  static const Gpt2Tokenizer tokenizer = Gpt2Tokenizer::load(gpt2_file("gpt2.tiktoken"));
  return tokenizer;
}

inline const Gpt2Tokenizer& gpt2_hugging_face() {
  static const Gpt2Tokenizer tokenizer = Gpt2Tokenizer::load(gpt2_file("vocab.json"));
  return tokenizer;
}

inline void write_text_file(const std::string& path, std::string_view text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(text.data(), std::streamsize(text.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace strata::data::testing
