#pragma once
// YAML configs as users write them: a file may name a `base:` file (a path
// relative to it) whose keys it inherits and overrides, chains allowed,
// cycles refused; `--set key.path=value` overrides come last. Every key
// remembers where it was written, so an error names file:line:column.
//
//   config::Document doc = config::Document::load("configs/vit_s_cifar10.yaml");
//   doc.set("optim.lr", "1e-3");                       // from --set
//   config::Section optim = config::Section(doc).section("optim");
//   optim.field("lr", options.lr, config::positive<double>());
//   optim.finish();                                    // unknown keys: error, with "did you mean"
//
// Sections record every value they read, defaults included, so the fully
// resolved config can be written next to a run's outputs.
#include <yaml-cpp/yaml.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"

namespace strata::config {

// Where a key was written: "file:line:column", or "--set key=value".
struct Source {
  std::string file;
  int line = 0, column = 0;  // 1-based; 0 when not from a file
  std::string str() const;
};

class Document {
 public:
  // Loads `path` and its base chain. Errors (missing file, YAML syntax, a
  // base cycle, a top level that is not a map) name the file and line.
  static Document load(const std::string& path);
  // Parses YAML text directly (tests, built-in defaults); `name` stands for the file.
  static Document parse(const std::string& text, const std::string& name);

  // Overrides one dotted key with a value parsed as YAML ("3", "1e-3",
  // "[1, 2]", "{type: blast}"); intermediate maps are created.
  void set(const std::string& dotted_key, const std::string& value);
  // Applies "key.path=value" as given on the command line.
  void apply_override(const std::string& assignment);

  const YAML::Node& root() const { return root_; }
  const std::string& file() const { return file_; }
  // The source of a dotted path, or of its nearest recorded parent.
  Source source_of(const std::string& dotted_path) const;

 private:
  YAML::Node root_;
  std::string file_;
  std::map<std::string, Source> sources_;
  friend class Loader;
};

// Error message "<source>: <key>: <reason>", thrown as strata::Error.
[[noreturn]] void fail_at(const Source& source, const std::string& key, const std::string& reason);

// The closest of `candidates` to `word` by edit distance, or "" when none is close.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

// One map of the config, read key by key against a declared schema.
class Section {
 public:
  explicit Section(const Document& doc);  // the top level
  // A nested map; an absent key gives an empty section (all defaults).
  Section section(const std::string& key);

  bool has(const std::string& key) const;
  // Reads an optional key into `value` (which holds the default), checking
  // its type; `check` returns "" when the value is acceptable, else the reason.
  template <typename T>
  void field(const std::string& key, T& value, std::function<std::string(const T&)> check = {});
  // A string that must be one of `options`.
  void choice(const std::string& key, std::string& value, const std::vector<std::string>& options);
  // The raw node of a key (for values with their own parser, e.g. a LinearSpec);
  // marks the key as known. Null when absent.
  YAML::Node raw(const std::string& key);
  // Records a value into the resolved config without reading it.
  template <typename T>
  void record(const std::string& key, const T& value) { resolved_[key] = value; }

  // Refuses keys that no field() asked for, suggesting the closest known key.
  void finish() const;
  [[noreturn]] void error(const std::string& key, const std::string& reason) const;
  std::string path_of(const std::string& key) const;  // "optim.lr"

  // Every value read so far, defaults included, as YAML.
  const YAML::Node& resolved() const { return resolved_; }

 private:
  Section(const Document& doc, YAML::Node node, std::string path, YAML::Node resolved);
  const Document* doc_;
  YAML::Node node_;
  std::string path_;
  YAML::Node resolved_;
  std::vector<std::string> known_;
};

// Common checks for field().
template <typename T>
std::function<std::string(const T&)> positive() {
  return [](const T& v) { return v > T(0) ? std::string() : "must be > 0"; };
}
template <typename T>
std::function<std::string(const T&)> non_negative() {
  return [](const T& v) { return v >= T(0) ? std::string() : "must be >= 0"; };
}
template <typename T>
std::function<std::string(const T&)> in_range(T low, T high) {
  return [=](const T& v) {
    return v >= low && v <= high ? std::string() : fmt::format("must be in [{}, {}]", low, high);
  };
}
// A probability that excludes 1 (dropout rates, momentum): [0, 1).
inline std::function<std::string(const double&)> unit_interval_open() {
  return [](const double& v) { return v >= 0.0 && v < 1.0 ? std::string() : "must be in [0, 1)"; };
}

// Writes the resolved config (e.g. OUT/config.yaml).
void write_yaml(const YAML::Node& node, const std::string& path);

}  // namespace strata::config
