#include "layers/blast.h"

#include <algorithm>
#include <cmath>

#include "autograd/blast_ops.h"
#include "autograd/node.h"
#include "core/ops.h"

namespace strata {

Blast::Blast(int64_t in_features, int64_t out_features, int64_t blocks, int64_t rank, LinearOptions options)
    : StructuredLinear(in_features, out_features), blocks_(blocks), rank_(rank) {
  if (blocks < 1 || in_features % blocks != 0 || out_features % blocks != 0) {
    fail("Blast", "{} blocks do not divide the layer {} -> {}", blocks, in_features, out_features);
  }
  if (rank < 1) fail("Blast", "rank must be >= 1, got {}", rank);
  const int64_t p = out_features / blocks, q = in_features / blocks;
  TensorOptions to{options.dtype, options.device};
  Tensor u = empty({blocks, p, rank}, to), v = empty({blocks, q, rank}, to), c = empty({blocks, blocks, rank}, to);
  normal_(u, 0.0, 1.0 / std::sqrt(3.0 * double(blocks * rank)), options.generator);
  normal_(v, 0.0, 1.0 / std::sqrt(double(q)), options.generator);
  normal_(c, 0.0, 1.0, options.generator);
  U = register_parameter("U", u);
  V = register_parameter("V", v);
  s = register_parameter("s", c);
  if (options.bias) init_bias(to, options.generator);
}

StructureCost Blast::cost(int64_t in_features, int64_t out_features, int64_t blocks, int64_t rank) {
  const int64_t per_rank = in_features + out_features + blocks * blocks;
  return {rank * per_rank, 2 * rank * per_rank};
}

LinearSpec Blast::resolve(const LinearSpec& spec, int64_t in_features, int64_t out_features) {
  if (spec.blocks == 0) spec_error(spec, "blocks", "missing: blast needs the number of blocks per side (e.g. 3)");
  check_blocks_divide(spec, spec.blocks, in_features, out_features);
  LinearSpec resolved = spec;
  resolved.rank = resolve_rank(spec, in_features, out_features, std::min(in_features, out_features),
                               [&](int64_t rank) { return cost(in_features, out_features, spec.blocks, rank); });
  resolved.flops_ratio = resolved.params_ratio = 0.0;  // now given by the rank
  return resolved;
}

Tensor Blast::forward(const Tensor& x) {
  check_input("Blast", x);
  return blast_linear(x, U, V, s, bias);
}

int64_t Blast::num_params() const { return cost(in_features(), out_features(), blocks_, rank_).params + bias_numel(); }

int64_t Blast::flops(int64_t tokens) const {
  return tokens * cost(in_features(), out_features(), blocks_, rank_).flops_per_token;
}

Tensor Blast::to_dense() const { return blast_dense(U, V, s); }

double Blast::project(const Tensor& weight) {
  check_projection_target("Blast", weight);
  NoGradGuard no_grad;
  BlastFactorization f = blast_factorize(weight, blocks_, rank_, projection);
  ops::copy_(U, f.factors.U);
  ops::copy_(V, f.factors.V);
  ops::copy_(s, f.factors.s);
  return relative_error(weight, to_dense());
}

}  // namespace strata
