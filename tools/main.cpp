// The `strata` command line: one binary, one subcommand per task.
// Exit codes: 0 success, 2 bad usage/config/data (CLI11 parse errors and
// strata::Error), 1 internal error (any other exception).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>

#include "core/error.h"
#include "tools/bench_factorize.h"
#include "tools/bench_gpt2.h"
#include "tools/bench_layers.h"
#include "tools/compress.h"
#include "tools/demo_mlp.h"
#include "tools/eval.h"
#include "tools/import_model.h"
#include "tools/info.h"
#include "tools/plot.h"
#include "tools/sample.h"
#include "tools/sweep.h"
#include "tools/tokenize.h"
#include "tools/train.h"

namespace {

constexpr int kUsageError = 2;
constexpr int kInternalError = 1;

// Inclusive integer range [low, high] with a readable message.
CLI::Validator int_range(int64_t low, int64_t high) {
  return CLI::Range(low, high).description(fmt::format("in [{}, {}]", low, high));
}

// A floating value in (0, high].
CLI::Validator positive_up_to(double high) {
  return CLI::Validator(
      [high](std::string& text) -> std::string {
        double v = 0.0;
        if (!CLI::detail::lexical_cast(text, v) || !(v > 0.0 && v <= high)) {
          return fmt::format("value {} is not in (0, {}]", text, high);
        }
        return {};
      },
      fmt::format("in (0, {}]", high));
}

void add_demo_mlp(CLI::App& demo, strata::tools::MlpDemoOptions& o) {
  CLI::App* mlp = demo.add_subcommand("mlp", "Train a 2-layer MLP on 3-class spirals (AdamW, cosine, clipping)");
  mlp->add_option("--steps", o.steps, "optimizer steps")->check(int_range(1, 100'000'000))->capture_default_str();
  mlp->add_option("--seed", o.seed, "seed of data, initialisation and batches")->capture_default_str();
  mlp->add_option("--hidden", o.hidden, "hidden width")->check(int_range(1, 1 << 16))->capture_default_str();
  mlp->add_option("--lr", o.lr, "peak learning rate")->check(positive_up_to(10.0))->capture_default_str();
  mlp->add_option("--batch", o.batch, "minibatch size")->check(int_range(1, 1 << 20))->capture_default_str();
  mlp->add_option("--threads", o.threads, "OpenMP threads (0: default)")
      ->check(int_range(0, 1024))
      ->capture_default_str();
  mlp->add_option("--log-every", o.log_every, "print a line every N steps")
      ->check(int_range(1, 100'000'000))
      ->capture_default_str();
}

void add_bench_layers(CLI::App& bench, strata::tools::BenchLayersOptions& o) {
  CLI::App* layers = bench.add_subcommand(
      "layers", "Time every structured linear at FLOP ratios 1, 0.5, 0.25 against dense (768->768, 768->3072)");
  layers->add_flag("--json", o.json, "one JSON object per line");
  layers->add_option("--tokens", o.tokens, "rows of x")->check(int_range(1, 1 << 24))->capture_default_str();
  layers->add_option("--repeats", o.repeats, "timed runs per case (median)")->check(int_range(1, 1000))->capture_default_str();
  layers->add_option("--threads", o.threads, "OpenMP threads (0: default)")->check(int_range(0, 1024))->capture_default_str();
  layers->add_option("--device", o.device, "cpu, cuda or cuda:N")->capture_default_str();
  layers->add_option("--precision", o.precision, "f32, or bf16 autocast")
      ->check(CLI::IsMember({"f32", "bf16"}))
      ->capture_default_str();
}

void add_bench_factorize(CLI::App& bench, strata::tools::BenchFactorizeOptions& o) {
  CLI::App* factorize = bench.add_subcommand(
      "factorize", "BLAST factorization experiment: GD vs PrecGD on a random 256x256 BLAST target (b=4, r*=8, r=32)");
  factorize->add_flag("--json", o.json, "one JSON object per line: method, iter, rel_error");
  factorize->add_option("--iters", o.iterations, "iterations of each method")->check(int_range(1, 1'000'000))->capture_default_str();
  factorize->add_option("--size", o.size, "rows and columns of the target")->check(int_range(1, 1 << 14))->capture_default_str();
  factorize->add_option("--blocks", o.blocks, "blocks per side")->check(int_range(1, 1 << 10))->capture_default_str();
  factorize->add_option("--true-rank", o.true_rank, "rank of the target's factors")->check(int_range(1, 1 << 16))->capture_default_str();
  factorize->add_option("--rank", o.rank, "fitted rank")->check(int_range(1, 1 << 16))->capture_default_str();
  factorize->add_option("--lr", o.lr, "initial step (decays linearly to 0)")->check(positive_up_to(100.0))->capture_default_str();
  factorize->add_option("--delta", o.delta, "PrecGD damping: eps = delta ||W - W_hat||_F")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  factorize->add_option("--seed", o.seed, "seed of the target and the initialisation")->capture_default_str();
  factorize->add_option("--print-every", o.print_every, "table rows every N iterations")
      ->check(int_range(1, 1'000'000))
      ->capture_default_str();
}

void add_bench_gpt2(CLI::App& bench, strata::tools::BenchGpt2Options& o) {
  CLI::App* gpt2 = bench.add_subcommand(
      "gpt2", "GPT-2 training steps (forward, backward, AdamW) on random tokens: tokens/s and peak memory");
  gpt2->add_option("--batch", o.batch, "sequences per step")->check(int_range(1, 1 << 16))->capture_default_str();
  gpt2->add_option("--context", o.context, "tokens per sequence")->check(int_range(1, 1 << 16))->capture_default_str();
  gpt2->add_option("--steps", o.steps, "timed steps (median)")->check(int_range(1, 10000))->capture_default_str();
  gpt2->add_option("--threads", o.threads, "OpenMP threads (0: default)")->check(int_range(0, 1024))->capture_default_str();
  gpt2->add_option("--set", o.overrides, "override a key of the model section (GPT-2 small by default)")
      ->type_name("KEY=VALUE")
      ->allow_extra_args(false);
  gpt2->add_option("--device", o.device, "cpu, cuda or cuda:N")->capture_default_str();
  gpt2->add_option("--precision", o.precision, "f32, or bf16 autocast (f32 master weights)")
      ->check(CLI::IsMember({"f32", "bf16"}))
      ->capture_default_str();
  gpt2->add_option("--peak-tflops", o.peak_tflops, "the GPU's dense bf16 peak for MFU (default: known cards)")
      ->check(CLI::Range(0.0, 1e6));
  gpt2->add_flag("--json", o.json, "one JSON object");
}

// OpenMP threads waiting for work spin by default ("active"). When other
// processes share the cores, the spinning threads take them from the
// threads with work: a 2-thread GPT-2 step ran 2.7x slower than with
// passive waiting on this 2-core machine under load, while passive waiting
// costs about 2.5% on idle cores (bench/README.md). libgomp reads
// OMP_WAIT_POLICY once, when it loads, before main: so unless the user chose
// a policy, the binary runs itself again with the passive one.
void prefer_passive_openmp_waiting(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  if (setenv("OMP_WAIT_POLICY", "passive", 1) != 0) return;
  execv("/proc/self/exe", argv);  // returns only on failure: go on with the default policy
}

}  // namespace

int main(int argc, char** argv) {
  prefer_passive_openmp_waiting(argv);
  CLI::App app{"strata: train, compress and evaluate networks with structured weight matrices", "strata"};
  app.require_subcommand(1);
  CLI::App* demo = app.add_subcommand("demo", "Small self-contained demos");
  demo->require_subcommand(1);
  strata::tools::MlpDemoOptions mlp_options;
  add_demo_mlp(*demo, mlp_options);
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks (see bench/README.md)");
  bench->require_subcommand(1);
  strata::tools::BenchLayersOptions layers_options;
  add_bench_layers(*bench, layers_options);
  strata::tools::BenchFactorizeOptions factorize_options;
  add_bench_factorize(*bench, factorize_options);
  strata::tools::BenchGpt2Options gpt2_bench_options;
  add_bench_gpt2(*bench, gpt2_bench_options);
  strata::tools::TrainCommandOptions train_options;
  CLI::App* train = strata::tools::add_train_command(app, train_options);
  strata::tools::EvalCommandOptions eval_options;
  CLI::App* eval = strata::tools::add_eval_command(app, eval_options);
  strata::tools::InfoCommandOptions info_options;
  CLI::App* info = strata::tools::add_info_command(app, info_options);
  strata::tools::SweepCommandOptions sweep_options;
  CLI::App* sweep = strata::tools::add_sweep_command(app, sweep_options);
  strata::tools::CompressCommandOptions compress_options;
  CLI::App* compress = strata::tools::add_compress_command(app, compress_options);
  strata::tools::PlotCommandOptions plot_options;
  CLI::App* plot = strata::tools::add_plot_command(app, plot_options);
  strata::tools::TokenizeCommandOptions tokenize_options;
  CLI::App* tokenize = strata::tools::add_tokenize_command(app, tokenize_options);
  strata::tools::SampleCommandOptions sample_options;
  CLI::App* sample = strata::tools::add_sample_command(app, sample_options);
  strata::tools::ImportCommandOptions import_options;
  CLI::App* import = strata::tools::add_import_command(app, import_options);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Help and version print and succeed; every other parse error is a usage error.
    return app.exit(e) == 0 ? 0 : kUsageError;
  }

  try {
    if (demo->got_subcommand("mlp")) return strata::tools::run_mlp_demo(mlp_options);
    if (bench->got_subcommand("layers")) return strata::tools::run_bench_layers(layers_options);
    if (bench->got_subcommand("factorize")) return strata::tools::run_bench_factorize(factorize_options);
    if (bench->got_subcommand("gpt2")) return strata::tools::run_bench_gpt2(gpt2_bench_options);
    if (train->parsed()) return strata::tools::run_train(train_options);
    if (eval->parsed()) return strata::tools::run_eval(eval_options);
    if (info->parsed()) return strata::tools::run_info(info_options);
    if (sweep->parsed()) return strata::tools::run_sweep(sweep_options);
    if (compress->parsed()) return strata::tools::run_compress(compress_options);
    if (plot->parsed()) return strata::tools::run_plot(plot_options);
    if (tokenize->parsed()) return strata::tools::run_tokenize(tokenize_options);
    if (sample->parsed()) return strata::tools::run_sample(sample_options);
    if (import->got_subcommand("gpt2")) return strata::tools::run_import(import_options);
  } catch (const strata::Error& e) {
    fmt::print(stderr, "strata: error: {}\n", e.what());
    return kUsageError;
  } catch (const std::exception& e) {
    fmt::print(stderr, "strata: error: {}\n", e.what());
    return kInternalError;
  }
  return 0;
}
