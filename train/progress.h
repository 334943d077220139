#pragma once
// Progress: what a person watching a run sees on stdout.
//
// On a terminal (isatty), one status line redrawn in place at most ten times
// a second:
//   epoch 3/10 [========>           ] 1204/4690 26% | loss 0.4123 | acc 85.1% | lr 1.20e-03 | 1234 img/s | ETA 3m12s
// (language models: tok/s, and acc is next-token accuracy)
// Otherwise (a pipe, a file, CI) a plain line every `log every` steps:
//   step 1204/4690 | epoch 2.57 | loss 0.4123 | acc 85.1% | lr 1.20e-03 | 1234 img/s | ETA 3m12s
// Other messages (evaluations, checkpoints) go through print(), which keeps
// the bar below them. Mode "auto" picks by isatty(stdout); "always" draws
// the bar, "never" prints plain lines.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace strata {

struct ProgressInfo {
  int64_t step = 0;          // optimizer steps taken
  double epoch = 0.0;        // epochs consumed (fractional)
  double loss = 0.0;         // running mean since the last log line
  double accuracy = 0.0;     // same window, in [0, 1]
  double lr = 0.0;
  double items_per_second = 0.0;
  std::string unit = "img";  // what items are: img (images) or tok (predicted tokens)
};

class Progress {
 public:
  // total_steps: the run's length; total_epochs may be fractional (step-
  // bounded runs). first_step: where this session starts (resumes), so the
  // ETA uses only this session's pace.
  Progress(const std::string& mode, int64_t total_steps, double total_epochs, int64_t first_step,
           FILE* out = stdout);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // After every optimizer step; `log_step` marks the steps that print a plain line.
  void update(const ProgressInfo& info, bool log_step);
  // A whole line of text above the bar.
  void print(const std::string& line);
  // Ends the bar (a newline) so later output starts on a fresh line.
  void finish();

  bool bar() const { return bar_; }

 private:
  using Clock = std::chrono::steady_clock;
  std::string eta(int64_t step) const;
  void draw();
  void clear();

  bool bar_;
  int64_t total_steps_;
  double total_epochs_;
  int64_t first_step_;
  FILE* out_;
  Clock::time_point start_, last_draw_;
  ProgressInfo last_;
  bool drawn_ = false;
};

// "3m12s", "1h04m", "45s".
std::string format_duration(double seconds);

}  // namespace strata
