#include "train/trainer.h"

#include <fmt/format.h>
#include <omp.h>

#include <chrono>
#include <cmath>
#include <filesystem>

#include "autograd/functions.h"
#include "core/autocast.h"
#include "core/ops.h"
#include "layers/gblr.h"
#include "train/adamw.h"
#include "train/checkpoint.h"
#include "train/clip.h"
#include "train/metrics.h"
#include "train/progress.h"
#include "train/schedule.h"
#include "train/sgd.h"
#include "train/stop_signal.h"
#include "train/task.h"

namespace strata {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

constexpr double kSigmaFlatEpochs = 5.0;  // Gblr::sigma_at is 1 until this epoch

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::unique_ptr<Optimizer> make_optimizer(const OptimConfig& c, ParameterArena& arena) {
  if (c.name == "sgd") {
    return std::make_unique<SGD>(
        arena, SGDOptions{.lr = c.lr, .momentum = c.momentum, .nesterov = c.nesterov, .weight_decay = c.weight_decay});
  }
  return std::make_unique<AdamW>(arena, AdamWOptions{.lr = c.lr, .beta1 = c.beta1, .beta2 = c.beta2, .eps = c.eps,
                                                     .weight_decay = c.weight_decay});
}

// Sums over the batches since the last train record.
struct Window {
  double loss_sum = 0.0;
  int64_t correct = 0, samples = 0, steps = 0;
  Clock::time_point start = Clock::now();

  void reset() { *this = Window(); }
  double loss() const { return samples > 0 ? loss_sum / double(samples) : 0.0; }
  double accuracy() const { return samples > 0 ? double(correct) / double(samples) : 0.0; }
  double items_per_second() const { return double(samples) / std::max(seconds_since(start), 1e-9); }
};

// "every N" triggers at a step boundary, N = 0 meaning never.
bool every(int64_t n, int64_t count) { return n > 0 && count % n == 0; }

}  // namespace

struct Trainer::State {
  RunConfig config;
  TrainerOptions options;
  std::shared_ptr<Communicator> comm;
  bool main = true;

  Generator generator;  // model init, dropout, drop-path
  std::unique_ptr<Task> task;  // the model, its data, loss and evaluation
  Model* model = nullptr;      // task->model()
  std::unique_ptr<ParameterArena> arena;
  std::unique_ptr<Optimizer> optimizer;
  LRSchedule schedule;
  std::vector<Gblr*> gblr;

  int64_t batches_per_epoch = 0, steps_total = 0, step = 0;
  double epochs_total = 0.0, elapsed_before = 0.0;
  int64_t sigma_epoch = -1;  // the epoch whose sigma the GBLR layers hold
  Clock::time_point session_start = Clock::now();

  std::unique_ptr<CheckpointManager> checkpoints;
  std::unique_ptr<MetricsLog> metrics;
  std::unique_ptr<Progress> progress;
  std::string last_checkpoint;
  int64_t last_checkpoint_step = -1;

  // ---- set-up ---------------------------------------------------------------
  void setup();
  void build_task();
  void plan_steps();
  void resume(const std::string& path);
  void open_outputs();

  // ---- the loop -------------------------------------------------------------
  double epoch_now() const;
  void update_sigma();
  double train_step(Window& window);
  void shrink_gblr_widths(double lr);
  void log_train(const Window& window, double grad_norm);
  std::optional<EvalResult> run_eval(bool final);
  void save_checkpoint_now();
  bool stop_requested() const;
  void say(const std::string& line) const;
  std::string describe() const;
  double time_now() const { return elapsed_before + seconds_since(session_start); }
};

void Trainer::State::say(const std::string& line) const {
  if (!main) return;
  if (progress) {
    progress->print(line);
  } else {
    fmt::print(options.console, "{}\n", line);
    std::fflush(options.console);
  }
}

std::string Trainer::State::describe() const {
  const LRSchedule& sc = schedule;
  std::string text = fmt::format(
      "train: {} params, {:.1f} MFLOPs per sample (dense: {:.1f}) | {} | {} steps = {:.2f} epochs, {} lr {:g} "
      "(warm-up {} steps) | out {}",
      model->num_parameters(), double(model->flops_per_sample()) / 1e6,
      double(model->dense_flops_per_sample()) / 1e6, task->describe_data(), steps_total, epochs_total,
      schedule_kind_name(sc.kind), sc.base_lr, sc.warmup_steps, options.out_dir);
  if (config.train.device != Device::cpu() || config.train.precision != Precision::f32) {
    text += fmt::format("\non {}, matrix products in {}", config.train.device.str(), precision_name(config.train.precision));
  }
  if (step > 0) text += fmt::format("\nresumed from {} at step {}", options.resume_from, step);
  if (!options.init_from.empty() && step == 0) text += fmt::format("\nweights initialised from {}", options.init_from);
  return text;
}

void Trainer::State::build_task() {
  generator = Generator(uint64_t(config.train.seed));
  task = make_task(config, generator, comm->rank(), comm->world_size());
  batches_per_epoch = task->batches_per_epoch();
  model = &task->model();
  model->to(config.train.device);  // before the arena binds the parameters
  model->train();
  arena = std::make_unique<ParameterArena>(*model);
  optimizer = make_optimizer(config.optim, *arena);
  for (const NamedLinear& l : model->structured_linears()) {
    if (auto* g = dynamic_cast<Gblr*>(l.layer)) gblr.push_back(g);
  }
}

void Trainer::State::plan_steps() {
  const int64_t accum = config.train.grad_accum;
  steps_total = config.train.steps > 0 ? config.train.steps
                                       : std::max<int64_t>(1, config.train.epochs * batches_per_epoch / accum);
  epochs_total = double(steps_total * accum) / double(batches_per_epoch);
  const ScheduleConfig& sc = config.schedule;
  schedule.kind = parse_schedule_kind(sc.kind);
  schedule.base_lr = config.optim.lr;
  schedule.min_lr = sc.min_lr;
  schedule.total_steps = steps_total;
  schedule.warmup_steps = sc.warmup_steps > 0
                              ? sc.warmup_steps
                              : int64_t(std::llround(sc.warmup_epochs * double(batches_per_epoch) / double(accum)));
  if (schedule.warmup_steps > steps_total) {
    fail("train", "the warm-up ({} steps) is longer than the run ({} steps)", schedule.warmup_steps, steps_total);
  }
  schedule.validate();
}

void Trainer::State::resume(const std::string& path) {
  CheckpointState state = load_checkpoint(path);
  restore_model(*model, state);
  restore_optimizer(*optimizer, state);
  step = state.step;
  task->seek(state.data_position);
  generator.set_state(state.rng);
  if (auto it = state.extra.find("elapsed_seconds"); it != state.extra.end()) elapsed_before = std::stod(it->second);
  if (state.config_yaml != resolved_yaml(config)) {
    say(fmt::format("note: the config differs from the one {} was written with; the continuation is not the "
                    "run that checkpoint was part of",
                    path));
  }
  last_checkpoint = path;
  last_checkpoint_step = step;
}

void Trainer::State::open_outputs() {
  if (!main) return;
  fs::create_directories(options.out_dir);
  config::write_yaml(config.resolved, (fs::path(options.out_dir) / "config.yaml").string());
  const std::string metrics_path = (fs::path(options.out_dir) / "metrics.jsonl").string();
  if (!options.resume_from.empty()) MetricsLog::truncate_after(metrics_path, step);
  metrics = std::make_unique<MetricsLog>(metrics_path);
  checkpoints = std::make_unique<CheckpointManager>((fs::path(options.out_dir) / "checkpoints").string(),
                                                    int(config.checkpoint.keep_last));
}

void Trainer::State::setup() {
  if (config.train.threads > 0) omp_set_num_threads(int(config.train.threads));
  build_task();
  plan_steps();
  if (!options.init_from.empty()) restore_model(*model, load_checkpoint(options.init_from));
  if (!options.resume_from.empty()) resume(options.resume_from);
  // Every rank starts from rank 0's weights (identical already when seeded alike).
  comm->broadcast(arena->params(), 0);
  open_outputs();
}

// ---- the loop -------------------------------------------------------------------

double Trainer::State::epoch_now() const {
  const data::LoaderPosition p = task->position();
  return double(p.epoch) + double(p.batch) / double(batches_per_epoch);
}

void Trainer::State::update_sigma() {
  if (gblr.empty()) return;
  const int64_t epoch = task->position().epoch;
  if (epoch == sigma_epoch) return;
  const double total = config.train.gblr.sigma_epochs > 0.0 ? config.train.gblr.sigma_epochs : epochs_total;
  // The schedule holds sigma at 1 for 5 epochs before it rises: a run of 5
  // epochs or fewer (a short test run) keeps it at 1 throughout.
  const double sigma = total > kSigmaFlatEpochs ? Gblr::sigma_at(double(epoch), total) : 1.0;
  for (Gblr* g : gblr) g->set_sigma(sigma);
  sigma_epoch = epoch;
}

void Trainer::State::shrink_gblr_widths(double lr) {
  if (gblr.empty()) return;
  // The target is on the mean width over all GBLR layers (weighted by their
  // component counts), as the reference's shrink callback measures it.
  double width_sum = 0.0, components = 0.0;
  for (const Gblr* g : gblr) {
    width_sum += g->mean_active_width() * double(g->components());
    components += double(g->components());
  }
  const double target = config.train.gblr.target_width;
  const bool reached = target > 0.0 && width_sum / components < target;
  for (Gblr* g : gblr) g->shrink_widths(reached ? 0.0 : config.train.gblr.thres * lr);
}

// One optimizer step: forward and backward of grad_accum micro-batches,
// the reduction of the gradient arena over ranks, clipping, the update and
// the GBLR width shrinking. The window collects the loss and accuracy;
// returns the gradient norm when clipping computed it (else NaN).
double Trainer::State::train_step(Window& window) {
  optimizer->zero_grad();
  const int64_t accum = config.train.grad_accum;
  for (int64_t micro = 0; micro < accum; ++micro) {
    update_sigma();
    MicroBatchLoss micro_batch = task->next_loss();
    Tensor loss = micro_batch.loss;
    const double value = loss.item<double>();
    if (!std::isfinite(value)) {
      fail("train", "the loss is {} at step {} (epoch {}, batch {}): lower optim.lr or set train.clip_grad_norm", value,
           step + 1, micro_batch.position.epoch, micro_batch.position.batch);
    }
    if (accum > 1) loss = loss * (1.0 / double(accum));
    loss.backward();
    window.loss_sum += value * double(micro_batch.items);
    window.correct += micro_batch.correct;
    window.samples += micro_batch.items;
  }
  comm->all_reduce_sum(arena->grads());
  if (comm->world_size() > 1) ops::mul_scalar_(arena->grads(), 1.0 / double(comm->world_size()));
  double norm = std::nan("");
  if (config.train.clip_grad_norm > 0.0) norm = clip_grad_norm(*arena, config.train.clip_grad_norm);
  const double lr = schedule.lr_at(step);
  optimizer->set_lr(lr);
  optimizer->step();
  shrink_gblr_widths(lr);
  ++step;
  ++window.steps;
  return norm;
}

void Trainer::State::log_train(const Window& window, double grad_norm) {
  if (!main) return;
  MetricsRecord r;
  r.step = step;
  r.epoch = epoch_now();
  r.split = "train";
  r.loss = window.loss();
  r.accuracy = window.accuracy();
  r.lr = optimizer->lr();
  r.time = time_now();
  r.extra[task->unit() + "_per_s"] = window.items_per_second() * double(comm->world_size());
  if (task->reports_perplexity()) r.extra["ppl"] = std::exp(r.loss);
  if (std::isnan(grad_norm)) grad_norm = strata::grad_norm({arena->grads()});
  r.extra["grad_norm"] = grad_norm;
  metrics->write(r);
}

std::optional<EvalResult> Trainer::State::run_eval(bool final) {
  if (!task->can_evaluate()) return std::nullopt;
  const auto start = Clock::now();
  std::optional<EvalResult> result = task->evaluate(*comm, [this] { return stop_requested(); }, final);
  if (!result) return result;
  if (main) {
    MetricsRecord r;
    r.step = step;
    r.epoch = epoch_now();
    r.split = task->eval_split();
    r.loss = result->loss;
    r.accuracy = result->accuracy;
    r.lr = optimizer->lr();
    r.time = time_now();
    r.extra["count"] = result->count;
    std::string ppl;
    if (result->perplexity > 0.0) {
      r.extra["ppl"] = result->perplexity;
      ppl = fmt::format(" | {} ppl {:.2f}", r.split, result->perplexity);
    }
    metrics->write(r);
    say(fmt::format("{}eval step {} | epoch {:.2f} | {} loss {:.4f}{} | {} acc {:.2f}% | {} {} in {:.1f}s",
                    final ? "final " : "", step, r.epoch, r.split, result->loss, ppl, r.split,
                    100.0 * result->accuracy, result->count, task->unit() == "img" ? "images" : "tokens",
                    seconds_since(start)));
  }
  return result;
}

void Trainer::State::save_checkpoint_now() {
  if (last_checkpoint_step == step) return;
  if (main) {
    CheckpointState state;
    // Checkpoints hold CPU tensors, whatever device trains.
    for (const auto& [name, t] : model->state_dict()) state.model.insert(name, t.to(Device::cpu()));
    for (const auto& [name, t] : optimizer->state()) state.optimizer.emplace_back(name, t.to(Device::cpu()));
    state.step = step;
    state.data_position = task->position();
    state.epoch = state.data_position.epoch;
    state.rng = generator.state();
    state.config_yaml = resolved_yaml(config);
    state.extra["elapsed_seconds"] = fmt::format("{:.17g}", time_now());
    last_checkpoint = checkpoints->save(state);
  }
  last_checkpoint_step = step;
  comm->barrier();
}

bool Trainer::State::stop_requested() const {
  // The hook first: it may raise a signal itself (tests do).
  const bool hook = options.should_stop && options.should_stop(step);
  return hook || stop_signal_received() != 0;
}

// ---- Trainer --------------------------------------------------------------------

Trainer::Trainer(RunConfig config, TrainerOptions options, std::shared_ptr<Communicator> communicator)
    : s_(std::make_unique<State>()) {
  s_->config = std::move(config);
  s_->options = std::move(options);
  s_->comm = communicator ? std::move(communicator) : std::make_shared<SingleProcessCommunicator>();
  s_->main = s_->comm->is_main();
  s_->setup();
}

Trainer::~Trainer() = default;

Model& Trainer::model() { return *s_->model; }
ParameterArena& Trainer::arena() { return *s_->arena; }
int64_t Trainer::total_steps() const { return s_->steps_total; }

TrainResult Trainer::run() {
  State& s = *s_;
  TrainResult result;
  const RunConfig& c = s.config;
  // Training and its evaluations run their matrix products in this precision.
  const Autocast autocast(c.train.precision);
  if (s.step >= s.steps_total) {
    s.say(fmt::format("the run is already complete ({} of {} steps)", s.step, s.steps_total));
    result.step = s.step;
    result.checkpoint = s.last_checkpoint;
    return result;
  }
  if (s.main) {
    s.progress = std::make_unique<Progress>(c.log.progress, s.steps_total, s.epochs_total, s.step, s.options.console);
  }
  s.say(s.describe());
  s.session_start = Clock::now();
  Window window;
  while (s.step < s.steps_total) {
    const auto epoch_before = int64_t(s.epoch_now());
    const double norm = s.train_step(window);
    const bool epoch_ended = int64_t(s.epoch_now()) > epoch_before;
    const auto epochs_done = int64_t(s.epoch_now());
    const bool last = s.step == s.steps_total;
    const bool log_step = every(c.log.every_steps, s.step) || last;
    if (s.main) {
      s.progress->update({s.step, s.epoch_now(), window.loss(), window.accuracy(), s.optimizer->lr(),
                          window.items_per_second() * double(s.comm->world_size()), s.task->unit()},
                         log_step);
    }
    if (log_step) {
      s.log_train(window, norm);
      window.reset();
    }
    // Evaluations and checkpoints pause the window's clock: their time is
    // not training throughput.
    const auto pause = Clock::now();
    if (!last && (every(c.eval.every_steps, s.step) || (epoch_ended && every(c.eval.every_epochs, epochs_done)))) {
      s.run_eval(false);
    }
    if (!last && (every(c.checkpoint.every_steps, s.step) ||
                  (epoch_ended && every(c.checkpoint.every_epochs, epochs_done)))) {
      s.save_checkpoint_now();
    }
    window.start += Clock::now() - pause;
    if (!last && s.stop_requested()) {
      s.save_checkpoint_now();
      if (s.progress) s.progress->finish();
      result.status = TrainStatus::stopped;
      result.stop_signal = stop_signal_received();
      result.step = s.step;
      result.checkpoint = s.last_checkpoint;
      s.say(fmt::format("stopped at step {} of {}; checkpoint {}", s.step, s.steps_total, s.last_checkpoint));
      return result;
    }
  }
  if (s.progress) s.progress->finish();
  s.save_checkpoint_now();
  if (c.eval.at_end) result.final_eval = s.run_eval(true);
  result.step = s.step;
  result.checkpoint = s.last_checkpoint;
  s.say(fmt::format("done: {} steps in {}; checkpoint {}", s.step, format_duration(s.time_now()), s.last_checkpoint));
  return result;
}

}  // namespace strata
