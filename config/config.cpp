#include "config/config.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace strata::config {

namespace fs = std::filesystem;

std::string Source::str() const {
  if (line == 0) return file;
  return fmt::format("{}:{}:{}", file, line, column);
}

void fail_at(const Source& source, const std::string& key, const std::string& reason) {
  throw Error(fmt::format("{}: {}: {}", source.str(), key, reason));
}

namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string join_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

Source source_of_mark(const std::string& file, const YAML::Mark& mark) {
  return {file, mark.line + 1, mark.column + 1};
}

}  // namespace

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::max<size_t>(2, word.size() / 3) + 1;
  for (const std::string& c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

// ---- loading -----------------------------------------------------------------

class Loader {
 public:
  // Loads one file and, first, its base chain; merges child over base.
  Document load(const std::string& path) {
    fs::path canonical = fs::weakly_canonical(fs::path(path));
    if (std::find(chain_.begin(), chain_.end(), canonical) != chain_.end()) {
      std::string cycle;
      for (const auto& p : chain_) cycle += p.string() + " -> ";
      throw Error(fmt::format("{}: base: inheritance cycle: {}{}", path, cycle, canonical.string()));
    }
    if (!fs::exists(canonical)) {
      std::string from = chain_.empty() ? "" : fmt::format(" (base of {})", chain_.back().string());
      throw Error(fmt::format("{}: config file not found{}", path, from));
    }
    chain_.push_back(canonical);
    std::ifstream in(canonical);
    std::stringstream text;
    text << in.rdbuf();
    Document own = Document::parse(text.str(), path);
    Document result;
    if (own.root_["base"]) {
      const YAML::Node& base = own.root_["base"];
      Source where = own.source_of("base");
      if (!base.IsScalar()) fail_at(where, "base", "expected a file path");
      fs::path base_path = canonical.parent_path() / base.as<std::string>();
      result = load(base_path.string());
      own.root_.remove("base");
      merge(result.root_, own.root_, "", result.sources_, own.sources_);
    } else {
      result = std::move(own);
    }
    result.file_ = path;
    chain_.pop_back();
    return result;
  }

 private:
  // Deep merge: maps merge key by key, anything else replaces.
  static void merge(YAML::Node target, const YAML::Node& overlay, const std::string& path,
                    std::map<std::string, Source>& target_sources, const std::map<std::string, Source>& overlay_sources) {
    for (auto it = overlay.begin(); it != overlay.end(); ++it) {
      std::string key = it->first.as<std::string>();
      std::string child = join_path(path, key);
      if (target[key] && target[key].IsMap() && it->second.IsMap()) {
        merge(target[key], it->second, child, target_sources, overlay_sources);
      } else {
        target[key] = YAML::Clone(it->second);
        // Everything under the replaced key now comes from the overlay.
        for (auto s = target_sources.lower_bound(child); s != target_sources.end() && s->first.rfind(child, 0) == 0;) {
          s = target_sources.erase(s);
        }
        for (auto s = overlay_sources.lower_bound(child); s != overlay_sources.end() && s->first.rfind(child, 0) == 0; ++s) {
          target_sources[s->first] = s->second;
        }
      }
      if (auto s = overlay_sources.find(child); s != overlay_sources.end()) target_sources[child] = s->second;
    }
  }

  std::vector<fs::path> chain_;
};

namespace {

void record_sources(const YAML::Node& node, const std::string& path, const std::string& file,
                    std::map<std::string, Source>& sources) {
  if (!node.IsMap()) return;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar()) fail_at(source_of_mark(file, it->first.Mark()), path, "map keys must be plain names");
    std::string child = join_path(path, it->first.as<std::string>());
    sources[child] = source_of_mark(file, it->first.Mark());
    record_sources(it->second, child, file, sources);
  }
}

}  // namespace

Document Document::load(const std::string& path) { return Loader().load(path); }

Document Document::parse(const std::string& text, const std::string& name) {
  Document doc;
  doc.file_ = name;
  try {
    doc.root_ = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw Error(fmt::format("{}:{}:{}: YAML syntax error: {}", name, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  if (doc.root_.IsNull()) doc.root_ = YAML::Node(YAML::NodeType::Map);
  if (!doc.root_.IsMap()) throw Error(fmt::format("{}: the top level of a config must be a map of sections", name));
  record_sources(doc.root_, "", name, doc.sources_);
  return doc;
}

void Document::set(const std::string& dotted_key, const std::string& value) {
  Source source{fmt::format("--set {}={}", dotted_key, value), 0, 0};
  YAML::Node parsed;
  try {
    parsed = YAML::Load(value);
  } catch (const YAML::Exception& e) {
    fail_at(source, dotted_key, fmt::format("value is not valid YAML: {}", e.msg));
  }
  std::vector<std::string> parts;
  std::stringstream stream(dotted_key);
  for (std::string part; std::getline(stream, part, '.');) {
    if (part.empty()) fail_at(source, dotted_key, "empty component in key path");
    parts.push_back(part);
  }
  if (parts.empty()) fail_at(source, dotted_key, "empty key");
  // Walk with explicit copies: yaml-cpp nodes are handles, assignment rebinds.
  std::vector<YAML::Node> nodes{root_};
  std::string path;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    path = join_path(path, parts[i]);
    YAML::Node next = nodes.back()[parts[i]];
    if (next && !next.IsMap()) fail_at(source, path, "is not a section, cannot set a key inside it");
    if (!next) {
      nodes.back()[parts[i]] = YAML::Node(YAML::NodeType::Map);
      next = nodes.back()[parts[i]];
      sources_[path] = source;
    }
    nodes.push_back(next);
  }
  nodes.back()[parts.back()] = parsed;
  sources_[dotted_key] = source;
}

void Document::apply_override(const std::string& assignment) {
  size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw Error(fmt::format("--set {}: expected key.path=value", assignment));
  }
  set(assignment.substr(0, eq), assignment.substr(eq + 1));
}

Source Document::source_of(const std::string& dotted_path) const {
  std::string path = dotted_path;
  while (true) {
    if (auto it = sources_.find(path); it != sources_.end()) return it->second;
    size_t dot = path.rfind('.');
    if (dot == std::string::npos) return {file_, 0, 0};
    path = path.substr(0, dot);
  }
}

// ---- reading sections ---------------------------------------------------------

Section::Section(const Document& doc) : Section(doc, doc.root(), "", YAML::Node(YAML::NodeType::Map)) {}

Section::Section(const Document& doc, YAML::Node node, std::string path, YAML::Node resolved)
    : doc_(&doc), node_(std::move(node)), path_(std::move(path)), resolved_(std::move(resolved)) {}

std::string Section::path_of(const std::string& key) const { return join_path(path_, key); }

void Section::error(const std::string& key, const std::string& reason) const {
  fail_at(doc_->source_of(path_of(key)), path_of(key), reason);
}

bool Section::has(const std::string& key) const { return node_.IsMap() && node_[key]; }

Section Section::section(const std::string& key) {
  known_.push_back(key);
  YAML::Node child = has(key) ? node_[key] : YAML::Node(YAML::NodeType::Map);
  if (child.IsNull()) child = YAML::Node(YAML::NodeType::Map);
  if (!child.IsMap()) error(key, "expected a section (a map of keys)");
  resolved_[key] = YAML::Node(YAML::NodeType::Map);
  return Section(*doc_, child, path_of(key), resolved_[key]);
}

YAML::Node Section::raw(const std::string& key) {
  known_.push_back(key);
  YAML::Node value = has(key) ? node_[key] : YAML::Node();
  if (value) resolved_[key] = YAML::Clone(value);
  return value;
}

namespace {

template <typename T> const char* type_name();
template <> const char* type_name<bool>() { return "a boolean (true/false)"; }
template <> const char* type_name<int>() { return "an integer"; }
template <> const char* type_name<int64_t>() { return "an integer"; }
template <> const char* type_name<double>() { return "a number"; }
template <> const char* type_name<std::string>() { return "a string"; }
template <> const char* type_name<std::vector<int64_t>>() { return "a list of integers"; }
template <> const char* type_name<std::vector<double>>() { return "a list of numbers"; }
template <> const char* type_name<std::vector<std::string>>() { return "a list of strings"; }

template <typename T> constexpr bool is_list = false;
template <typename T> constexpr bool is_list<std::vector<T>> = true;

std::string shown(const YAML::Node& node) {
  if (node.IsScalar()) return "'" + node.Scalar() + "'";
  return node.IsSequence() ? "a list" : node.IsMap() ? "a map" : "null";
}

}  // namespace

template <typename T>
void Section::field(const std::string& key, T& value, std::function<std::string(const T&)> check) {
  known_.push_back(key);
  if (has(key)) {
    const YAML::Node node = node_[key];
    bool shape_ok = is_list<T> ? node.IsSequence() : node.IsScalar();
    try {
      if (!shape_ok) throw YAML::BadConversion(node.Mark());
      value = node.as<T>();
    } catch (const YAML::Exception&) {
      error(key, fmt::format("expected {}, got {}", type_name<T>(), shown(node)));
    }
  }
  if (check) {
    std::string reason = check(value);
    if (!reason.empty()) error(key, reason);
  }
  resolved_[key] = value;
}

template void Section::field<bool>(const std::string&, bool&, std::function<std::string(const bool&)>);
template void Section::field<int>(const std::string&, int&, std::function<std::string(const int&)>);
template void Section::field<int64_t>(const std::string&, int64_t&, std::function<std::string(const int64_t&)>);
template void Section::field<double>(const std::string&, double&, std::function<std::string(const double&)>);
template void Section::field<std::string>(const std::string&, std::string&,
                                          std::function<std::string(const std::string&)>);
template void Section::field<std::vector<int64_t>>(const std::string&, std::vector<int64_t>&,
                                                   std::function<std::string(const std::vector<int64_t>&)>);
template void Section::field<std::vector<double>>(const std::string&, std::vector<double>&,
                                                  std::function<std::string(const std::vector<double>&)>);
template void Section::field<std::vector<std::string>>(const std::string&, std::vector<std::string>&,
                                                       std::function<std::string(const std::vector<std::string>&)>);

void Section::choice(const std::string& key, std::string& value, const std::vector<std::string>& options) {
  field<std::string>(key, value, [&](const std::string& v) -> std::string {
    if (std::find(options.begin(), options.end(), v) != options.end()) return {};
    std::string hint = closest_match(v, options);
    return fmt::format("'{}' is not one of [{}]{}", v, fmt::join(options, ", "),
                       hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint));
  });
}

void Section::finish() const {
  if (!node_.IsMap()) return;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    std::string key = it->first.as<std::string>();
    if (std::find(known_.begin(), known_.end(), key) != known_.end()) continue;
    std::string hint = closest_match(key, known_);
    error(key, fmt::format("unknown key{}", hint.empty() ? fmt::format(" (valid keys: {})", fmt::join(known_, ", "))
                                                         : fmt::format(" (did you mean '{}'?)", hint)));
  }
}

void write_yaml(const YAML::Node& node, const std::string& path) {
  std::ofstream out(path);
  if (!out) throw Error(fmt::format("{}: cannot write the resolved config", path));
  out << node << "\n";
}

}  // namespace strata::config
