#include "train/sweep_results.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "models/model.h"
#include "data/atomic_file.h"
#include "train/run_config.h"
#include "train/sweep_runner.h"

namespace strata {

namespace fs = std::filesystem;

namespace {

// Parameters and FLOPs of the cell's model, built as `strata info` builds it
// (from the config alone, with the image shape its data section implies).
void fill_costs(const SweepConfig& sweep, SweepResult& r) {
  const RunConfig config = read_run_config(cell_document(sweep, r.cell));
  Generator generator(uint64_t(config.train.seed));
  const std::unique_ptr<Model> model = build_model(config, config.image, &generator);
  r.params = model->num_parameters();
  r.flops = model->flops_per_sample();
  const int64_t dense = model->dense_flops_per_sample();
  r.relative_flops = dense > 0 ? double(r.flops) / double(dense) : 0.0;
}

std::string status_of(const CellRecord& record) {
  if (record.finished) return "finished";
  if (record.attempts == 0) return "pending";
  return record.exit_code > 128 ? "stopped" : "failed";
}

// A CSV field, quoted when it holds a comma, quote or newline (RFC 4180).
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char ch : text) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

std::string optional_number(const std::optional<double>& v) { return v ? fmt::format("{:.6g}", *v) : ""; }

}  // namespace

MetricSummary summarize_test_metric(const std::string& metrics_path, const std::string& metric) {
  MetricSummary s;
  std::ifstream in(metrics_path);
  const bool higher_is_better = metric == "accuracy";
  for (std::string line; std::getline(in, line);) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception&) {
      continue;  // a run killed mid-write may leave a partial last line
    }
    if (j.value("split", "") != "test" || !j.contains(metric) || !j[metric].is_number()) continue;
    const double v = j[metric].get<double>();
    s.final = v;
    if (!s.best || (higher_is_better ? v > *s.best : v < *s.best)) s.best = v;
  }
  return s;
}

std::vector<SweepResult> collect_results(const SweepConfig& sweep, const std::vector<SweepCell>& cells,
                                         const std::string& out_dir) {
  std::vector<SweepResult> results;
  for (const SweepCell& cell : cells) {
    SweepResult r;
    r.cell = cell;
    r.run_dir = cell_folder(out_dir, cell);
    fill_costs(sweep, r);
    const CellRecord record = read_cell_record(r.run_dir);
    r.status = status_of(record);
    r.wall_seconds = record.wall_seconds;
    const MetricSummary m = summarize_test_metric((fs::path(r.run_dir) / "metrics.jsonl").string(), sweep.metric);
    r.best = m.best;
    r.final = m.final;
    results.push_back(std::move(r));
  }
  return results;
}

void write_results_csv(const std::string& path, const SweepConfig& sweep, const std::vector<SweepResult>& results) {
  std::string text = "cell,structure,spec,budget";
  for (const SweepAxis& axis : sweep.grid) text += fmt::format(",{}", csv_field(axis.key));
  text += ",seed,params,flops,relative_flops,metric,best,final,wall_seconds,status,run_dir\n";
  for (const SweepResult& r : results) {
    text += fmt::format("{},{},{},{}", csv_field(r.cell.name), csv_field(r.cell.structure), csv_field(r.cell.spec),
                        csv_field(r.cell.budget));
    for (const auto& [key, value] : r.cell.axes) text += fmt::format(",{}", csv_field(value));
    text += fmt::format(",{},{},{},{:.6f},{},{},{},{:.1f},{},{}\n", r.cell.seed, r.params, r.flops, r.relative_flops,
                        sweep.metric, optional_number(r.best), optional_number(r.final), r.wall_seconds, r.status,
                        csv_field(r.run_dir));
  }
  data::AtomicFile file(path);
  file.write(text.data(), text.size());
  file.commit();
}

}  // namespace strata
