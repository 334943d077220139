#pragma once
// Task: what the Trainer trains, apart from the optimisation itself: a
// model, the stream of training batches and the loss on each, and the
// evaluation. Two tasks:
//
//   image classification  ViT on images (train/classification_task.h):
//                         soft-target cross-entropy per image, accuracy
//   language modelling    GPT-2 on token shards (train/language_model_task.h):
//                         cross-entropy per predicted token, perplexity
//
// The Trainer (train/trainer.h) runs the same loop for both: accumulation,
// gradient reduction over ranks, clipping, schedule, checkpoints, metrics.
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/random.h"
#include "data/loader.h"
#include "models/model.h"
#include "train/communicator.h"
#include "train/evaluate.h"
#include "train/run_config.h"

namespace strata {

// The forward pass of one training micro-batch.
struct MicroBatchLoss {
  Tensor loss;          // scalar: the mean over the batch's items, differentiable
  int64_t items = 0;    // images, or predicted tokens
  int64_t correct = 0;  // items whose arg-max prediction is right
  data::LoaderPosition position;  // where the batch came from (for messages)
};

class Task {
 public:
  virtual ~Task() = default;

  virtual Model& model() = 0;
  // The loss of the next training batch (the model in training mode).
  virtual MicroBatchLoss next_loss() = 0;

  // Where the training stream stands (saved in checkpoints) and resuming it.
  virtual data::LoaderPosition position() const = 0;
  virtual void seek(data::LoaderPosition position) = 0;
  virtual int64_t batches_per_epoch() const = 0;

  // One pass over the evaluation split (empty when aborted or when there is
  // no evaluation split: can_evaluate() false). `final`: the run's last
  // evaluation, which always reads the whole split (language models may
  // read a prefix during training: data.eval_batches).
  virtual bool can_evaluate() const = 0;
  virtual std::optional<EvalResult> evaluate(Communicator& communicator, const std::function<bool()>& abort,
                                             bool final) = 0;

  // The training data, for the run's first log line.
  virtual std::string describe_data() const = 0;
  // "img" or "tok": what items per second count.
  virtual std::string unit() const = 0;
  // The split evaluate() reads, as metrics.jsonl names it: "test" or "val".
  virtual std::string eval_split() const = 0;
  // Whether the loss is a per-token log-likelihood, so that exp(loss), the
  // perplexity, means something (train records then carry `ppl`).
  virtual bool reports_perplexity() const { return false; }
};

// Whether the run trains on a GPU: its loaders then prepare batches in
// pinned memory, which the GPU copies from without a staging copy.
inline bool trains_on_gpu(const RunConfig& config) { return config.train.device.type == DeviceType::cuda; }

// The task a run config describes, its model built and initialised from
// `generator` (which must outlive the task), its data read for `rank` of
// `world_size` ranks.
std::unique_ptr<Task> make_task(const RunConfig& config, Generator& generator, int64_t rank, int64_t world_size);

}  // namespace strata
