#pragma once
// Shared by the model tests: a tiny ViT config read from YAML text through
// the real config path, and error-message expectations.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "models/model_factory.h"
#include "models/vit.h"

namespace strata::testing {

// image 8x8, patch 4 (4 patches), 3 channels, 5 classes, width 32, depth 2,
// heads 2. `extra` holds more lines of the model map ("  pool: mean\n");
// they come first (the first on line 2), and a key they set replaces the
// default, since YAML maps keep one value per key.
inline std::string tiny_vit_yaml(const std::string& extra = "") {
  const std::vector<std::pair<std::string, std::string>> defaults = {
      {"name", "vit"}, {"image_size", "8"}, {"patch_size", "4"}, {"in_channels", "3"},
      {"num_classes", "5"}, {"width", "32"}, {"depth", "2"}, {"heads", "2"}};
  std::string text = "model:\n" + extra;
  for (const auto& [key, value] : defaults) {
    if (extra.find("  " + key + ":") == std::string::npos) text += "  " + key + ": " + value + "\n";
  }
  return text;
}

inline ViTConfig tiny_vit_config(const std::string& extra = "") {
  config::Document doc = config::Document::parse(tiny_vit_yaml(extra), "tiny.yaml");
  config::Section model = config::Section(doc).section("model");
  return read_vit_config(model);
}

inline std::unique_ptr<ViT> tiny_vit(const std::string& extra = "", Generator* gen = nullptr) {
  return std::make_unique<ViT>(tiny_vit_config(extra), ModelOptions{.generator = gen});
}

// The message of the strata::Error that f throws ("no error" otherwise).
template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

inline void expect_contains(const std::string& text, const std::string& part) {
  EXPECT_NE(text.find(part), std::string::npos) << "'" << part << "' not in: " << text;
}

}  // namespace strata::testing
