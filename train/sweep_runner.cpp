#include "train/sweep_runner.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "data/atomic_file.h"
#include "train/checkpoint.h"

namespace strata {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void sweep_on_stop_signal(int signal_number) { g_stop_signal = signal_number; }

// Catches SIGINT/SIGTERM for the sweep's lifetime (the handlers only record
// the signal; the loop forwards it), restoring the previous handlers after.
class StopSignals {
 public:
  StopSignals() {
    g_stop_signal = 0;
    struct sigaction action {};
    action.sa_handler = sweep_on_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int_);
    sigaction(SIGTERM, &action, &old_term_);
  }
  ~StopSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  struct sigaction old_int_ {}, old_term_ {};
};

void write_cell_record(const std::string& folder, const CellRecord& r) {
  nlohmann::ordered_json j;
  j["name"] = r.name;
  j["overrides"] = r.overrides;
  j["attempts"] = r.attempts;
  j["wall_seconds"] = r.wall_seconds;
  j["exit_code"] = r.exit_code;
  j["finished"] = r.finished;
  const std::string text = j.dump(2) + "\n";
  data::AtomicFile file((fs::path(folder) / "cell.json").string());
  file.write(text.data(), text.size());
  file.commit();
}

// The command line of one attempt: resume from the cell's checkpoint when it
// has one, else start afresh in its folder.
std::vector<std::string> train_arguments(const SweepConfig& sweep, const SweepCell& cell, const std::string& folder,
                                         const std::string& binary, int64_t threads, bool resume) {
  std::vector<std::string> args{binary, "train", sweep.base_config, "--out", folder};
  if (resume) {
    args.insert(args.end(), {"--resume", folder});
  } else {
    args.push_back("--overwrite");
  }
  for (const std::string& assignment : cell.overrides) args.insert(args.end(), {"--set", assignment});
  args.insert(args.end(), {"--set", fmt::format("train.threads={}", threads), "--set", "log.progress=never"});
  return args;
}

// Quotes an argument for the log's copy-paste line.
std::string shell_word(const std::string& word) {
  if (word.find_first_of(" {}[]:,'\"$*?&|;<>()") == std::string::npos && !word.empty()) return word;
  std::string out = "'";
  for (char ch : word) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

// Starts a child whose stdout and stderr append to `log`.
pid_t spawn(const std::vector<std::string>& args, const std::string& log) {
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) fail("sweep", "{}: cannot open the cell's log: {}", log, std::strerror(errno));
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fd);
    fail("sweep", "fork failed: {}", std::strerror(errno));
  }
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    ::setpgid(0, 0);                       // a terminal's Ctrl-C goes to the sweep, which forwards it once
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);    // a sweep killed outright still stops its cells
    if (::getppid() != parent) ::_exit(128 + SIGTERM);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    ::execv(argv[0], argv.data());
    const char message[] = "strata sweep: cannot run the strata binary\n";
    [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, message, sizeof(message) - 1);
    ::_exit(127);
  }
  ::close(fd);
  return pid;
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::string seconds_text(double s) { return s < 120 ? fmt::format("{:.0f} s", s) : fmt::format("{:.1f} min", s / 60); }

struct Running {
  pid_t pid;
  const SweepCell* cell;
  std::string folder;
  CellRecord record;
  Clock::time_point start;
};

// Starts one attempt of a cell: resumes from its checkpoint when it has one.
Running start_cell(const SweepConfig& sweep, const SweepCell& cell, CellRecord record, const SweepRunOptions& options,
                   int64_t threads, bool& resumed) {
  const std::string folder = cell_folder(options.out_dir, cell);
  fs::create_directories(folder);
  resumed = CheckpointManager((fs::path(folder) / "checkpoints").string()).latest().has_value();
  const std::vector<std::string> args = train_arguments(sweep, cell, folder, options.binary, threads, resumed);
  const std::string log = (fs::path(folder) / "train.log").string();
  {
    std::ofstream header(log, std::ios::app);
    std::vector<std::string> words;
    for (const std::string& a : args) words.push_back(shell_word(a));
    header << fmt::format("== strata sweep: attempt {}: {}\n", record.attempts + 1, fmt::join(words, " "));
  }
  ++record.attempts;
  record.finished = false;
  write_cell_record(folder, record);  // counts the attempt even if the sweep is killed outright
  return Running{spawn(args, log), &cell, folder, std::move(record), Clock::now()};
}

// Records how an attempt ended; returns its wall seconds.
double finish_cell(Running& r, int status) {
  const double seconds = std::chrono::duration<double>(Clock::now() - r.start).count();
  r.record.wall_seconds += seconds;
  r.record.exit_code = exit_code_of(status);
  r.record.finished = r.record.exit_code == 0;
  write_cell_record(r.folder, r.record);
  return seconds;
}

}  // namespace

std::string cell_folder(const std::string& out_dir, const SweepCell& cell) {
  return (fs::path(out_dir) / "cells" / cell.name).string();
}

CellRecord read_cell_record(const std::string& folder) {
  CellRecord r;
  const std::string path = (fs::path(folder) / "cell.json").string();
  std::ifstream in(path);
  if (!in) return r;
  try {
    const nlohmann::json j = nlohmann::json::parse(in);
    r.name = j.at("name").get<std::string>();
    r.overrides = j.at("overrides").get<std::vector<std::string>>();
    r.attempts = j.at("attempts").get<int64_t>();
    r.wall_seconds = j.at("wall_seconds").get<double>();
    r.exit_code = j.at("exit_code").get<int>();
    r.finished = j.at("finished").get<bool>();
  } catch (const nlohmann::json::exception& e) {
    fail("sweep", "{}: not a cell record ({}); delete it to rerun the cell", path, e.what());
  }
  return r;
}

SweepRunSummary run_sweep_cells(const SweepConfig& sweep, const std::vector<SweepCell>& cells,
                                const SweepRunOptions& options) {
  if (options.jobs < 1) fail("sweep", "--jobs must be >= 1, got {}", options.jobs);
  const int64_t total_threads = options.threads > 0 ? options.threads : int64_t(std::thread::hardware_concurrency());
  const int64_t threads = std::max<int64_t>(1, total_threads / options.jobs);

  // Which cells still need running; an earlier OUT made by another sweep file is refused up front.
  SweepRunSummary summary;
  std::vector<std::pair<const SweepCell*, CellRecord>> pending;
  for (const SweepCell& cell : cells) {
    const std::string folder = cell_folder(options.out_dir, cell);
    CellRecord record = read_cell_record(folder);
    if (record.attempts > 0 && record.overrides != cell.overrides) {
      fail("sweep", "{}: this cell was run with other settings ({}), the sweep file has changed since; use another "
           "--out, or delete the folder to rerun it", folder, fmt::join(record.overrides, " "));
    }
    if (record.finished) {
      ++summary.skipped;
      continue;
    }
    record.name = cell.name;
    record.overrides = cell.overrides;
    pending.emplace_back(&cell, std::move(record));
  }
  if (summary.skipped > 0) options.say(fmt::format("{} of {} cells already finished: skipped", summary.skipped, cells.size()));
  if (pending.empty()) return summary;
  options.say(fmt::format("running {} cells, {} at a time, {} thread{} each", pending.size(), options.jobs, threads,
                          threads == 1 ? "" : "s"));

  StopSignals signals;
  std::vector<Running> running;
  size_t next = 0;
  int64_t done = summary.skipped;
  bool forwarded = false;
  // "[3/22] blast_flops0.5_seed0": the cell's place in the grid.
  auto tag = [&](const SweepCell& cell) {
    return fmt::format("[{}/{}] {}", &cell - cells.data() + 1, cells.size(), cell.name);
  };
  while (true) {
    if (g_stop_signal != 0 && !forwarded) {
      options.say(fmt::format("signal {}: stopping {} running cell(s); they write a checkpoint", int(g_stop_signal),
                              running.size()));
      for (const Running& r : running) ::kill(r.pid, int(g_stop_signal));
      forwarded = true;
    }
    while (g_stop_signal == 0 && running.size() < size_t(options.jobs) && next < pending.size()) {
      auto& [cell, record] = pending[next++];
      bool resumed = false;
      running.push_back(start_cell(sweep, *cell, record, options, threads, resumed));
      const int64_t attempt = running.back().record.attempts;
      options.say(fmt::format("{}: {}{}", tag(*cell), resumed ? "resuming from its checkpoint" : "started",
                              attempt > 1 ? fmt::format(" (attempt {})", attempt) : ""));
    }
    if (running.empty()) break;
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid == 0 || (pid < 0 && errno == EINTR)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    if (pid < 0) fail("sweep", "waitpid failed: {}", std::strerror(errno));
    auto it = std::find_if(running.begin(), running.end(), [pid](const Running& r) { return r.pid == pid; });
    if (it == running.end()) continue;  // not one of ours
    Running r = std::move(*it);
    running.erase(it);
    const double seconds = finish_cell(r, status);
    const std::string log = (fs::path(r.folder) / "train.log").string();
    if (r.record.finished) {
      ++done;
      options.say(fmt::format("{}: finished in {} ({} of {} cells done)", tag(*r.cell), seconds_text(seconds), done,
                              cells.size()));
      ++summary.finished;
    } else if (g_stop_signal != 0) {
      options.say(fmt::format("{}: stopped (exit {}); rerun the sweep to resume it", tag(*r.cell), r.record.exit_code));
    } else {
      options.say(fmt::format("{}: FAILED (exit {}), see {}", tag(*r.cell), r.record.exit_code, log));
      summary.failed.push_back(fmt::format("{} ({})", r.cell->name, log));
    }
  }
  summary.stop_signal = int(g_stop_signal);
  return summary;
}

}  // namespace strata
