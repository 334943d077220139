#include "layers/block_diagonal.h"

#include <cmath>

#include "autograd/functions.h"

namespace strata {

namespace {

// The diagonal (p x q) blocks of the (out x in) matrix, as a (b, p, q) view:
// block k starts at row k p, column k q, so consecutive blocks are
// p * in + q elements apart.
Tensor diagonal_blocks(const Tensor& dense, int64_t b) {
  const int64_t out = dense.size(0), in = dense.size(1), p = out / b, q = in / b;
  return as_strided(dense, {b, p, q}, {p * in + q, in, 1}, dense.offset());
}

}  // namespace

BlockDiagonal::BlockDiagonal(int64_t in_features, int64_t out_features, int64_t blocks, LinearOptions options)
    : StructuredLinear(in_features, out_features), blocks_(blocks) {
  if (blocks < 1 || in_features % blocks != 0 || out_features % blocks != 0) {
    fail("BlockDiagonal", "{} blocks do not divide the layer {} -> {}", blocks, in_features, out_features);
  }
  TensorOptions to{options.dtype, options.device};
  const int64_t p = out_features / blocks, q = in_features / blocks;
  const double bound = 1.0 / std::sqrt(double(q));
  Tensor w = empty({blocks, p, q}, to);
  uniform_(w, -bound, bound, options.generator);
  weight = register_parameter("weight", w);
  if (options.bias) init_bias(to, options.generator);
}

Tensor BlockDiagonal::forward(const Tensor& x) {
  check_input("BlockDiagonal", x);
  const int64_t b = blocks_, in = in_features(), out = out_features();
  Tensor x2 = x.reshape({-1, in});
  const int64_t N = x2.size(0);
  // x's column blocks as a strided batch (b, N, q): the GEMM reads them in
  // place, and its backward reads the gradient's column blocks in place too.
  Tensor xb = x2.view({N, b, in / b}).permute({1, 0, 2});
  Tensor yb = matmul(xb, weight.transpose(1, 2)).permute({1, 0, 2});  // (N, b, p) view
  // Back to (N, out): one pass over y, shared with the bias add.
  Tensor y = bias.defined() ? add(yb, bias.view({b, out / b})) : yb.contiguous();
  Shape y_shape = x.shape();
  y_shape.back() = out;
  return y.view(y_shape);
}

int64_t BlockDiagonal::num_params() const {
  return cost(in_features(), out_features(), blocks_).params + bias_numel();
}

int64_t BlockDiagonal::flops(int64_t tokens) const {
  return tokens * cost(in_features(), out_features(), blocks_).flops_per_token;
}

Tensor BlockDiagonal::to_dense() const {
  Tensor w = zeros({out_features(), in_features()}, weight.options());
  ops::copy_(diagonal_blocks(w, blocks_), weight);
  return w;
}

double BlockDiagonal::project(const Tensor& target) {
  check_projection_target("BlockDiagonal", target);
  NoGradGuard no_grad;
  ops::copy_(weight, diagonal_blocks(ops::contiguous(target), blocks_));
  return relative_error(target, to_dense());
}

StructureCost BlockDiagonal::cost(int64_t in_features, int64_t out_features, int64_t blocks) {
  int64_t params = in_features * out_features / blocks;
  return {params, 2 * params};
}

LinearSpec BlockDiagonal::resolve(const LinearSpec& spec, int64_t in_features, int64_t out_features) {
  if (spec.rank != 0) spec_error(spec, "rank", "block_diagonal takes no rank (its size is `blocks`)");
  if (spec.flops_ratio < 0.0) spec_error(spec, "flops_ratio", fmt::format("must be positive, got {}", spec.flops_ratio));
  if (spec.params_ratio < 0.0) spec_error(spec, "params_ratio", fmt::format("must be positive, got {}", spec.params_ratio));
  const bool by_flops = spec.flops_ratio > 0.0, by_params = spec.params_ratio > 0.0;
  if (by_flops && by_params) spec_error(spec, "flops_ratio", "give flops_ratio or params_ratio, not both");
  LinearSpec out = spec;
  out.flops_ratio = out.params_ratio = 0.0;  // now an explicit size
  if (spec.blocks != 0) {
    if (by_flops || by_params) spec_error(spec, "blocks", "give blocks or a budget (flops_ratio/params_ratio), not both");
    check_blocks_divide(spec, spec.blocks, in_features, out_features);
    return out;
  }
  if (!by_flops && !by_params) spec_error(spec, "blocks", "missing: give blocks, flops_ratio or params_ratio");
  const double dense = double(in_features) * double(out_features);
  for (int64_t b = 1; b <= std::min(in_features, out_features); ++b) {
    if (in_features % b != 0 || out_features % b != 0) continue;
    StructureCost c = cost(in_features, out_features, b);
    bool fits = by_flops ? double(c.flops_per_token) <= spec.flops_ratio * 2.0 * dense
                         : double(c.params) <= spec.params_ratio * dense;
    if (fits) {
      out.blocks = b;
      return out;
    }
  }
  spec_error(spec, by_flops ? "flops_ratio" : "params_ratio",
             fmt::format("budget {} is too small: no number of blocks dividing both {} and {} fits it",
                         by_flops ? spec.flops_ratio : spec.params_ratio, in_features, out_features));
}

}  // namespace strata
