#include "train/evaluate.h"

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

}  // namespace

std::optional<EvalResult> evaluate(ImageClassifier& model, data::Loader& loader, Communicator& communicator,
                                   const std::function<bool()>& abort) {
  EvalMode mode(model);
  NoGradGuard no_grad;
  loader.seek({0, 0});
  double loss_sum = 0.0, correct = 0.0, count = 0.0;
  for (int64_t b = 0; b < loader.batches_per_epoch(); ++b) {
    if (abort && abort()) return std::nullopt;
    data::Batch batch = loader.next();
    const Tensor logits = model.forward(batch.images);
    const auto n = double(batch.labels.numel());
    loss_sum += soft_cross_entropy(logits, batch.targets).item<double>() * n;
    correct += double(count_correct(logits, batch.labels));
    count += n;
  }
  // One all-reduce of the three sums (f64: exact counts far beyond any test set).
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

}  // namespace strata
