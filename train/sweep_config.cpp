#include "train/sweep_config.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "models/linear_roles.h"
#include "train/run_config.h"

namespace strata {

namespace fs = std::filesystem;
using config::Section;
using config::Source;

namespace {

const std::vector<std::string> kBudgetKeys = {"flops_ratio", "params_ratio", "rank", "blocks"};

// Where a node (a list item, which the document has no key source for) was written.
Source source_of_node(const std::string& file, const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  return mark.is_null() ? Source{file, 0, 0} : Source{file, mark.line + 1, mark.column + 1};
}

// Cell names are folder names: plain characters only.
void check_name(Section& s, const std::string& name) {
  const bool plain = !name.empty() && std::all_of(name.begin(), name.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-';
  });
  if (!plain) s.error(name, "a structure's name names folders and plot lines: use letters, digits, '_' and '-'");
}

// A budget is a map of kBudgetKeys to positive numbers.
void check_budget(const std::string& file, const YAML::Node& budget, const std::string& key) {
  const Source where = source_of_node(file, budget);
  if (!budget.IsMap() || budget.size() == 0) {
    config::fail_at(where, key, "a budget is a map such as {flops_ratio: 0.5} or {rank: 16}");
  }
  for (auto it = budget.begin(); it != budget.end(); ++it) {
    const std::string name = it->first.as<std::string>();
    if (std::find(kBudgetKeys.begin(), kBudgetKeys.end(), name) == kBudgetKeys.end()) {
      const std::string hint = config::closest_match(name, kBudgetKeys);
      config::fail_at(where, key + "." + name,
                      hint.empty() ? fmt::format("unknown budget key (valid: {})", fmt::join(kBudgetKeys, ", "))
                                   : fmt::format("unknown budget key (did you mean '{}'?)", hint));
    }
    double value = 0.0;
    try {
      value = it->second.as<double>();
    } catch (const YAML::Exception&) {
      config::fail_at(where, key + "." + name, "expected a number");
    }
    if (!(value > 0.0)) config::fail_at(where, key + "." + name, "must be > 0");
  }
}

std::vector<YAML::Node> read_budgets(const std::string& file, const YAML::Node& list, const Source& where,
                                     const std::string& key) {
  if (!list.IsSequence() || list.size() == 0) {
    config::fail_at(where, key, "expected a non-empty list of budgets, e.g. [{flops_ratio: 0.5}, {flops_ratio: 0.25}]");
  }
  std::vector<YAML::Node> budgets;
  for (size_t i = 0; i < list.size(); ++i) {
    check_budget(file, list[i], fmt::format("{}[{}]", key, i));
    budgets.push_back(list[i]);
  }
  return budgets;
}

// The keys of a map node, in file order.
std::vector<std::string> keys_of(const YAML::Node& node) {
  std::vector<std::string> keys;
  if (!node.IsDefined() || !node.IsMap()) return keys;
  for (auto it = node.begin(); it != node.end(); ++it) keys.push_back(it->first.as<std::string>());
  return keys;
}

// Tries `key=value` on a fresh copy of the base run config: a key or value
// the run config refuses is reported where the sweep file wrote it.
void check_override(const std::string& base, const std::string& key, const std::string& value, const Source& where,
                    const std::string& sweep_key) {
  config::Document doc = config::Document::load(base);
  try {
    doc.set(key, value);
    read_run_config(std::move(doc));
  } catch (const Error& e) {
    config::fail_at(where, sweep_key, fmt::format("the run config {} refuses {}={}: {}", base, key, value, e.what()));
  }
}

SweepStructure read_structure(const config::Document& doc, Section& structures, const std::string& name) {
  check_name(structures, name);
  SweepStructure s;
  s.name = name;
  s.source = doc.source_of(structures.path_of(name));
  if (!doc.root()["structures"][name].IsMap()) {
    structures.error(name, "expected a linear spec such as {type: blast, blocks: 3}");
  }
  Section section = structures.section(name);
  const bool has_budgets = section.has("budgets");
  const YAML::Node own_budgets = section.raw("budgets");
  const LinearSpec spec = read_linear_spec(section);  // checks type and keys, finishes the section
  s.dense = spec.type == "dense";
  s.fixed_size = spec.rank > 0 || spec.flops_ratio > 0.0 || spec.params_ratio > 0.0;
  s.spec = YAML::Node(YAML::NodeType::Map);
  const YAML::Node written = doc.root()["structures"][name];
  for (auto it = written.begin(); it != written.end(); ++it) {
    if (it->first.as<std::string>() != "budgets") s.spec[it->first.as<std::string>()] = YAML::Clone(it->second);
  }
  if (has_budgets) {
    if (s.dense || s.fixed_size) structures.error(name + ".budgets", "a dense or fixed-size structure has no budgets");
    s.budgets = read_budgets(doc.file(), own_budgets, doc.source_of(structures.path_of(name + ".budgets")),
                             "structures." + name + ".budgets");
  }
  return s;
}

// The `set:` map: dotted run-config keys to values.
void read_set(const config::Document& doc, Section& top, SweepConfig& c) {
  Section set = top.section("set");
  for (const std::string& key : keys_of(doc.root()["set"])) {
    const std::string value = flow_yaml(set.raw(key));
    check_override(c.base_config, key, value, doc.source_of("set." + key), "set." + key);
    c.set.emplace_back(key, value);
  }
  set.finish();
}

void read_grid(const config::Document& doc, Section& top, SweepConfig& c) {
  Section grid = top.section("grid");
  for (const std::string& key : keys_of(doc.root()["grid"])) {
    const YAML::Node values = grid.raw(key);
    const Source where = doc.source_of("grid." + key);
    if (key == "train.seed") config::fail_at(where, "grid." + key, "use the top-level `seeds:` list for seeds");
    if (key == c.linear_key) config::fail_at(where, "grid." + key, "use `structures:` and `budgets:` for the linear spec");
    if (!values.IsSequence() || values.size() == 0) {
      config::fail_at(where, "grid." + key, "expected a non-empty list of values, e.g. [1.0e-3, 3.0e-3]");
    }
    SweepAxis axis{key, {}, where};
    for (const YAML::Node& v : values) {
      axis.values.push_back(flow_yaml(v));
      check_override(c.base_config, key, axis.values.back(), where, "grid." + key);
    }
    c.grid.push_back(std::move(axis));
  }
  grid.finish();
}

}  // namespace

std::string flow_yaml(const YAML::Node& node) {
  YAML::Emitter out;
  out.SetMapFormat(YAML::Flow);
  out.SetSeqFormat(YAML::Flow);
  out << node;
  return out.c_str();
}

SweepConfig read_sweep_config(const std::string& path) {
  const config::Document doc = config::Document::load(path);
  Section top(doc);
  SweepConfig c;
  c.file = path;

  std::string base;
  top.field<std::string>("config", base);
  if (base.empty()) top.error("config", "missing: the run config every cell starts from, e.g. `config: ../default.yaml`");
  c.base_config = (fs::path(path).parent_path() / base).lexically_normal().string();
  if (!fs::is_regular_file(c.base_config)) top.error("config", fmt::format("{}: no such file", c.base_config));
  read_run_config(config::Document::load(c.base_config));  // the base itself must be a valid run config

  top.field<std::string>("linear_key", c.linear_key);
  top.choice("metric", c.metric, {"accuracy", "loss"});
  top.field<std::vector<int64_t>>("seeds", c.seeds, [](const std::vector<int64_t>& v) {
    return v.empty() ? std::string("expected at least one seed") : std::string();
  });
  read_set(doc, top, c);

  if (top.has("budgets")) {
    c.budgets = read_budgets(doc.file(), top.raw("budgets"), doc.source_of("budgets"), "budgets");
  } else {
    top.raw("budgets");
  }
  Section structures = top.section("structures");
  for (const std::string& name : keys_of(doc.root()["structures"])) {
    c.structures.push_back(read_structure(doc, structures, name));
    const SweepStructure& s = c.structures.back();
    if (!s.dense && !s.fixed_size && s.budgets.empty() && c.budgets.empty()) {
      config::fail_at(s.source, "structures." + s.name,
                      "has no size: give it a budget (the top-level `budgets:` list, or its own `budgets:`) or a rank");
    }
  }
  structures.finish();
  if (c.structures.empty()) {
    top.error("structures", "missing: name at least one structure, e.g. `structures: {dense: {type: dense}}`");
  }
  read_grid(doc, top, c);
  top.finish();
  return c;
}

}  // namespace strata
