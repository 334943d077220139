// Fused scaled-dot-product attention, FlashAttention-2 style (Dao, 2023).
//
// Shapes: q (B, H, Tq, D), k and v (B, H, Tk, D), out (B, H, Tq, D),
// lse (B, H, Tq); all contiguous. For one (b, h) pair:
//   S = scale * q k^T (+ causal mask: key j > query i is -inf)
//   P = softmax(S) row-wise,  lse_i = logsumexp_j S_ij
//   out = (P o Z) v           Z = dropout keep mask / (1 - p)
//
// The Tq x Tk matrix S is never stored. Forward walks each tile of kBq query
// rows over the key tiles of kBk keys, keeping a running row maximum m and
// running sum l (online softmax) and rescaling the partial output whenever m
// grows; only out and lse are saved. Backward recomputes each P tile from
// lse (P = exp(S - lse)) and, with Drow_i = dout_i . out_i,
//   dV += (P o Z)^T dO,  dP = dO V^T,  dS = P o (dP o Z - Drow),
//   dQ += scale dS K,    dK += scale dS^T Q.
// Tile products go to OpenBLAS, which runs single-threaded inside our
// parallel regions; per-thread scratch is a few kBq x kBk tiles.
//
// Work is split so that every output element is computed by one thread in a
// fixed order: forward over (b, h, query tile), backward over (b, h). The
// result therefore does not depend on the number of threads.
#include <cblas.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "core/cpu/cpu_backend.h"
#include "core/cpu/vector_math.h"

namespace strata::cpu {

namespace {

constexpr int64_t kBq = 64;  // query rows per tile
constexpr int64_t kBk = 64;  // keys per tile; also the row stride of score tiles

// Row-major C = alpha * op(A) op(B) + beta * C with op(A) m x k, op(B) k x n.
template <typename T>
void tile_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
          const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  const auto ta = trans_a ? CblasTrans : CblasNoTrans;
  const auto tb = trans_b ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<T, float>) {
    cblas_sgemm(CblasRowMajor, ta, tb, int(m), int(n), int(k), alpha, a, int(lda), b, int(ldb), beta, c, int(ldc));
  } else {
    cblas_dgemm(CblasRowMajor, ta, tb, int(m), int(n), int(k), alpha, a, int(lda), b, int(ldb), beta, c, int(ldc));
  }
}

// Sizes of one call, shared by forward and backward.
struct Problem {
  int64_t heads = 0;  // B * H
  int64_t tq = 0, tk = 0, d = 0;
  bool causal = false;

  Problem(const Tensor& q, const Tensor& k, bool causal_)
      : heads(q.size(0) * q.size(1)), tq(q.size(2)), tk(k.size(2)), d(q.size(3)), causal(causal_) {}

  // Keys query row i may attend to: [0, visible_keys(i)).
  int64_t visible_keys(int64_t i) const { return causal ? std::min(tk, i + 1) : tk; }
  // Of the keys [j0, j0 + bk), how many row i sees (a prefix, possibly empty).
  int64_t visible_in_tile(int64_t i, int64_t j0, int64_t bk) const {
    return std::clamp<int64_t>(visible_keys(i) - j0, 0, bk);
  }
};

// bits[4 * b + lane] = lane of Philox block counter + b, for b < blocks.
inline void philox_blocks(uint64_t counter, uint64_t seed, int64_t blocks, uint32_t* bits) {
  for (int64_t b = 0; b < blocks; ++b) {
    const auto [x0, x1, x2, x3] = philox4x32(counter + uint64_t(b), 0, seed);
    bits[4 * b] = x0;
    bits[4 * b + 1] = x1;
    bits[4 * b + 2] = x2;
    bits[4 * b + 3] = x3;
  }
}

// The dropout mask on attention probabilities. Element
// e = ((b*H + h)*Tq + i)*Tk + j is kept iff its Philox uniform is > p, so
// backward regenerates exactly the mask forward used, on any thread.
template <typename T>
struct Dropout {
  double p = 0.0;
  PhiloxState rng;
  T keep_scale = T(1);  // 1 / (1 - p)

  explicit Dropout(const AttentionArgs& args) : p(args.dropout_p), rng(args.dropout_rng), keep_scale(T(1.0 / (1.0 - p))) {}
  bool active() const { return p > 0.0; }

  // factor[c] = Z of element e0 + c for c < n <= kBk. The Philox blocks
  // are drawn first, in a loop that vectorises, then read from the offset
  // of e0 within its block.
  void factors(uint64_t e0, int64_t n, T* factor) const {
    const uint64_t first_block = e0 / 4;
    const int64_t blocks = int64_t((e0 + uint64_t(n) + 3) / 4 - first_block);
    uint32_t bits[kBk + 8];
    philox_blocks(rng.offset + first_block, rng.seed, blocks, bits);
    const uint32_t* u = bits + (e0 - 4 * first_block);
    const double drop_p = p;
    const T keep = keep_scale;
    for (int64_t c = 0; c < n; ++c) factor[c] = double(uint_to_unit_float(u[c])) > drop_p ? keep : T(0);
  }

  // Z for the tile of rows [i0, i0 + bq) and keys [j0, j0 + bk) of head bh,
  // stored with row stride kBk.
  void tile_factors(const Problem& pr, int64_t bh, int64_t i0, int64_t bq, int64_t j0, int64_t bk, T* z) const {
    for (int64_t r = 0; r < bq; ++r) {
      const uint64_t row = uint64_t(bh * pr.tq + i0 + r);
      factors(row * uint64_t(pr.tk) + uint64_t(j0), bk, z + r * kBk);
    }
  }
};

// ---- forward ----------------------------------------------------------------

// Running softmax statistics of the query rows of one tile.
template <typename T>
struct RowStats {
  T m[kBq];  // running max of the scaled scores seen so far
  T l[kBq];  // running sum of exp(score - m)
};

template <typename T>
T row_max(const T* x, int64_t n) {
  T result = x[0];
#pragma omp simd reduction(max : result)
  for (int64_t c = 1; c < n; ++c) result = x[c] > result ? x[c] : result;
  return result;
}

template <typename T>
T row_sum(const T* x, int64_t n) {
  T result = 0;
#pragma omp simd reduction(+ : result)
  for (int64_t c = 0; c < n; ++c) result += x[c];
  return result;
}

// x[c] = exp(x[c] - shift) for c < n.
template <typename T>
void exp_shifted(T* x, int64_t n, T shift) {
#pragma omp simd
  for (int64_t c = 0; c < n; ++c) x[c] = std::exp(x[c] - shift);  // vectorised through libmvec
}

// Turns one row of scores s[0, bk) into unnormalised probabilities
// exp(s - m_new) (0 past `visible`), folds them into the row's running max
// and sum, and returns the factor exp(m_old - m_new) by which the partial
// output of the row must be rescaled.
template <typename T>
T online_softmax_row(T* s, int64_t visible, int64_t bk, T& m, T& l) {
  if (visible == 0) {  // the whole tile is above the causal diagonal for this row
    std::fill(s, s + bk, T(0));
    return T(1);
  }
  const T m_new = std::max(m, row_max(s, visible));
  const T alpha = std::exp(m - m_new);  // 0 on the first tile, where m = -inf
  exp_shifted(s, visible, m_new);
  const T sum = row_sum(s, visible);
  std::fill(s + visible, s + bk, T(0));
  m = m_new;
  l = l * alpha + sum;
  return alpha;
}

// Per-thread scratch of the forward pass.
template <typename T>
struct ForwardScratch {
  std::vector<T> s = std::vector<T>(kBq * kBk);  // scores, then probabilities
  std::vector<T> z = std::vector<T>(kBq * kBk);  // dropout factors
  RowStats<T> stats;
};

// out and lse for query rows [i0, i0 + bq) of head bh.
template <typename T>
void forward_tile(const Problem& pr, const Dropout<T>& dropout, T scale, int64_t bh, int64_t i0, const T* q,
                  const T* k, const T* v, T* out, T* lse, ForwardScratch<T>& scratch) {
  const int64_t d = pr.d;
  const int64_t bq = std::min(kBq, pr.tq - i0);
  const T* qt = q + (bh * pr.tq + i0) * d;
  const T* kh = k + bh * pr.tk * d;
  const T* vh = v + bh * pr.tk * d;
  T* ot = out + (bh * pr.tq + i0) * d;  // accumulated in place, normalised at the end
  T* s = scratch.s.data();
  RowStats<T>& st = scratch.stats;

  std::fill(ot, ot + bq * d, T(0));
  std::fill(st.m, st.m + bq, -std::numeric_limits<T>::infinity());
  std::fill(st.l, st.l + bq, T(0));

  const int64_t key_end = pr.visible_keys(i0 + bq - 1);  // tiles past it are fully masked
  for (int64_t j0 = 0; j0 < key_end; j0 += kBk) {
    const int64_t bk = std::min(kBk, key_end - j0);
    tile_gemm<T>(false, true, bq, bk, d, scale, qt, d, kh + j0 * d, d, T(0), s, kBk);  // S = scale Q K^T
    if (dropout.active()) dropout.tile_factors(pr, bh, i0, bq, j0, bk, scratch.z.data());
    for (int64_t r = 0; r < bq; ++r) {
      T* srow = s + r * kBk;
      const T alpha = online_softmax_row(srow, pr.visible_in_tile(i0 + r, j0, bk), bk, st.m[r], st.l[r]);
      if (alpha != T(1)) {
        for (int64_t c = 0; c < d; ++c) ot[r * d + c] *= alpha;
      }
      if (dropout.active()) {  // after the sum: lse is of the undropped softmax
        const T* zrow = scratch.z.data() + r * kBk;
        for (int64_t c = 0; c < bk; ++c) srow[c] *= zrow[c];
      }
    }
    tile_gemm<T>(false, false, bq, d, bk, T(1), s, kBk, vh + j0 * d, d, T(1), ot, d);  // O += P V
  }

  for (int64_t r = 0; r < bq; ++r) {
    const T inv_l = T(1) / st.l[r];
    for (int64_t c = 0; c < d; ++c) ot[r * d + c] *= inv_l;
    lse[bh * pr.tq + i0 + r] = st.m[r] + std::log(st.l[r]);
  }
}

template <typename T>
void attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionArgs& args,
                       const Tensor& out, const Tensor& lse) {
  const Problem pr(q, k, args.causal);
  const Dropout<T> dropout(args);
  const T scale = T(args.scale);
  const int64_t q_tiles = (pr.tq + kBq - 1) / kBq;
  const int64_t tasks = pr.heads * q_tiles;
  const bool parallel = tasks > 1 && pr.heads * pr.tq * pr.tk * pr.d >= kParallelGrain;
  const T* pq = q.data<T>();
  const T* pk = k.data<T>();
  const T* pv = v.data<T>();
  T* po = out.data<T>();
  T* pl = lse.data<T>();

#pragma omp parallel if (parallel)
  {
    ForwardScratch<T> scratch;
    // Dynamic: with a causal mask later query tiles have more keys.
#pragma omp for schedule(dynamic)
    for (int64_t task = 0; task < tasks; ++task) {
      const int64_t bh = task / q_tiles, i0 = (task % q_tiles) * kBq;
      forward_tile(pr, dropout, scale, bh, i0, pq, pk, pv, po, pl, scratch);
    }
  }
}

// ---- backward ---------------------------------------------------------------

// Per-thread scratch of the backward pass.
template <typename T>
struct BackwardScratch {
  std::vector<T> p = std::vector<T>(kBq * kBk);   // probabilities P
  std::vector<T> pz = std::vector<T>(kBq * kBk);  // P o Z (dropout only)
  std::vector<T> dp = std::vector<T>(kBq * kBk);  // dP, then dS
  std::vector<T> z = std::vector<T>(kBq * kBk);   // dropout factors Z
  std::vector<T> drow;                            // Drow_i = dout_i . out_i, one head
};

// P = exp(scale Q K^T - lse) for one tile, 0 above the causal diagonal.
template <typename T>
void recompute_probabilities(const Problem& pr, T scale, int64_t i0, int64_t bq, int64_t j0, int64_t bk,
                             const T* qt, const T* kt, const T* lse_t, T* p) {
  tile_gemm<T>(false, true, bq, bk, pr.d, scale, qt, pr.d, kt, pr.d, T(0), p, kBk);
  for (int64_t r = 0; r < bq; ++r) {
    T* prow = p + r * kBk;
    const int64_t visible = pr.visible_in_tile(i0 + r, j0, bk);
    exp_shifted(prow, visible, lse_t[r]);
    std::fill(prow + visible, prow + bk, T(0));
  }
}

// All gradients of head bh. One thread owns the head, so dq, dk and dv are
// accumulated in place without races.
template <typename T>
void backward_head(const Problem& pr, const Dropout<T>& dropout, T scale, int64_t bh, const T* q, const T* k,
                   const T* v, const T* out, const T* lse, const T* dout, T* dq, T* dk, T* dv,
                   BackwardScratch<T>& scratch) {
  const int64_t d = pr.d;
  const int64_t head_q = bh * pr.tq * d, head_k = bh * pr.tk * d;
  T* drow = scratch.drow.data();
  for (int64_t i = 0; i < pr.tq; ++i) {
    const T* o = out + head_q + i * d;
    const T* g = dout + head_q + i * d;
    T acc = 0;
    for (int64_t c = 0; c < d; ++c) acc += o[c] * g[c];
    drow[i] = acc;
  }

  T* p = scratch.p.data();
  T* dp = scratch.dp.data();
  T* z = scratch.z.data();
  // The probabilities that multiply dO into dV: P o Z with dropout, else P.
  T* pz = dropout.active() ? scratch.pz.data() : p;

  for (int64_t j0 = 0; j0 < pr.tk; j0 += kBk) {
    const int64_t bk = std::min(kBk, pr.tk - j0);
    const T* kt = k + head_k + j0 * d;
    const T* vt = v + head_k + j0 * d;
    T* dkt = dk + head_k + j0 * d;
    T* dvt = dv + head_k + j0 * d;
    // Causal: query tiles entirely before key j0 see none of these keys.
    const int64_t first_i0 = pr.causal ? (j0 / kBq) * kBq : 0;
    for (int64_t i0 = first_i0; i0 < pr.tq; i0 += kBq) {
      const int64_t bq = std::min(kBq, pr.tq - i0);
      const T* qt = q + head_q + i0 * d;
      const T* dout_t = dout + head_q + i0 * d;
      T* dqt = dq + head_q + i0 * d;
      const T* lse_t = lse + bh * pr.tq + i0;
      const T* drow_t = drow + i0;

      recompute_probabilities(pr, scale, i0, bq, j0, bk, qt, kt, lse_t, p);
      if (dropout.active()) {
        dropout.tile_factors(pr, bh, i0, bq, j0, bk, z);
        for (int64_t r = 0; r < bq; ++r) {
          for (int64_t c = 0; c < bk; ++c) pz[r * kBk + c] = p[r * kBk + c] * z[r * kBk + c];
        }
      }
      tile_gemm<T>(true, false, bk, d, bq, T(1), pz, kBk, dout_t, d, T(1), dvt, d);  // dV += (P o Z)^T dO
      tile_gemm<T>(false, true, bq, bk, d, T(1), dout_t, d, vt, d, T(0), dp, kBk);   // dP = dO V^T
      for (int64_t r = 0; r < bq; ++r) {  // dS = P o (dP o Z - Drow), in place in dp
        T* dprow = dp + r * kBk;
        const T* prow = p + r * kBk;
        const T drow_r = drow_t[r];
        if (dropout.active()) {
          const T* zrow = z + r * kBk;
          for (int64_t c = 0; c < bk; ++c) dprow[c] = prow[c] * (dprow[c] * zrow[c] - drow_r);
        } else {
          for (int64_t c = 0; c < bk; ++c) dprow[c] = prow[c] * (dprow[c] - drow_r);
        }
      }
      tile_gemm<T>(false, false, bq, d, bk, scale, dp, kBk, kt, d, T(1), dqt, d);  // dQ += scale dS K
      tile_gemm<T>(true, false, bk, d, bq, scale, dp, kBk, qt, d, T(1), dkt, d);   // dK += scale dS^T Q
    }
  }
}

template <typename T>
void attention_backward_impl(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                             const Tensor& lse, const Tensor& dout, const AttentionArgs& args, const Tensor& dq,
                             const Tensor& dk, const Tensor& dv) {
  const Problem pr(q, k, args.causal);
  const Dropout<T> dropout(args);
  const T scale = T(args.scale);
  const bool parallel = pr.heads > 1 && pr.heads * pr.tq * pr.tk * pr.d >= kParallelGrain;
  const T* pq = q.data<T>();
  const T* pk = k.data<T>();
  const T* pv = v.data<T>();
  const T* po = out.data<T>();
  const T* pl = lse.data<T>();
  const T* pg = dout.data<T>();
  T* pdq = dq.data<T>();
  T* pdk = dk.data<T>();
  T* pdv = dv.data<T>();

#pragma omp parallel if (parallel)
  {
    BackwardScratch<T> scratch;
    scratch.drow.resize(size_t(pr.tq));
#pragma omp for schedule(dynamic)
    for (int64_t bh = 0; bh < pr.heads; ++bh) {
      backward_head(pr, dropout, scale, bh, pq, pk, pv, po, pl, pg, pdq, pdk, pdv, scratch);
    }
  }
}

}  // namespace

void CpuBackend::attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionArgs& args,
                           const Tensor& out, const Tensor& lse) {
  dispatch_floating(q.dtype(), "attention", [&](auto t) {
    attention_forward<decltype(t)>(q, k, v, args, out, lse);
  });
}

void CpuBackend::attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                                    const Tensor& lse, const Tensor& dout, const AttentionArgs& args,
                                    const Tensor& dq, const Tensor& dk, const Tensor& dv) {
  dispatch_floating(q.dtype(), "attention_backward", [&](auto t) {
    attention_backward_impl<decltype(t)>(q, k, v, out, lse, dout, args, dq, dk, dv);
  });
}

}  // namespace strata::cpu
