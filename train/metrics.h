#pragma once
// MetricsLog: OUT/metrics.jsonl, one JSON object per line, appended and
// flushed as training goes (so `tail -f` and a crash both see every line
// written so far). Each record has at least
//
//   step       optimizer steps taken (int)
//   epoch      epochs of the training split consumed, fractional (number)
//   split      "train" (running averages since the previous train record)
//              or "test" (a full pass over the evaluation split)
//   loss       mean soft-target cross-entropy per sample
//   accuracy   fraction of samples whose arg-max logit is their label, in [0, 1]
//   lr         learning rate of the last step
//   time       seconds of training since the run started (resumes continue it)
//
// and optionally more keys (train: img_per_s, grad_norm; test: count).
// Python: pandas.read_json("metrics.jsonl", lines=True).
#include <nlohmann/json.hpp>

#include <cstdint>
#include <fstream>
#include <string>

namespace strata {

struct MetricsRecord {
  int64_t step = 0;
  double epoch = 0.0;
  std::string split = "train";
  double loss = 0.0;
  double accuracy = 0.0;
  double lr = 0.0;
  double time = 0.0;
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();  // further keys, written after the required ones

  nlohmann::ordered_json to_json() const;
};

class MetricsLog {
 public:
  // Opens `path` for appending (created when absent).
  explicit MetricsLog(const std::string& path);
  void write(const MetricsRecord& record);
  const std::string& path() const { return path_; }

  // Drops every line whose step is greater than `step` (what a resumed run
  // will write again after restarting from a checkpoint at `step`); lines
  // that do not parse are dropped too (a crash may cut the last one short).
  static void truncate_after(const std::string& path, int64_t step);

 private:
  std::string path_;
  std::ofstream out_;
};

}  // namespace strata
