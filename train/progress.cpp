#include "train/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace strata {

namespace {

constexpr int kBarWidth = 20;
constexpr double kRedrawSeconds = 0.1;

bool use_bar(const std::string& mode, FILE* out) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  return isatty(fileno(out)) != 0;
}

std::string metrics_text(const ProgressInfo& i) {
  return fmt::format("loss {:.4f} | acc {:5.1f}% | lr {:.2e} | {:.0f} {}/s", i.loss, 100.0 * i.accuracy, i.lr,
                     i.items_per_second, i.unit);
}

}  // namespace

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  auto s = int64_t(std::llround(seconds));
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02d}s", s / 60, s % 60);
  return fmt::format("{}h{:02d}m", s / 3600, (s % 3600) / 60);
}

Progress::Progress(const std::string& mode, int64_t total_steps, double total_epochs, int64_t first_step, FILE* out)
    : bar_(use_bar(mode, out)),
      total_steps_(std::max<int64_t>(total_steps, 1)),
      total_epochs_(total_epochs),
      first_step_(first_step),
      out_(out),
      start_(Clock::now()),
      last_draw_(start_ - std::chrono::seconds(1)) {}

Progress::~Progress() { finish(); }

std::string Progress::eta(int64_t step) const {
  const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  const int64_t done = step - first_step_;
  if (done <= 0) return "?";
  return format_duration(elapsed / double(done) * double(total_steps_ - step));
}

void Progress::update(const ProgressInfo& info, bool log_step) {
  last_ = info;
  if (!bar_) {
    if (log_step) {
      fmt::print(out_, "step {}/{} | epoch {:.2f} | {} | ETA {}\n", info.step, total_steps_, info.epoch,
                 metrics_text(info), eta(info.step));
      std::fflush(out_);
    }
    return;
  }
  const auto now = Clock::now();
  if (info.step < total_steps_ && std::chrono::duration<double>(now - last_draw_).count() < kRedrawSeconds) return;
  last_draw_ = now;
  draw();
}

void Progress::draw() {
  const ProgressInfo& i = last_;
  const double fraction = std::clamp(double(i.step) / double(total_steps_), 0.0, 1.0);
  const int filled = int(fraction * kBarWidth);
  std::string bar(size_t(filled), '=');
  if (filled < kBarWidth) bar += '>';
  bar.resize(kBarWidth, ' ');
  const int64_t epoch = std::min<int64_t>(int64_t(i.epoch) + 1, int64_t(std::ceil(total_epochs_)));
  // \r and "erase to end of line": the line is redrawn in place.
  fmt::print(out_, "\r\x1b[Kepoch {}/{} [{}] {}/{} {:.0f}% | {} | ETA {}", std::max<int64_t>(epoch, 1),
             int64_t(std::ceil(total_epochs_)), bar, i.step, total_steps_, 100.0 * fraction, metrics_text(i),
             eta(i.step));
  std::fflush(out_);
  drawn_ = true;
}

void Progress::clear() {
  if (bar_ && drawn_) fmt::print(out_, "\r\x1b[K");
}

void Progress::print(const std::string& line) {
  clear();
  fmt::print(out_, "{}\n", line);
  if (bar_ && drawn_) draw();
  std::fflush(out_);
}

void Progress::finish() {
  if (bar_ && drawn_) {
    draw();
    fmt::print(out_, "\n");
    std::fflush(out_);
  }
  drawn_ = false;
}

}  // namespace strata
