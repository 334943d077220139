#pragma once
// Trainer: the training loop of `strata train`, for every Task (train/task.h):
// image classification (ViT) and language modelling (GPT-2).
//
// One optimizer step:
//   grad_accum times: loss = task.next_loss() / grad_accum; backward
//                     (images: soft-target cross-entropy of the next batch;
//                     tokens: cross-entropy of each next token)
//   communicator.all_reduce_sum(grad arena)  (one buffer; averaged over ranks)
//   clip_grad_norm (train.clip_grad_norm > 0)
//   lr = schedule(step); optimizer.step()
//   GBLR layers: widths soft-thresholded by thres * lr until the mean width
//   reaches the target; at each epoch start sigma = Gblr::sigma_at(epoch)
// then, at step boundaries: a train record every log.every_steps, evaluation
// on the evaluation split (images: test; tokens: val) (eval.every_steps / every_epochs / at_end), a checkpoint
// (checkpoint.every_steps / every_epochs, always at the end), and a stop
// check (SIGINT/SIGTERM through stop_signal.h, or options.should_stop):
// a stop writes a checkpoint and returns TrainStatus::stopped.
//
// Outputs in options.out_dir (rank 0 writes them):
//   config.yaml      the resolved run config
//   metrics.jsonl    train/metrics.h
//   checkpoints/     step_<N>.safetensors, last.safetensors (train/checkpoint.h)
//
// Resuming (options.resume_from): model, optimizer state and step, the
// loader position, the default generator (dropout, drop-path) and the
// elapsed time are restored, so the weights after the last step are
// bit-identical to those of a run that never stopped (for the same config
// and world size; thread counts do not matter, the core is deterministic).
// metrics.jsonl loses its lines past the checkpoint's step, which the
// resumed run writes again.
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "layers/parameter_arena.h"
#include "models/model.h"
#include "train/communicator.h"
#include "train/evaluate.h"
#include "train/optimizer.h"
#include "train/run_config.h"

namespace strata {

struct TrainerOptions {
  std::string out_dir;
  std::string resume_from;  // a checkpoint file; empty: start fresh
  // A checkpoint whose model weights initialise a fresh run (optimizer, step
  // and data position start anew): re-training after `strata compress`, or
  // fine-tuning. Every tensor must match the model by name and shape.
  std::string init_from;
  // Polled after every step besides the signal flag (tests stop a run this way).
  std::function<bool(int64_t step)> should_stop;
  FILE* console = stdout;  // progress and messages (rank 0)
};

enum class TrainStatus { finished, stopped };

struct TrainResult {
  TrainStatus status = TrainStatus::finished;
  int stop_signal = 0;  // the signal that stopped it; 0 for should_stop or a finished run
  int64_t step = 0;
  std::optional<EvalResult> final_eval;
  std::string checkpoint;  // the last checkpoint written ("" when none)
};

class Trainer {
 public:
  Trainer(RunConfig config, TrainerOptions options, std::shared_ptr<Communicator> communicator = nullptr);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  TrainResult run();

  // Valid after construction (the model is built and, when resuming, restored).
  Model& model();
  ParameterArena& arena();
  int64_t total_steps() const;

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace strata
