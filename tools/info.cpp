#include "tools/info.h"

#include <fmt/format.h>

#include <algorithm>

#include "config/config.h"
#include "data/data_config.h"
#include "models/model_factory.h"
#include "train/run_config.h"
#ifdef STRATA_HAS_CUDA
#include "core/cuda/cuda_api.h"
#endif

namespace strata::tools {

namespace {

// 21342346 -> "21,342,346".
std::string with_commas(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

// 57515520 -> "57.52 M".
std::string si(double value) {
  const char* units[] = {"", " k", " M", " G", " T"};
  int u = 0;
  while (std::abs(value) >= 1000.0 && u < 4) value /= 1000.0, ++u;
  return u == 0 ? fmt::format("{:.0f}", value) : fmt::format("{:.2f}{}", value, units[u]);
}

std::string ratio(int64_t part, int64_t whole) { return whole > 0 ? fmt::format("{:.3f}", double(part) / double(whole)) : "-"; }

// Minimal JSON string escaping (names and structures are plain ASCII).
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "\"";
}

struct Totals {
  int64_t params = 0, flops = 0, dense_params = 0, dense_flops = 0;
};

Totals totals_of(const std::vector<LayerCost>& rows) {
  Totals t;
  for (const LayerCost& r : rows) {
    t.params += r.params;
    t.flops += r.flops;
    t.dense_params += r.dense_params;
    t.dense_flops += r.dense_flops;
  }
  return t;
}

void print_table(const Model& model, const std::vector<LayerCost>& rows) {
  size_t name_w = 5, structure_w = 9, shape_w = 5;
  for (const LayerCost& r : rows) {
    name_w = std::max(name_w, r.name.size());
    structure_w = std::max(structure_w, r.structure.size());
    shape_w = std::max(shape_w, r.shape.size());
  }
  fmt::print("{}\n\n", model.describe());
  const std::string header = fmt::format("{:<{}}  {:<{}}  {:<{}}  {:>12}  {:>12}  {:>9}", "layer", name_w, "structure",
                                         structure_w, "shape", shape_w, "params", "FLOPs", "vs dense");
  fmt::print("{}\n{}\n", header, std::string(header.size(), '-'));
  for (const LayerCost& r : rows) {
    fmt::print("{:<{}}  {:<{}}  {:<{}}  {:>12}  {:>12}  {:>9}\n", r.name, name_w, r.structure, structure_w, r.shape,
               shape_w, with_commas(r.params), r.flops > 0 ? si(double(r.flops)) : "-",
               r.linear ? ratio(r.flops, r.dense_flops) : "");
  }
  const Totals t = totals_of(rows);
  fmt::print("{}\n", std::string(header.size(), '-'));
  const size_t label_w = name_w + structure_w + shape_w + 4;
  fmt::print("{:<{}}  {:>12}  {:>12}\n", "total", label_w, with_commas(t.params), si(double(t.flops)));
  fmt::print("{:<{}}  {:>12}  {:>12}\n", "all-dense model", label_w, with_commas(t.dense_params), si(double(t.dense_flops)));
  fmt::print("{:<{}}  {:>12}  {:>12}\n", "ratio to dense", label_w, ratio(t.params, t.dense_params),
             ratio(t.flops, t.dense_flops));
  fmt::print("\nFLOPs: forward, per sample, 2 x multiply-adds of matrix products (linears and attention).\n");
}

void print_json(const std::vector<LayerCost>& rows) {
  for (const LayerCost& r : rows) {
    fmt::print("{{\"layer\": {}, \"structure\": {}, \"shape\": {}, \"params\": {}, \"flops\": {}, "
               "\"dense_params\": {}, \"dense_flops\": {}}}\n",
               quoted(r.name), quoted(r.structure), quoted(r.shape), r.params, r.flops, r.dense_params, r.dense_flops);
  }
  const Totals t = totals_of(rows);
  fmt::print("{{\"layer\": \"total\", \"params\": {}, \"flops\": {}, \"dense_params\": {}, \"dense_flops\": {}, "
             "\"params_ratio\": {:.6f}, \"flops_ratio\": {:.6f}}}\n",
             t.params, t.flops, t.dense_params, t.dense_flops, double(t.params) / double(t.dense_params),
             double(t.flops) / double(t.dense_flops));
}

// One line per CUDA device, or one line saying why there is none.
void print_devices() {
#ifdef STRATA_HAS_CUDA
  std::string reason;
  const std::vector<cuda::DeviceInfo> devices = cuda::list_devices(&reason);
  if (devices.empty()) {
    fmt::print("no CUDA devices found: {}\n", reason);
    return;
  }
  for (const cuda::DeviceInfo& d : devices) {
    fmt::print("cuda:{}  {}  {:.1f} GiB  compute capability {}.{}  {} SMs\n", d.index, d.name,
               double(d.total_memory) / double(1 << 30), d.major, d.minor, d.multiprocessors);
  }
#else
  fmt::print("no CUDA devices (built without CUDA)\n");
#endif
}

}  // namespace

CLI::App* add_info_command(CLI::App& app, InfoCommandOptions& o) {
  CLI::App* info = app.add_subcommand(
      "info", "Per-layer parameters and FLOPs of a config's model, and their ratio to the all-dense model");
  info->add_option("config", o.config, "run config (YAML); only its model: and data: sections are read")
      ->check(CLI::ExistingFile);
  // One value per --set, so `--set k=v CONFIG` does not take CONFIG as a second override.
  info->add_option("--set", o.overrides, "override a config key, e.g. --set 'model.linear={type: blast, blocks: 3, "
                                         "flops_ratio: 0.5}' (repeatable)")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false);
  info->add_flag("--json", o.json, "one JSON object per layer, then the totals");
  info->add_flag("--devices", o.devices, "list the CUDA devices (name, memory, compute capability) and exit");
  return info;
}

int run_info(const InfoCommandOptions& o) {
  if (o.devices) {
    print_devices();
    return 0;
  }
  if (o.config.empty()) fail("info", "a run config is required (or --devices to list CUDA devices)");
  config::Document doc = config::Document::load(o.config);
  for (const std::string& assignment : o.overrides) doc.apply_override(assignment);
  config::Section top(doc);
  config::Section model_section = top.section("model");
  ImageShape shape;
  // Image models take their sizes from the data section; GPT-2's are all in its own.
  if (top.has("data") && model_kind(read_model_name(model_section)) == ModelKind::image_classifier) {
    config::Section data = top.section("data");
    shape = implied_image_shape(data::read_data_config(data));
  }
  std::unique_ptr<Model> model = make_model(model_section, shape);
  const std::vector<LayerCost> rows = model->layer_costs();
  if (o.json) print_json(rows);
  else print_table(*model, rows);
  return 0;
}

}  // namespace strata::tools
