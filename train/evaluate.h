#pragma once
// Evaluation of an image classifier over one full epoch of a loader (every
// sample once: use data::eval_loader_options), in eval mode (no dropout)
// without recording gradients. Each rank evaluates its shard; the sums are
// all-reduced, so every rank returns the totals. The model's training mode
// is restored afterwards.
#include <cstdint>
#include <functional>
#include <optional>

#include "data/loader.h"
#include "models/image_classifier.h"
#include "train/communicator.h"

namespace strata {

struct EvalResult {
  double loss = 0.0;      // mean soft-target cross-entropy per sample
  double accuracy = 0.0;  // in [0, 1]
  int64_t count = 0;      // samples evaluated (over all ranks)
};

// `abort` is polled between batches; when it returns true the pass stops
// and the result is empty (a stop signal should not wait for a long pass).
std::optional<EvalResult> evaluate(ImageClassifier& model, data::Loader& loader, Communicator& communicator,
                                   const std::function<bool()>& abort = {});

}  // namespace strata
