#pragma once
// Evaluation over one full pass of a split, in eval mode (no dropout)
// without recording gradients:
//   image classifiers over one epoch of a loader (every sample once: use
//   data::eval_loader_options): mean soft-target cross-entropy, accuracy;
//   language models over consecutive non-overlapping blocks of the
//   context length (a sequential TokenLoader): mean cross-entropy per
//   predicted token, next-token accuracy, perplexity = exp(mean loss). Each rank evaluates its shard; the sums are
// all-reduced, so every rank returns the totals. The model's training mode
// is restored afterwards.
#include <cstdint>
#include <functional>
#include <optional>

#include "data/loader.h"
#include "data/token_loader.h"
#include "models/gpt2.h"
#include "models/image_classifier.h"
#include "train/communicator.h"

namespace strata {

struct EvalResult {
  double loss = 0.0;        // mean cross-entropy per sample (images) or per predicted token
  double accuracy = 0.0;    // in [0, 1]
  int64_t count = 0;        // samples or tokens evaluated (over all ranks)
  double perplexity = 0.0;  // language models: exp(loss); 0 for classifiers
};

// `abort` is polled between batches; when it returns true the pass stops
// and the result is empty (a stop signal should not wait for a long pass).
std::optional<EvalResult> evaluate(ImageClassifier& model, data::Loader& loader, Communicator& communicator,
                                   const std::function<bool()>& abort = {});

// `max_batches` > 0 stops after that many batches (a quick validation).
std::optional<EvalResult> evaluate(Gpt2& model, data::TokenLoader& loader, Communicator& communicator,
                                   const std::function<bool()>& abort = {}, int64_t max_batches = 0);

}  // namespace strata
