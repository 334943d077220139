#include "train/classification.h"

#include "autograd/functions.h"
#include "core/ops.h"

namespace strata {

Tensor soft_cross_entropy(const Tensor& logits, const Tensor& targets) {
  if (logits.dim() != 2 || targets.shape() != logits.shape()) {
    fail("soft_cross_entropy", "logits {} and targets {} must both be (batch, classes)", shape_str(logits.shape()),
         shape_str(targets.shape()));
  }
  return neg(mean(sum(mul(targets, log_softmax(logits, 1)), {1})));
}

int64_t count_correct(const Tensor& logits, const Tensor& labels) {
  if (logits.dim() != 2 || labels.dim() != 1 || labels.size(0) != logits.size(0)) {
    fail("count_correct", "logits {} must be (batch, classes) and labels {} (batch)", shape_str(logits.shape()),
         shape_str(labels.shape()));
  }
  const std::vector<int64_t> predicted = ops::max(logits.detach(), 1).second.to_vector<int64_t>();
  const std::vector<int64_t> truth = labels.to_vector<int64_t>();
  int64_t correct = 0;
  for (size_t i = 0; i < truth.size(); ++i) correct += predicted[i] == truth[i];
  return correct;
}

}  // namespace strata
