// `strata sweep`, `strata plot` and `strata compress` run as a user runs
// them (the built binary) on the generated CIFAR fixture with a tiny ViT:
// a sweep stopped after its first cell and started again reruns nothing
// finished; results.csv has its schema and a row per cell; the figures are
// PNGs of the stated size; a compressed checkpoint holds layers whose
// to_dense matches the reported error, and `strata train --init` and
// `strata eval` accept it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "models/model.h"
#include "tests/support/cli.h"
#include "tests/train/train_fixtures.h"
#include "train/checkpoint.h"
#include "train/run_config.h"
#include "train/sweep_runner.h"

namespace strata {
namespace {

using data::testing::TempDir;
namespace fs = std::filesystem;

using testing::Command;
using testing::run_strata;


std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Width and height from a PNG's IHDR chunk; {0, 0} when the file is not a PNG.
std::pair<uint32_t, uint32_t> png_size(const std::string& path) {
  const std::string bytes = read_text(path);
  const std::string signature = "\x89PNG\r\n\x1a\n";
  if (bytes.size() < 24 || bytes.compare(0, 8, signature) != 0 || bytes.compare(12, 4, "IHDR") != 0) return {0, 0};
  auto be32 = [&](size_t at) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) v = (v << 8) | uint8_t(bytes[at + i]);
    return v;
  };
  return {be32(16), be32(20)};
}

// CSV fields of one line (RFC 4180 quoting).
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char ch = line[i];
    if (quoted && ch == '"' && i + 1 < line.size() && line[i + 1] == '"') fields.back() += '"', ++i;
    else if (ch == '"') quoted = !quoted;
    else if (ch == ',' && !quoted) fields.emplace_back();
    else fields.back() += ch;
  }
  return fields;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The fixture, a tiny base run config over it (checkpoints every 20 steps,
// so a stopped cell resumes) and a sweep of 4 cells.
struct SweepWorkspace {
  TempDir dir;
  std::string base = dir / "base.yaml";
  std::string sweep = dir / "sweep.yaml";
  std::string out = dir / "out";
  explicit SweepWorkspace(int64_t steps) {
    testing::write_cifar10_fixture(dir / "cifar", 20, 20);
    std::ofstream(base) << testing::tiny_run_config(dir / "cifar", steps);
    std::ofstream(sweep) << fmt::format(R"(config: base.yaml
set:
  checkpoint.every_steps: 20
  eval.every_steps: {}
  log.every_steps: 10
structures:
  dense: {{type: dense}}
  low_rank: {{type: low_rank}}
budgets: [{{flops_ratio: 0.5}}]
seeds: [0, 1]
)",
                                        steps / 2);
  }
  std::string cell(const std::string& name) const { return out + "/cells/" + name; }
};

bool finished(const std::string& cell_folder) { return read_cell_record(cell_folder).finished; }

// Starts `strata sweep` in the background (output to `log`); returns its pid.
pid_t start_sweep(const SweepWorkspace& w, const std::string& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    ::execl(STRATA_BINARY, STRATA_BINARY, "sweep", w.sweep.c_str(), "--out", w.out.c_str(), "--jobs", "1",
            "--threads", "1", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

TEST(SweepCli, StoppedSweepResumesWithoutRerunningFinishedCells) {
  SweepWorkspace w(400);
  const std::string first = w.cell("dense_seed0"), second = w.cell("low_rank_flops0.5_seed0");
  const pid_t pid = start_sweep(w, w.dir / "sweep1.log");
  // Stop the sweep once its first cell has finished and the second has checkpointed.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!(finished(first) && fs::exists(second + "/checkpoints/last.safetensors")) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(finished(first)) << read_text(w.dir / "sweep1.log");
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  const std::string log1 = read_text(w.dir / "sweep1.log");
  ASSERT_TRUE(WIFEXITED(status)) << log1;
  if (WEXITSTATUS(status) == 0) GTEST_SKIP() << "the sweep finished before it could be stopped: " << log1;
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM) << log1;
  EXPECT_FALSE(finished(second)) << log1;
  EXPECT_EQ(read_cell_record(second).exit_code, 128 + SIGTERM) << read_text(second + "/train.log");
  const auto first_metrics_time = fs::last_write_time(first + "/metrics.jsonl");
  // The stopped sweep still wrote its results so far.
  EXPECT_NE(read_text(w.out + "/results.csv").find("dense_seed0,dense"), std::string::npos);

  const Command again = run_strata(fmt::format("sweep '{}' --out '{}' --jobs 2 --threads 2", w.sweep, w.out));
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("1 of 4 cells already finished: skipped"), std::string::npos) << again.output;
  EXPECT_EQ(read_cell_record(first).attempts, 1);  // not run again
  EXPECT_EQ(fs::last_write_time(first + "/metrics.jsonl"), first_metrics_time);
  EXPECT_EQ(read_cell_record(second).attempts, 2);  // resumed, from its checkpoint
  EXPECT_NE(read_text(second + "/train.log").find("--resume"), std::string::npos);
  EXPECT_NE(read_text(second + "/train.log").find("resumed from"), std::string::npos) << read_text(second + "/train.log");
  for (const char* name : {"dense_seed0", "low_rank_flops0.5_seed0", "dense_seed1", "low_rank_flops0.5_seed1"}) {
    EXPECT_TRUE(finished(w.cell(name))) << name;
  }
  // A third run has nothing to do.
  const Command third = run_strata(fmt::format("sweep '{}' --out '{}'", w.sweep, w.out));
  EXPECT_EQ(third.exit_code, 0) << third.output;
  EXPECT_NE(third.output.find("4 of 4 cells already finished"), std::string::npos) << third.output;
  EXPECT_EQ(read_cell_record(second).attempts, 2);
}

TEST(SweepCli, WritesResultsCsvAndAPlotOfTheStatedSize) {
  SweepWorkspace w(6);
  const Command c = run_strata(fmt::format("sweep '{}' --out '{}' --jobs 2 --threads 2", w.sweep, w.out));
  ASSERT_EQ(c.exit_code, 0) << c.output;

  const std::vector<std::string> lines = lines_of(read_text(w.out + "/results.csv"));
  ASSERT_EQ(lines.size(), 5u);  // header and 4 cells
  EXPECT_EQ(lines[0], "cell,structure,spec,budget,seed,params,flops,relative_flops,metric,best,final,wall_seconds,"
                      "status,run_dir");
  std::map<std::string, std::vector<std::string>> rows;
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::vector<std::string> f = csv_fields(lines[i]);
    ASSERT_EQ(f.size(), 14u) << lines[i];
    rows[f[0]] = f;
  }
  const std::vector<std::string>& dense = rows.at("dense_seed1");
  EXPECT_EQ(dense[1], "dense");
  EXPECT_EQ(dense[2], "{type: dense}");
  EXPECT_EQ(dense[4], "1");
  EXPECT_DOUBLE_EQ(std::stod(dense[7]), 1.0);
  EXPECT_EQ(dense[8], "accuracy");
  EXPECT_EQ(dense[12], "finished");
  EXPECT_EQ(dense[13], w.cell("dense_seed1"));
  const std::vector<std::string>& low = rows.at("low_rank_flops0.5_seed0");
  EXPECT_EQ(low[2], "{type: low_rank, flops_ratio: 0.5}");  // quoted in the file: it has commas
  EXPECT_EQ(low[3], "flops_ratio=0.5");
  EXPECT_LT(std::stoll(low[5]), std::stoll(dense[5]));  // params
  EXPECT_LT(std::stoll(low[6]), std::stoll(dense[6]));  // flops
  EXPECT_LT(std::stod(low[7]), 1.0);
  EXPECT_GT(std::stod(low[7]), 0.25);
  for (const auto& [name, f] : rows) {
    const double best = std::stod(f[9]), final = std::stod(f[10]);
    EXPECT_GE(best, final) << name;
    EXPECT_GE(final, 0.0) << name;
    EXPECT_LE(best, 1.0) << name;
    EXPECT_GT(std::stod(f[11]), 0.0) << name;  // wall seconds
  }
  // The cell's params and FLOPs are what `strata info` reports for its config.
  const Command info = run_strata(fmt::format("info '{}' --json --set 'model.linear={{type: low_rank, flops_ratio: 0.5}}'",
                                          w.base));
  ASSERT_EQ(info.exit_code, 0) << info.output;
  const nlohmann::json total = nlohmann::json::parse(lines_of(info.output).back());
  EXPECT_EQ(std::to_string(total["flops"].get<int64_t>()), low[6]);

  EXPECT_EQ(png_size(w.out + "/results.png"), (std::pair<uint32_t, uint32_t>{900, 600}));
  EXPECT_TRUE(fs::exists(w.out + "/results.gp"));

  // Training curves of two cells into one figure of the asked size.
  const std::string curves = w.dir / "curves.png";
  const Command plot = run_strata(fmt::format("plot '{}' '{}' --out '{}' --size 640x480", w.cell("dense_seed0"),
                                          w.cell("low_rank_flops0.5_seed0"), curves));
  ASSERT_EQ(plot.exit_code, 0) << plot.output;
  EXPECT_EQ(png_size(curves), (std::pair<uint32_t, uint32_t>{640, 480}));
  EXPECT_EQ(run_strata(fmt::format("plot '{}' --size 12", w.cell("dense_seed0"))).exit_code, 2);
  EXPECT_EQ(run_strata(fmt::format("plot '{}'", w.dir / "cifar")).exit_code, 2);  // not a run folder
}

TEST(SweepCli, BadSweepFileExitsWith2NamingTheLine) {
  SweepWorkspace w(4);
  std::ofstream(w.sweep, std::ios::app) << "grid:\n  optim.lrr: [0.1]\n";
  const Command c = run_strata(fmt::format("sweep '{}' --out '{}'", w.sweep, w.out));
  EXPECT_EQ(c.exit_code, 2) << c.output;
  EXPECT_NE(c.output.find("sweep.yaml:12:3: grid.optim.lrr:"), std::string::npos) << c.output;
  EXPECT_NE(c.output.find("did you mean 'lr'?"), std::string::npos) << c.output;
  EXPECT_FALSE(fs::exists(w.out + "/cells"));
}

// The relative error column of `strata compress`'s table, by layer name.
std::map<std::string, double> reported_errors(const std::string& output) {
  std::map<std::string, double> errors;
  for (const std::string& line : lines_of(output)) {
    std::istringstream in(line);
    std::vector<std::string> words;
    for (std::string word; in >> word;) words.push_back(word);
    if (words.size() < 5 || words[0].rfind("blocks.", 0) != 0) continue;
    errors[words[0]] = std::stod(words.back());
  }
  return errors;
}

TEST(CompressCli, ProjectsTheChosenRolesAndWritesARetrainableCheckpoint) {
  SweepWorkspace w(6);
  const std::string run = w.dir / "dense";
  ASSERT_EQ(run_strata(fmt::format("train '{}' --out '{}'", w.base, run)).exit_code, 0);
  const std::string trained_path = run + "/checkpoints/last.safetensors";

  for (const std::string spec : {"{type: low_rank, rank: 4}", "{type: blast, blocks: 2, flops_ratio: 0.5}"}) {
    SCOPED_TRACE(spec);
    const std::string out = w.dir / "compressed.safetensors";
    const Command c = run_strata(fmt::format("compress --checkpoint '{}' --spec '{}' --roles qkv,mlp_in --out '{}'",
                                         trained_path, spec, out));
    ASSERT_EQ(c.exit_code, 0) << c.output;
    const std::map<std::string, double> errors = reported_errors(c.output);
    ASSERT_EQ(errors.size(), 2u) << c.output;  // depth 1: qkv and fc1

    // Rebuild both models from their checkpoints' stored configs.
    const CheckpointState trained = load_checkpoint(trained_path), compressed = load_checkpoint(out);
    EXPECT_EQ(compressed.step, 0);
    auto model_of = [](const CheckpointState& state) {
      const RunConfig config = read_run_config(config::Document::parse(state.config_yaml, "stored"));
      Generator generator(0);
      std::unique_ptr<Model> model = build_model(config, config.image, &generator);
      restore_model(*model, state);
      return model;
    };
    const std::unique_ptr<Model> before = model_of(trained), after = model_of(compressed);
    std::map<std::string, const NamedLinear*> old_by_name;
    const std::vector<NamedLinear> old_linears = before->structured_linears();
    for (const NamedLinear& l : old_linears) old_by_name[l.name] = &l;
    int projected = 0;
    for (const NamedLinear& l : after->structured_linears()) {
      const Tensor target = old_by_name.at(l.name)->layer->to_dense();
      const double error = relative_error(target, l.layer->to_dense());
      if (l.role == "qkv" || l.role == "mlp_in") {
        ++projected;
        EXPECT_NE(l.spec.type, "dense") << l.name;
        ASSERT_TRUE(errors.count(l.name)) << l.name;
        EXPECT_NEAR(error, errors.at(l.name), 6e-5) << l.name;  // the table prints 4 decimals
        EXPECT_GT(error, 0.0) << l.name;
        EXPECT_LT(error, 1.0) << l.name;
      } else {
        EXPECT_EQ(l.spec.type, "dense") << l.name;
        EXPECT_EQ(error, 0.0) << l.name;  // copied as it was
      }
    }
    EXPECT_EQ(projected, 2);
    EXPECT_LT(after->flops_per_sample(), before->flops_per_sample());

    const Command eval = run_strata(fmt::format("eval --checkpoint '{}'", out));
    ASSERT_EQ(eval.exit_code, 0) << eval.output;
    EXPECT_EQ(nlohmann::json::parse(eval.output)["count"], 20);
    const Command retrain = run_strata(fmt::format("train --init '{}' --out '{}' --set train.steps=2 --overwrite", out,
                                               w.dir / "retrained"));
    ASSERT_EQ(retrain.exit_code, 0) << retrain.output;
  }
  // Unknown roles and bad specs are usage errors naming them.
  const Command role = run_strata(fmt::format("compress --checkpoint '{}' --spec '{{type: low_rank, rank: 4}}' "
                                          "--roles qvk --out '{}'", trained_path, w.dir / "x.safetensors"));
  EXPECT_EQ(role.exit_code, 2) << role.output;
  EXPECT_NE(role.output.find("no role 'qvk' (did you mean 'qkv'?)"), std::string::npos) << role.output;
  const Command spec = run_strata(fmt::format("compress --checkpoint '{}' --spec '{{type: low_rank, rnak: 4}}' --out '{}'",
                                          trained_path, w.dir / "x.safetensors"));
  EXPECT_EQ(spec.exit_code, 2) << spec.output;
  EXPECT_NE(spec.output.find("did you mean 'rank'?"), std::string::npos) << spec.output;
  EXPECT_FALSE(fs::exists(w.dir / "x.safetensors"));
}

}  // namespace
}  // namespace strata
