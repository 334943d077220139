#include "train/sweep_grid.h"

#include <cctype>
#include <set>

#include "train/run_config.h"

namespace strata {

namespace {

// A value as it may appear in a folder name: "1.0e-3" stays, "{a: 1}" -> "-a-1-".
std::string name_part(const std::string& text) {
  std::string out;
  for (char ch : text) {
    const bool keep = std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == '-';
    out += keep ? ch : '-';
  }
  return out;
}

// "flops_ratio" -> "flops", "params_ratio" -> "params", "rank" -> "r", "blocks" -> "b".
std::string budget_abbreviation(const std::string& key) {
  if (key == "flops_ratio") return "flops";
  if (key == "params_ratio") return "params";
  if (key == "rank") return "r";
  if (key == "blocks") return "b";
  return key;
}

struct Budget {
  YAML::Node node;  // null: the spec as written
  std::string label, name;
};

// The budgets a structure runs at: none for dense and fixed-size specs.
std::vector<Budget> budgets_of(const SweepConfig& sweep, const SweepStructure& s) {
  if (s.dense || s.fixed_size) return {Budget{}};
  std::vector<Budget> out;
  for (const YAML::Node& node : s.budgets.empty() ? sweep.budgets : s.budgets) {
    Budget b{node, "", ""};
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string key = it->first.as<std::string>(), value = it->second.as<std::string>();
      b.label += (b.label.empty() ? "" : " ") + key + "=" + value;
      b.name += budget_abbreviation(key) + name_part(value);
    }
    out.push_back(std::move(b));
  }
  return out;
}

// The spec with the budget's keys merged in (the budget wins).
std::string spec_text(const SweepStructure& s, const Budget& budget) {
  YAML::Node spec = YAML::Clone(s.spec);
  if (budget.node) {
    for (auto it = budget.node.begin(); it != budget.node.end(); ++it) spec[it->first.as<std::string>()] = it->second;
  }
  return flow_yaml(spec);
}

// Every combination of the further axes' values (one empty combination when there are none).
std::vector<std::vector<std::pair<std::string, std::string>>> axis_combinations(const std::vector<SweepAxis>& grid) {
  std::vector<std::vector<std::pair<std::string, std::string>>> out{{}};
  for (const SweepAxis& axis : grid) {
    std::vector<std::vector<std::pair<std::string, std::string>>> next;
    for (const auto& partial : out) {
      for (const std::string& value : axis.values) {
        next.push_back(partial);
        next.back().emplace_back(axis.key, value);
      }
    }
    out = std::move(next);
  }
  return out;
}

// "optim.lr" -> "lr".
std::string last_component(const std::string& key) {
  const size_t dot = key.rfind('.');
  return dot == std::string::npos ? key : key.substr(dot + 1);
}

}  // namespace

std::vector<SweepCell> expand_grid(const SweepConfig& sweep) {
  std::vector<SweepCell> cells;
  std::set<std::string> names;
  const auto combinations = axis_combinations(sweep.grid);
  for (const int64_t seed : sweep.seeds) {
    for (const SweepStructure& s : sweep.structures) {
      for (const Budget& budget : budgets_of(sweep, s)) {
        for (const auto& axes : combinations) {
          SweepCell cell;
          cell.structure = s.name;
          cell.spec = spec_text(s, budget);
          cell.budget = budget.label;
          cell.dense = s.dense;
          cell.seed = seed;
          cell.axes = axes;
          cell.name = s.name;
          if (!budget.name.empty()) cell.name += fmt::format("_{}", budget.name);
          for (const auto& [key, value] : axes) {
            cell.name += fmt::format("_{}{}", name_part(last_component(key)), name_part(value));
          }
          cell.name += fmt::format("_seed{}", seed);
          for (const auto& [key, value] : sweep.set) cell.overrides.push_back(key + "=" + value);
          cell.overrides.push_back(sweep.linear_key + "=" + cell.spec);
          for (const auto& [key, value] : axes) cell.overrides.push_back(key + "=" + value);
          cell.overrides.push_back(fmt::format("train.seed={}", seed));
          if (!names.insert(cell.name).second) {
            config::fail_at(s.source, "structures." + s.name,
                            fmt::format("two cells would both be named {}: a seed, budget or grid value is "
                                        "repeated, or two grid keys end in the same name", cell.name));
          }
          cells.push_back(std::move(cell));
        }
      }
    }
  }
  return cells;
}

config::Document cell_document(const SweepConfig& sweep, const SweepCell& cell) {
  config::Document doc = config::Document::load(sweep.base_config);
  for (const std::string& assignment : cell.overrides) doc.apply_override(assignment);
  return doc;
}

void check_cells(const SweepConfig& sweep, const std::vector<SweepCell>& cells) {
  for (const SweepCell& cell : cells) {
    try {
      read_run_config(cell_document(sweep, cell));
    } catch (const Error& e) {
      const SweepStructure* s = nullptr;
      for (const SweepStructure& candidate : sweep.structures) {
        if (candidate.name == cell.structure) s = &candidate;
      }
      config::fail_at(s ? s->source : config::Source{sweep.file, 0, 0}, "structures." + cell.structure,
                      fmt::format("cell {} ({}={}) cannot run: {}", cell.name, sweep.linear_key, cell.spec, e.what()));
    }
  }
}

}  // namespace strata
