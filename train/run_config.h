#pragma once
// The run config: everything `strata train` reads from a YAML file (with its
// `base:` chain and --set overrides), as typed structs with a default for
// every key. Top-level sections:
//
//   model:       delegated to the model library (models/model_factory.h):
//                name, architecture, model.linear specs; the name decides
//                the task: image classification (vit) or language
//                modelling (gpt2)
//   data:        images: data::read_data_config (data/data_config.h);
//                token shards for a language model: data::read_token_data_config
//                (data/token_data_config.h)
//   optim:
//     name: adamw             # adamw | sgd
//     lr: 1.0e-3              # peak learning rate (after warm-up)
//     weight_decay: 0.05      # default 0.05 for adamw, 0 for sgd; matrices only (parameter_arena.h)
//     betas: [0.9, 0.999]     # adamw only
//     eps: 1.0e-8             # adamw only
//     momentum: 0.9           # sgd only
//     nesterov: false         # sgd only
//   schedule:
//     kind: cosine            # constant | cosine | linear (train/schedule.h)
//     warmup_steps: 0         # when > 0, wins over warmup_epochs
//     warmup_epochs: 0.0      # rounded to optimizer steps
//     min_lr: 0.0             # cosine/linear floor, <= optim.lr
//   train:
//     epochs: 1               # length of the run in epochs of the training split
//     steps: 0                # when > 0, the length in optimizer steps (wins over epochs, so
//                             # `--set train.steps=5` shortens any run)
//     seed: 0                 # initialisation, dropout, drop-path, shuffling, augmentation
//     grad_accum: 1           # micro-batches per optimizer step
//     clip_grad_norm: 0.0     # global L2 norm; 0 = off
//     threads: 0              # OpenMP threads; 0 = the default (all cores)
//     device: cpu             # cpu | cuda | cuda:N: where the model, its batches and the
//                             # optimizer state live (a CUDA build on a machine with a GPU)
//     precision: f32          # f32 | bf16: bf16 autocast (core/autocast.h): matrix products
//                             # read bf16 operands and accumulate in f32; weights, gradients
//                             # and optimizer state stay f32. Fast on GPUs; on the CPU an
//                             # exact but slower emulation
//     gblr:                   # structure learning of GBLR layers (ignored without them)
//       thres: 0.02           # widths soft-thresholded by thres * lr after each step
//       target_width: 0.05    # stop shrinking once the mean width is below it; 0 = never stop
//       sigma_epochs: 0.0     # epochs of the sigma schedule 1 -> 100; 0 = the run's epochs
//   eval:                     # on the test split
//     every_steps: 0          # 0 = off
//     every_epochs: 1         # 0 = off
//     at_end: true
//   checkpoint:               # OUT/checkpoints/step_N.safetensors (+ last.safetensors)
//     every_steps: 0          # 0 = off
//     every_epochs: 1         # 0 = off; a checkpoint is always written at the end and on SIGINT/SIGTERM
//     keep_last: 3
//   log:
//     every_steps: 50         # a train line in metrics.jsonl (and on a non-terminal stdout)
//     progress: auto          # auto (a bar when stdout is a terminal) | always | never
//
// Label smoothing, mixup and cutmix live in `data:` (the loader folds them
// into soft targets), so the loss has no smoothing of its own; so does the
// evaluation batch size (data.eval_batch_size).
//
// Errors (unknown section or key with a "did you mean", wrong type, value out
// of range, a key for the other optimizer) are strata::Error naming
// file:line:column and the dotted key.
#include <cstdint>
#include <memory>
#include <string>

#include "config/config.h"
#include "core/autocast.h"
#include "core/random.h"
#include "data/data_config.h"
#include "data/token_data_config.h"
#include "models/image_classifier.h"
#include "models/model_factory.h"

namespace strata {

struct OptimConfig {
  std::string name = "adamw";
  double lr = 1e-3;
  double weight_decay = 0.05;
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
  double momentum = 0.9;
  bool nesterov = false;
};

struct ScheduleConfig {
  std::string kind = "cosine";
  int64_t warmup_steps = 0;
  double warmup_epochs = 0.0;
  double min_lr = 0.0;
};

struct GblrTrainConfig {
  double thres = 0.02;
  double target_width = 0.05;
  double sigma_epochs = 0.0;
};

struct TrainConfig {
  int64_t epochs = 1;
  int64_t steps = 0;  // > 0: the run's length in optimizer steps (epochs unused)
  int64_t seed = 0;
  int64_t grad_accum = 1;
  double clip_grad_norm = 0.0;
  int64_t threads = 0;
  Device device = Device::cpu();
  Precision precision = Precision::f32;
  GblrTrainConfig gblr;
};

struct EvalConfig {
  int64_t every_steps = 0;
  int64_t every_epochs = 1;
  bool at_end = true;
};

struct CheckpointConfig {
  int64_t every_steps = 0;
  int64_t every_epochs = 1;
  int64_t keep_last = 3;
};

struct LogConfig {
  int64_t every_steps = 50;
  std::string progress = "auto";
};

struct RunConfig {
  // The source document (base chain and --set applied): the model is built
  // from its `model:` section, so build-time errors still name file:line.
  std::shared_ptr<const config::Document> document;
  ModelKind kind = ModelKind::image_classifier;
  ImageShape image;  // image models: what the data section implies (0 where only the files know)
  data::DataConfig data;          // image models
  data::TokenDataConfig tokens;   // language models
  OptimConfig optim;
  ScheduleConfig schedule;
  TrainConfig train;
  EvalConfig eval;
  CheckpointConfig checkpoint;
  LogConfig log;
  // The whole config as read, defaults included: written to OUT/config.yaml
  // and into checkpoints; parsing it again gives the same RunConfig.
  YAML::Node resolved;
};

// Reads and checks every section of `doc`, refusing unknown top-level
// sections. The model section is checked against the image shape the data
// section implies.
RunConfig read_run_config(config::Document doc);

// The image shape a data config implies before any file is read: classes,
// channels and the loader's output side (0 where only the files know, e.g.
// an image folder of unresized images).
ImageShape implied_image_shape(const data::DataConfig& data);

// Builds the config's model (for image models: for the data actually
// loaded), initialised from `generator` (dropout and drop-path draw from it
// too). build_image_model refuses a model that is not an image classifier.
std::unique_ptr<Model> build_model(const RunConfig& config, const ImageShape& data, Generator* generator);
std::unique_ptr<ImageClassifier> build_image_model(const RunConfig& config, const ImageShape& data,
                                                   Generator* generator);

// The resolved config as YAML text (what OUT/config.yaml holds).
std::string resolved_yaml(const RunConfig& config);

}  // namespace strata
