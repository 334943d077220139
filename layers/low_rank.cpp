#include "layers/low_rank.h"

#include <algorithm>
#include <cmath>

#include "autograd/functions.h"
#include "core/linalg.h"

namespace strata {

LowRank::LowRank(int64_t in_features, int64_t out_features, int64_t rank, LinearOptions options)
    : StructuredLinear(in_features, out_features), rank_(rank) {
  if (rank < 1 || rank > std::min(in_features, out_features)) {
    fail("LowRank", "rank must be in [1, {}] for {} -> {}, got {}", std::min(in_features, out_features),
         in_features, out_features, rank);
  }
  TensorOptions to{options.dtype, options.device};
  const double sigma = std::pow(3.0 * double(in_features) * double(rank), -0.25);  // r sigma^4 = 1/(3 in)
  Tensor u = empty({out_features, rank}, to), v = empty({in_features, rank}, to);
  normal_(u, 0.0, sigma, options.generator);
  normal_(v, 0.0, sigma, options.generator);
  U = register_parameter("U", u);
  V = register_parameter("V", v);
  if (options.bias) init_bias(to, options.generator);
}

Tensor LowRank::forward(const Tensor& x) {
  check_input("LowRank", x);
  // Both products fold x's leading dims into one GEMM; U^T is a transposed
  // view that BLAS reads as is, so nothing is copied.
  Tensor y = matmul(matmul(x, V), U.t());
  return bias.defined() ? add(y, bias) : y;
}

int64_t LowRank::num_params() const { return cost(in_features(), out_features(), rank_).params + bias_numel(); }

int64_t LowRank::flops(int64_t tokens) const {
  return tokens * cost(in_features(), out_features(), rank_).flops_per_token;
}

Tensor LowRank::to_dense() const { return ops::matmul(U, ops::transpose(V, 0, 1)); }

double LowRank::project(const Tensor& weight) {
  check_projection_target("LowRank", weight);
  NoGradGuard no_grad;
  linalg::SVD svd = linalg::svd(ops::cast(weight, DType::f64));  // f64: exact enough for any target dtype
  Tensor root = ops::unary(UnaryOp::sqrt, ops::slice(svd.s, 0, 0, rank_));  // sqrt(S_r), (r)
  ops::copy_(U, ops::mul(ops::slice(svd.u, 1, 0, rank_), root));
  ops::copy_(V, ops::mul(ops::transpose(ops::slice(svd.vt, 0, 0, rank_), 0, 1), root));
  return relative_error(weight, to_dense());
}

StructureCost LowRank::cost(int64_t in_features, int64_t out_features, int64_t rank) {
  int64_t params = rank * (in_features + out_features);
  return {params, 2 * params};
}

LinearSpec LowRank::resolve(const LinearSpec& spec, int64_t in_features, int64_t out_features) {
  if (spec.blocks != 0) spec_error(spec, "blocks", "low_rank takes no blocks");
  LinearSpec out = spec;
  out.rank = resolve_rank(spec, in_features, out_features, std::min(in_features, out_features),
                          [&](int64_t r) { return cost(in_features, out_features, r); });
  out.flops_ratio = out.params_ratio = 0.0;  // now an explicit size
  return out;
}

}  // namespace strata
