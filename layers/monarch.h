#pragma once
// Monarch (HazyResearch/fly's "blockdiag butterfly", as used in the BLAST and
// GBLR comparisons): M = P L P^T R, two block-diagonal factors with a
// reshape-transpose permutation between them and one at the output. With b
// blocks, per-block rank r' and TOTAL rank r = b r' (spec.rank is r, as in
// the papers' "Monarch (r, b)" columns, e.g. (192, 4) for GPT-2), for an
// (m x n) = (out x in) layer with n = b p, m = b s:
//   blkdiag1 (b, b r', p): R = diag(blkdiag1[j]), input chunk j (contiguous
//            features j p .. (j+1) p) -> b r' values, row index i r' + t
//            (i < b the output block it feeds, t < r' the rank index);
//   blkdiag2 (b, s, b r'): L = diag(blkdiag2[i]), column index j r' + t;
//   output row s b + i of M comes from block i (rows interleaved, stride b).
// Hence M viewed as b x b blocks M_ij = M[i::b, j p:(j+1) p] (s x p) is
//   M_ij = blkdiag2[i][:, j r':(j+1) r'] blkdiag1[j][i r':(i+1) r', :]  (rank r').
// fly orders blkdiag1's rows (t, i), row t b + i; ours is the same layer with
// the b r' intermediate features relabelled (fly weights load by permuting
// rows). Ours makes the permutation between the GEMMs copy r'-long
// contiguous runs both ways; fly's order makes its backward copy runs of b
// (4096 x 768, r = 192, b = 4, one thread: 12 ms there, 3 ms here).
//   forward: h = per-chunk GEMM (b, N, b r') -> permute to (b, N, b r') grouped
//            by output block -> per-block GEMM (b, N, s) -> interleave (+ bias)
//   params:  r (m + n) (+ m);  flops(T) = 2 T r (m + n)
//   project: rank-r' truncated SVD of every block M_ij (closed form, optimal
//            block by block); rectangular m x n supported (fly's open gap).
//   init:    blkdiag1, blkdiag2 ~ N(0, sigma^2) with r' sigma^4 = 1/(3 n): an
//            entry of M sums r' products of two independent N(0, sigma^2), so
//            it has the dense init's variance 1/(3 in); the factors share one
//            scale (balanced), like the projection.
// Sizes: b must divide both dims; 1 <= r' <= min(m, n) / b, i.e. the rank is a
// multiple of b up to min(m, n). Parameters in order: blkdiag1, blkdiag2, bias.
#include "layers/linear.h"
#include "layers/linear_spec.h"

namespace strata {

class Monarch : public StructuredLinear {
 public:
  // rank: the total rank b r' (a multiple of blocks).
  Monarch(int64_t in_features, int64_t out_features, int64_t blocks, int64_t rank, LinearOptions options = {});

  Tensor forward(const Tensor& x) override;
  int64_t num_params() const override;
  int64_t flops(int64_t tokens) const override;
  Tensor to_dense() const override;
  double project(const Tensor& weight) override;

  int64_t blocks() const { return blocks_; }
  int64_t rank() const { return blocks_ * block_rank_; }
  int64_t block_rank() const { return block_rank_; }

  // The blocks a spec gets when it names none: the papers' from-scratch setting.
  static constexpr int64_t kDefaultBlocks = 4;
  // Weight parameters and FLOPs per token at a total rank (no bias).
  static StructureCost cost(int64_t in_features, int64_t out_features, int64_t rank);
  // The spec with blocks (default kDefaultBlocks, must divide both dims) and
  // the total rank: given (a multiple of blocks, at most min(in, out)) or the
  // largest b r' whose cost fits the budget.
  static LinearSpec resolve(const LinearSpec& spec, int64_t in_features, int64_t out_features);

  Tensor blkdiag1;  // (b, b r', in / b)
  Tensor blkdiag2;  // (b, out / b, b r')

 private:
  int64_t blocks_, block_rank_;
};

}  // namespace strata
