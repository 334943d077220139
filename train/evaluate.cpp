#include "train/evaluate.h"

#include <algorithm>
#include <cmath>

#include "autograd/functions.h"
#include "autograd/node.h"
#include "train/classification.h"

namespace strata {

namespace {

// Restores the model's training flag however evaluation ends.
class EvalMode {
 public:
  explicit EvalMode(Module& model) : model_(model), was_training_(model.is_training()) { model_.eval(); }
  ~EvalMode() { model_.train(was_training_); }
  EvalMode(const EvalMode&) = delete;
  EvalMode& operator=(const EvalMode&) = delete;

 private:
  Module& model_;
  bool was_training_;
};

// Where the model's parameters live (its batches go there).
Device device_of(Module& model) {
  const std::vector<Tensor> params = model.parameters();
  return params.empty() ? Device::cpu() : params.front().device();
}

// One all-reduce of the three sums (f64: exact counts far beyond any test set).
EvalResult reduce_sums(double loss_sum, double correct, double count, Communicator& communicator) {
  Tensor sums = from_vector(std::vector<double>{loss_sum, correct, count}, {3});
  communicator.all_reduce_sum(sums);
  const std::vector<double> total = sums.to_vector<double>();
  EvalResult result;
  result.count = int64_t(total[2]);
  if (result.count > 0) {
    result.loss = total[0] / total[2];
    result.accuracy = total[1] / total[2];
  }
  return result;
}

}  // namespace

std::optional<EvalResult> evaluate(ImageClassifier& model, data::Loader& loader, Communicator& communicator,
                                   const std::function<bool()>& abort) {
  EvalMode mode(model);
  NoGradGuard no_grad;
  loader.seek({0, 0});
  const Device device = device_of(model);
  double loss_sum = 0.0, correct = 0.0, count = 0.0;
  for (int64_t b = 0; b < loader.batches_per_epoch(); ++b) {
    if (abort && abort()) return std::nullopt;
    data::Batch batch = loader.next();
    const Tensor logits = model.forward(batch.images.to(device));
    const auto n = double(batch.labels.numel());
    loss_sum += soft_cross_entropy(logits, batch.targets.to(device)).item<double>() * n;
    correct += double(count_correct(logits, batch.labels));
    count += n;
  }
  return reduce_sums(loss_sum, correct, count, communicator);
}

std::optional<EvalResult> evaluate(Gpt2& model, data::TokenLoader& loader, Communicator& communicator,
                                   const std::function<bool()>& abort, int64_t max_batches) {
  EvalMode mode(model);
  NoGradGuard no_grad;
  loader.seek({0, 0});
  int64_t batches = loader.batches_per_epoch();
  if (max_batches > 0) batches = std::min(batches, max_batches);
  const Device device = device_of(model);
  double loss_sum = 0.0, correct = 0.0, count = 0.0;
  for (int64_t b = 0; b < batches; ++b) {
    if (abort && abort()) return std::nullopt;
    data::TokenBatch batch = loader.next();
    const int64_t n = batch.targets.numel();
    const Tensor logits = model.forward(batch.inputs.to(device)).reshape({n, model.config().vocab_size});
    const Tensor targets = batch.targets.to(device).reshape({n});
    CrossEntropyOptions sum_over_tokens;
    sum_over_tokens.reduction = CrossEntropyOptions::Reduction::sum;
    loss_sum += cross_entropy(logits, targets, sum_over_tokens).item<double>();
    correct += double(count_correct(logits, targets));
    count += double(n);
  }
  EvalResult result = reduce_sums(loss_sum, correct, count, communicator);
  result.perplexity = std::exp(result.loss);
  return result;
}

}  // namespace strata
