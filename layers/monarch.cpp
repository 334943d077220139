#include "layers/monarch.h"

#include <algorithm>
#include <cmath>

#include "autograd/functions.h"
#include "core/linalg.h"

namespace strata {

namespace {

// Entry k of a stacked (k, ...) tensor, as a view.
Tensor entry(const Tensor& t, int64_t k) { return ops::squeeze(ops::slice(t, 0, k, k + 1), 0); }

// The (s x p) view of block (i, j) of an (m x n) matrix: rows i, i + b, ...
// and the contiguous columns of chunk j.
Tensor monarch_block(const Tensor& w, int64_t b, int64_t i, int64_t j) {
  const int64_t p = w.size(1) / b;
  return ops::slice(ops::slice(w, 0, i, w.size(0), b), 1, j * p, (j + 1) * p);
}

}  // namespace

Monarch::Monarch(int64_t in_features, int64_t out_features, int64_t blocks, int64_t rank, LinearOptions options)
    : StructuredLinear(in_features, out_features), blocks_(blocks), block_rank_(blocks > 0 ? rank / blocks : 0) {
  if (blocks < 1 || in_features % blocks != 0 || out_features % blocks != 0) {
    fail("Monarch", "{} blocks do not divide the layer {} -> {}", blocks, in_features, out_features);
  }
  if (rank < blocks || rank % blocks != 0 || rank > std::min(in_features, out_features)) {
    fail("Monarch", "rank must be a multiple of blocks={} in [{}, {}] for {} -> {}, got {}", blocks, blocks,
         std::min(in_features, out_features), in_features, out_features, rank);
  }
  TensorOptions to{options.dtype, options.device};
  // r' sigma^4 = 1/(3 in): see the top of monarch.h.
  const double sigma = std::pow(3.0 * double(in_features) * double(block_rank_), -0.25);
  Tensor w1 = empty({blocks, rank, in_features / blocks}, to), w2 = empty({blocks, out_features / blocks, rank}, to);
  normal_(w1, 0.0, sigma, options.generator);
  normal_(w2, 0.0, sigma, options.generator);
  blkdiag1 = register_parameter("blkdiag1", w1);
  blkdiag2 = register_parameter("blkdiag2", w2);
  if (options.bias) init_bias(to, options.generator);
}

Tensor Monarch::forward(const Tensor& x) {
  check_input("Monarch", x);
  const int64_t b = blocks_, rb = block_rank_, n = in_features(), m = out_features();
  Tensor x2 = x.reshape({-1, n});
  const int64_t N = x2.size(0);
  // Stage 1, R: input chunk j -> (b r') values; x's column blocks are a
  // strided batch that the GEMM reads in place.
  Tensor xb = x2.view({N, b, n / b}).permute({1, 0, 2});  // (j, N, p)
  Tensor h = matmul(xb, blkdiag1.transpose(1, 2));        // (j, N, i r' + t)
  // P^T: regroup by output block i: the one copy of the (N x b r)
  // intermediate (and of its gradient), in contiguous runs of r'.
  Tensor hp = h.view({b, N, b, rb}).permute({2, 1, 0, 3}).reshape({b, N, b * rb});  // (i, N, j r' + t)
  // Stage 2, L: one GEMM per output block.
  Tensor o = matmul(hp, blkdiag2.transpose(1, 2));  // (i, N, s)
  // P: output row s b + i. The interleaving copy runs apart from the bias
  // add: fused, the add's inner loop would be b long (measured 1.5x slower).
  // The (b N, s) round trip is free here; in backward it makes the view's
  // gradient copy the strided dL/do once, contiguous, for both of stage 2's
  // gradient GEMMs (which would each copy it otherwise).
  Tensor y = o.view({b * N, m / b}).view({b, N, m / b}).permute({1, 2, 0}).contiguous().view({N, m});  // (N, s, i)
  if (bias.defined()) y = add(y, bias);
  Shape y_shape = x.shape();
  y_shape.back() = m;
  return y.view(y_shape);
}

int64_t Monarch::num_params() const { return cost(in_features(), out_features(), rank()).params + bias_numel(); }

int64_t Monarch::flops(int64_t tokens) const {
  return tokens * cost(in_features(), out_features(), rank()).flops_per_token;
}

Tensor Monarch::to_dense() const {
  const int64_t b = blocks_, rb = block_rank_;
  Tensor w = empty({out_features(), in_features()}, blkdiag1.options());
  for (int64_t i = 0; i < b; ++i) {
    for (int64_t j = 0; j < b; ++j) {
      Tensor left = ops::slice(entry(blkdiag2, i), 1, j * rb, (j + 1) * rb);    // (s, r')
      Tensor right = ops::slice(entry(blkdiag1, j), 0, i * rb, (i + 1) * rb);  // (r', p)
      ops::copy_(monarch_block(w, b, i, j), ops::matmul(left, right));
    }
  }
  return w;
}

double Monarch::project(const Tensor& weight) {
  check_projection_target("Monarch", weight);
  NoGradGuard no_grad;
  const int64_t b = blocks_, rb = block_rank_;
  Tensor w = ops::cast(weight, DType::f64);  // f64 SVDs: exact enough for any target dtype
  for (int64_t i = 0; i < b; ++i) {
    for (int64_t j = 0; j < b; ++j) {
      linalg::SVD svd = linalg::svd(ops::contiguous(monarch_block(w, b, i, j)));
      Tensor root = ops::unary(UnaryOp::sqrt, ops::slice(svd.s, 0, 0, rb));  // sqrt(S_r'), (r')
      ops::copy_(ops::slice(entry(blkdiag2, i), 1, j * rb, (j + 1) * rb),
                 ops::mul(ops::slice(svd.u, 1, 0, rb), root));
      ops::copy_(ops::slice(entry(blkdiag1, j), 0, i * rb, (i + 1) * rb),
                 ops::mul(ops::slice(svd.vt, 0, 0, rb), ops::unsqueeze(root, 1)));
    }
  }
  return relative_error(weight, to_dense());
}

StructureCost Monarch::cost(int64_t in_features, int64_t out_features, int64_t rank) {
  int64_t params = rank * (in_features + out_features);
  return {params, 2 * params};
}

LinearSpec Monarch::resolve(const LinearSpec& spec, int64_t in_features, int64_t out_features) {
  LinearSpec out = spec;
  out.blocks = spec.blocks != 0 ? spec.blocks : kDefaultBlocks;
  check_blocks_divide(out, out.blocks, in_features, out_features);
  const int64_t b = out.blocks, max_rank = std::min(in_features, out_features);
  auto total_cost = [&](int64_t r) { return cost(in_features, out_features, r); };
  if (spec.rank != 0) {
    resolve_rank(spec, in_features, out_features, max_rank, total_cost);  // range and rank-vs-budget checks
    if (spec.rank % b != 0) {
      spec_error(spec, "rank", fmt::format("the total rank must be a multiple of blocks={} (per-block rank "
                                           "rank/blocks), got {}", b, spec.rank));
    }
  } else {
    // Solve for the per-block rank r'; the layer's rank is b r'. Its
    // smallest size is rank b (r' = 1): name that rather than "rank 1".
    const bool by_flops = spec.flops_ratio > 0.0, by_params = spec.params_ratio > 0.0;
    if (by_flops != by_params) {  // one budget (resolve_rank reports the other cases)
      const StructureCost smallest = total_cost(b);
      const double dense = double(in_features) * double(out_features);
      if (by_flops ? double(smallest.flops_per_token) > spec.flops_ratio * 2.0 * dense
                   : double(smallest.params) > spec.params_ratio * dense) {
        spec_error(spec, by_flops ? "flops_ratio" : "params_ratio",
                   fmt::format("budget {} is too small: rank {} (1 per block) already exceeds it for {} -> {}",
                               by_flops ? spec.flops_ratio : spec.params_ratio, b, in_features, out_features));
      }
    }
    out.rank = b * resolve_rank(spec, in_features, out_features, max_rank / b,
                                [&](int64_t rb) { return total_cost(b * rb); });
  }
  out.flops_ratio = out.params_ratio = 0.0;  // now an explicit size
  return out;
}

}  // namespace strata
