#include "tools/compress.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "config/config.h"
#include "core/ops.h"
#include "models/linear_roles.h"
#include "models/model.h"
#include "train/checkpoint.h"
#include "train/load_model.h"
#include "train/run_config.h"
#include "train/sweep_config.h"

namespace strata::tools {

namespace {

// --spec as a LinearSpec (errors name "--spec" and the key) and as YAML.
struct ParsedSpec {
  LinearSpec spec;
  YAML::Node node;
};

ParsedSpec parse_spec(const std::string& text) {
  const config::Document doc = config::Document::parse(text, "--spec");
  config::Section section(doc);
  ParsedSpec p{read_linear_spec(section), YAML::Clone(doc.root())};
  if (p.spec.type == "dense") fail("--spec", "{}: compressing to dense changes nothing; name a structure", text);
  return p;
}

void check_roles(const std::vector<std::string>& roles, const std::vector<NamedLinear>& linears) {
  std::vector<std::string> known;
  for (const NamedLinear& l : linears) {
    if (std::find(known.begin(), known.end(), l.role) == known.end()) known.push_back(l.role);
  }
  for (const std::string& role : roles) {
    if (std::find(known.begin(), known.end(), role) != known.end()) continue;
    const std::string hint = config::closest_match(role, known);
    fail("--roles", "the model has no role '{}'{} (its roles: {})", role,
         hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint), fmt::join(known, ", "));
  }
}

// The model.linear map of the compressed model: one entry per role, the
// compressed roles with --spec, the other structured roles as before.
YAML::Node per_role_linear(const YAML::Node& old_linear, const std::vector<NamedLinear>& old_linears,
                           const std::vector<std::string>& roles, const ParsedSpec& spec) {
  YAML::Node map(YAML::NodeType::Map);
  bool shared_spec = false;
  if (old_linear && old_linear.IsMap()) {
    for (auto it = old_linear.begin(); it != old_linear.end(); ++it) {
      const std::string key = it->first.as<std::string>();
      for (const char* spec_key : {"type", "blocks", "rank", "flops_ratio", "params_ratio", "bias"}) {
        shared_spec = shared_spec || key == spec_key;  // models/linear_roles.h: a spec map, not a per-role map
      }
    }
    if (!shared_spec) map = YAML::Clone(old_linear);
  }
  for (const NamedLinear& l : old_linears) {
    const bool chosen = std::find(roles.begin(), roles.end(), l.role) != roles.end();
    if (chosen) {
      // The layer keeps its bias or its lack of one, whatever --spec says.
      YAML::Node node = YAML::Clone(spec.node);
      if (l.layer->bias.defined()) {
        node.remove("bias");
      } else {
        node["bias"] = false;
      }
      map[l.role] = node;
    } else if (shared_spec && l.spec.type != "dense") {
      map[l.role] = YAML::Clone(old_linear);  // the single spec applied to this (shared) role
    }
  }
  return map;
}

struct Row {
  std::string name, role, shape, structure;
  int64_t params = 0, flops = 0, dense_flops = 0;
  double error = 0.0;
};

void print_table(const std::vector<Row>& rows, const Model& before, const Model& after) {
  size_t name_w = 5, structure_w = 9;
  for (const Row& r : rows) name_w = std::max(name_w, r.name.size()), structure_w = std::max(structure_w, r.structure.size());
  const std::string header = fmt::format("{:<{}}  {:<8}  {:<12}  {:<{}}  {:>9}  {:>11}  {:>8}  {:>9}", "layer", name_w,
                                         "role", "shape", "structure", structure_w, "params", "FLOPs", "vs dense",
                                         "rel.error");
  fmt::print("{}\n{}\n", header, std::string(header.size(), '-'));
  double error_sum = 0.0;
  for (const Row& r : rows) {
    fmt::print("{:<{}}  {:<8}  {:<12}  {:<{}}  {:>9}  {:>11}  {:>8.3f}  {:>9.4f}\n", r.name, name_w, r.role, r.shape,
               r.structure, structure_w, r.params, r.flops, double(r.flops) / double(r.dense_flops), r.error);
    error_sum += r.error;
  }
  fmt::print("{}\n", std::string(header.size(), '-'));
  fmt::print("{} layers projected, mean relative error {:.4f}\n", rows.size(), rows.empty() ? 0.0 : error_sum / double(rows.size()));
  const double dense = double(before.dense_flops_per_sample());
  fmt::print("model params  {:>11} -> {:>11}  ({:.3f}x)\n", before.num_parameters(), after.num_parameters(),
             double(after.num_parameters()) / double(before.num_parameters()));
  fmt::print("model FLOPs   {:>11} -> {:>11}  ({:.3f} -> {:.3f} of the all-dense model; forward, per sample)\n",
             before.flops_per_sample(), after.flops_per_sample(), double(before.flops_per_sample()) / dense,
             double(after.flops_per_sample()) / dense);
}

}  // namespace

CLI::App* add_compress_command(CLI::App& app, CompressCommandOptions& o) {
  CLI::App* compress = app.add_subcommand(
      "compress", "Project a trained model's linears onto a structure (from_dense) and write a checkpoint to re-train");
  compress->add_option("--checkpoint", o.checkpoint, "trained checkpoint (e.g. runs/NAME/checkpoints/last.safetensors)")
      ->required()
      ->check(CLI::ExistingFile);
  compress->add_option("--spec", o.spec, "target structure, e.g. '{type: blast, blocks: 3, flops_ratio: 0.5}'")->required();
  compress->add_option("--roles", o.roles, "roles to compress (comma-separated)")
      ->delimiter(',')
      ->capture_default_str();
  compress->add_option("--out", o.out, "checkpoint to write")->required();
  return compress;
}

int run_compress(const CompressCommandOptions& o) {
  const ParsedSpec spec = parse_spec(o.spec);
  const CheckpointModel trained = load_model(o.checkpoint);
  const std::vector<NamedLinear> old_linears = trained.model->structured_linears();
  check_roles(o.roles, old_linears);

  // The compressed model's config: its stored config with the new specs.
  config::Document doc = config::Document::parse(trained.state.config_yaml, o.checkpoint + " (stored config)");
  const YAML::Node linear = per_role_linear(doc.root()["model"]["linear"], old_linears, o.roles, spec);
  doc.set("model.linear", flow_yaml(linear));
  const RunConfig new_config = read_run_config(std::move(doc));
  // Models are built on the Model interface, so any architecture build_model
  // knows works here; the generator outlives the model that points to it.
  Generator generator(uint64_t(new_config.train.seed));
  const std::unique_ptr<Model> after = build_model(new_config, new_config.image, &generator);

  // Project each chosen linear; its tensors replace the new model's fresh ones.
  std::map<std::string, Tensor> projected;  // new model's state-dict key -> tensor
  std::map<std::string, Tensor> targets;    // layer name -> its dense weight
  for (const NamedLinear& l : old_linears) {
    if (std::find(o.roles.begin(), o.roles.end(), l.role) == o.roles.end()) continue;
    LinearSpec layer_spec = spec.spec;
    layer_spec.bias = l.layer->bias.defined();
    Tensor weight = l.layer->to_dense();
    Projection p = from_dense(weight, layer_spec);
    if (layer_spec.bias) ops::copy_(p.layer->bias, l.layer->bias);
    for (const auto& [key, tensor] : p.layer->state_dict()) projected[l.name + "." + key] = tensor;
    targets[l.name] = weight;
  }
  CheckpointState out;
  for (const auto& [key, fresh] : after->state_dict()) {
    if (auto it = projected.find(key); it != projected.end()) {
      out.model.insert(key, it->second);
    } else if (const Tensor* kept = trained.state.model.find(key)) {
      out.model.insert(key, *kept);
    } else {
      fail("compress", "{}: the compressed model has a tensor {} that neither the checkpoint nor a projection has",
           o.checkpoint, key);
    }
  }
  restore_model(*after, out);  // checks every key and shape

  std::vector<Row> rows;
  std::map<std::string, LayerCost> costs;
  for (const LayerCost& c : after->layer_costs()) costs[c.name] = c;
  for (const NamedLinear& l : after->structured_linears()) {
    auto target = targets.find(l.name);
    if (target == targets.end()) continue;
    const LayerCost& c = costs.at(l.name);
    rows.push_back(Row{l.name, l.role, c.shape, c.structure, c.params, c.flops, c.dense_flops,
                       relative_error(target->second, l.layer->to_dense())});
  }
  print_table(rows, *trained.model, *after);

  out.step = 0;
  out.config_yaml = resolved_yaml(new_config);
  out.extra["compressed_from"] = o.checkpoint;
  out.extra["compress_spec"] = o.spec;
  save_checkpoint(o.out, out);
  fmt::print("\nwrote {}\n  evaluate:  strata eval --checkpoint {}\n  re-train:  strata train --init {} "
             "--set train.epochs=1\n", o.out, o.out, o.out);
  return 0;
}

}  // namespace strata::tools
