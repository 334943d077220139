#pragma once
// Initialisers for model parameters (timm's ViT rules).
//
// trunc_normal_(t, std): N(0, std^2) conditioned on |x| <= 2 std (each
// out-of-range draw is redrawn). timm's trunc_normal_(std=.02) truncates at
// the ABSOLUTE bounds [-2, 2], i.e. not at all for std 0.02; truncating at
// two standard deviations is what that call was meant to do and shrinks the
// standard deviation by 12% (0.88 std).
#include "core/random.h"
#include "core/tensor.h"

namespace strata {

// Fills t in place (any float dtype or device; drawn in f64 on the CPU).
void trunc_normal_(const Tensor& t, double std, Generator* gen = nullptr);

// timm's Linear rule for the dense linears of a model: weight
// trunc_normal(0.02), bias 0.
void init_dense_timm(const Tensor& weight, const Tensor& bias, Generator* gen = nullptr);

}  // namespace strata
