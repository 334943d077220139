#include "train/metrics.h"

#include "core/error.h"
#include "data/atomic_file.h"

namespace strata {

nlohmann::ordered_json MetricsRecord::to_json() const {
  // Ordered, so the required keys come first in the documented order.
  nlohmann::ordered_json j;
  j["step"] = step;
  j["epoch"] = epoch;
  j["split"] = split;
  j["loss"] = loss;
  j["accuracy"] = accuracy;
  j["lr"] = lr;
  j["time"] = time;
  for (const auto& [key, value] : extra.items()) j[key] = value;
  return j;
}

MetricsLog::MetricsLog(const std::string& path) : path_(path), out_(path, std::ios::app) {
  if (!out_) fail("metrics", "{}: cannot open for appending", path);
}

void MetricsLog::write(const MetricsRecord& record) {
  out_ << record.to_json().dump() << '\n';
  out_.flush();
  if (!out_) fail("metrics", "{}: write failed", path_);
}

void MetricsLog::truncate_after(const std::string& path, int64_t step) {
  std::ifstream in(path);
  if (!in) return;  // nothing logged yet
  std::string kept;
  for (std::string line; std::getline(in, line);) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("step") || !j["step"].is_number_integer()) continue;
    if (j["step"].get<int64_t>() > step) continue;
    kept += line + '\n';
  }
  in.close();
  data::AtomicFile file(path);
  file.write(kept.data(), kept.size());
  file.commit();
}

}  // namespace strata
