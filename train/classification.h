#pragma once
// The image-classification objective and its measures.
//
//   soft_cross_entropy(z, t) = mean_i ( -sum_k t_ik log_softmax(z_i)_k )
//
// with soft targets t (B, K) whose rows sum to 1, as the Loader makes them
// (data/augment.h): one-hot for plain labels, and the same formula covers
// label smoothing, mixup and cutmix, so the loss itself has no options.
// Accuracy compares the arg-max logit with each sample's own label (for a
// mixed batch: the label of the image it was mixed into).
#include <cstdint>

#include "core/tensor.h"

namespace strata {

// logits (B, K) f32, targets (B, K) f32 -> scalar; differentiable in logits.
Tensor soft_cross_entropy(const Tensor& logits, const Tensor& targets);

// Rows of logits (B, K) whose arg-max equals labels (B) i64.
int64_t count_correct(const Tensor& logits, const Tensor& labels);

}  // namespace strata
