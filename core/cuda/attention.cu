// Fused scaled-dot-product attention, flash-style (the Tq x Tk score matrix
// is never stored), forward and backward. Same contract as
// core/cpu/attention.cpp:
//   q (heads, Tq, D), k and v (heads, Tk, D), out (heads, Tq, D), lse (heads, Tq),
//   heads = B * H, all contiguous.
//   S = scale q k^T (causal: key j > query i is masked), P = softmax(S),
//   lse_i = logsumexp_j S_ij, out = (P o Z) v with Z the dropout factors.
//   Z for element e = (bh Tq + i) Tk + j keeps iff its Philox uniform > p,
//   the indexing of the CPU backend, so both draw the same mask.
//
// Layout of the work: one warp per query row (forward, dq) or key row
// (dk, dv); within a warp, lane t takes key (or query) j0 + t of a tile of
// 32, computes its score with a full dot product over D, and the warp then
// folds the 32 results into the row's output, lanes splitting D. Running
// max and sum (online softmax) rescale the partial output as in
// FlashAttention. Backward recomputes P from lse and, with
// Drow_i = dout_i . out_i:
//   dV_j = sum_i (P o Z)_ij dO_i,   dP = dO V^T,   dS = P o (dP o Z - Drow),
//   dQ_i = scale sum_j dS_ij K_j,   dK_j = scale sum_i dS_ij Q_i.
// dq and (dk, dv) are separate kernels (by query rows, by key rows), so no
// two warps write one element: no atomics, and the result is deterministic.
//
// This favours clarity over speed: no tensor cores and no shared K/V tiles.
// cuDNN's fused SDPA (or a tiled kernel) is the next step for performance.
#include "core/cuda/common.cuh"

namespace strata::cuda {

namespace {

template <typename T>
struct DropoutMask {
  double p;
  PhiloxState rng;
  T keep_scale;  // 1 / (1 - p)

  __device__ bool active() const { return p > 0.0; }
  // Z of element e.
  __device__ T factor(uint64_t e) const {
    if (!active()) return T(1);
    return double(philox_uniform(rng, e)) > p ? keep_scale : T(0);
  }
};

template <typename T>
DropoutMask<T> make_mask(const AttentionGeometry& g) {
  return {g.dropout_p, g.dropout_rng, T(1.0 / (1.0 - g.dropout_p))};
}

// Keys query row i sees: [0, visible_keys).
__device__ inline int64_t visible_keys(const AttentionGeometry& g, int64_t i) {
  return g.causal ? min(g.tk, i + 1) : g.tk;
}

// Dot product of one row held in shared memory with one row in global memory.
template <typename T>
__device__ inline T dot(const T* shared_row, const T* global_row, int64_t d) {
  T acc = 0;
  for (int64_t c = 0; c < d; ++c) acc += shared_row[c] * global_row[c];
  return acc;
}

// ---- forward ------------------------------------------------------------------------

// Shared memory per warp: q row (d), output accumulator (d), tile weights (32).
template <typename T>
__global__ void attention_forward_kernel(AttentionGeometry g, DropoutMask<T> mask, const T* q, const T* k,
                                         const T* v, T* out, T* lse) {
  extern __shared__ __align__(16) unsigned char shared_raw[];
  const int warps = blockDim.x / 32, warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t d = g.d;
  T* qs = reinterpret_cast<T*>(shared_raw) + warp * (2 * d + 32);
  T* acc = qs + d;
  T* weights = acc + d;
  const int64_t row = int64_t(blockIdx.x) * warps + warp;  // bh * tq + i
  if (row >= g.heads * g.tq) return;                       // no block-wide barriers below
  const int64_t bh = row / g.tq, i = row % g.tq;
  const T scale = T(g.scale);
  const T* kh = k + bh * g.tk * d;
  const T* vh = v + bh * g.tk * d;
  for (int64_t c = lane; c < d; c += 32) {
    qs[c] = q[row * d + c];
    acc[c] = T(0);
  }
  __syncwarp();

  const int64_t visible = visible_keys(g, i);
  T m = negative_infinity<T>(), l = T(0);
  for (int64_t j0 = 0; j0 < visible; j0 += 32) {
    const int64_t j = j0 + lane;
    const T s = j < visible ? scale * dot(qs, kh + j * d, d) : negative_infinity<T>();
    const T m_new = max(m, warp_max(s));
    const T p = j < visible ? exp(s - m_new) : T(0);
    const T alpha = exp(m - m_new);  // 0 on the first tile, where m = -inf
    l = l * alpha + warp_sum(p);     // lse is of the undropped softmax
    m = m_new;
    weights[lane] = j < visible ? p * mask.factor(uint64_t(row * g.tk + j)) : T(0);
    __syncwarp();
    const int64_t tile = visible - j0 < 32 ? visible - j0 : 32;
    for (int64_t c = lane; c < d; c += 32) {
      T a = acc[c] * alpha;
      for (int64_t t = 0; t < tile; ++t) a += weights[t] * vh[(j0 + t) * d + c];
      acc[c] = a;
    }
    __syncwarp();
  }
  const T inv_l = T(1) / l;
  for (int64_t c = lane; c < d; c += 32) out[row * d + c] = acc[c] * inv_l;
  if (lane == 0) lse[row] = m + log(l);
}

// ---- backward ----------------------------------------------------------------------

// drow[row] = dout[row] . out[row], a warp per row.
template <typename T>
__global__ void attention_drow_kernel(int64_t rows, int64_t d, const T* out, const T* dout, T* drow) {
  const int64_t row = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (row >= rows) return;
  T acc = 0;
  for (int64_t c = lane; c < d; c += 32) acc += out[row * d + c] * dout[row * d + c];
  acc = warp_sum(acc);
  if (lane == 0) drow[row] = acc;
}

// dq, a warp per query row. Shared per warp: q row, dout row, dq accumulator (d each), dS tile (32).
template <typename T>
__global__ void attention_dq_kernel(AttentionGeometry g, DropoutMask<T> mask, const T* q, const T* k, const T* v,
                                    const T* lse, const T* drow, const T* dout, T* dq) {
  extern __shared__ __align__(16) unsigned char shared_raw[];
  const int warps = blockDim.x / 32, warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t d = g.d;
  T* qs = reinterpret_cast<T*>(shared_raw) + warp * (3 * d + 32);
  T* gs = qs + d;
  T* acc = gs + d;
  T* ds_tile = acc + d;
  const int64_t row = int64_t(blockIdx.x) * warps + warp;
  if (row >= g.heads * g.tq) return;
  const int64_t bh = row / g.tq, i = row % g.tq;
  const T scale = T(g.scale);
  const T* kh = k + bh * g.tk * d;
  const T* vh = v + bh * g.tk * d;
  for (int64_t c = lane; c < d; c += 32) {
    qs[c] = q[row * d + c];
    gs[c] = dout[row * d + c];
    acc[c] = T(0);
  }
  __syncwarp();
  const T lse_i = lse[row], drow_i = drow[row];
  const int64_t visible = visible_keys(g, i);
  for (int64_t j0 = 0; j0 < visible; j0 += 32) {
    const int64_t j = j0 + lane;
    T ds = T(0);
    if (j < visible) {
      const T p = exp(scale * dot(qs, kh + j * d, d) - lse_i);
      const T dp = dot(gs, vh + j * d, d);
      ds = p * (dp * mask.factor(uint64_t(row * g.tk + j)) - drow_i);
    }
    ds_tile[lane] = ds;
    __syncwarp();
    const int64_t tile = visible - j0 < 32 ? visible - j0 : 32;
    for (int64_t c = lane; c < d; c += 32) {
      T a = acc[c];
      for (int64_t t = 0; t < tile; ++t) a += ds_tile[t] * kh[(j0 + t) * d + c];
      acc[c] = a;
    }
    __syncwarp();
  }
  for (int64_t c = lane; c < d; c += 32) dq[row * d + c] = scale * acc[c];
}

// dk and dv, a warp per key row. Shared per warp: k row, v row, dk and dv
// accumulators (d each), (P o Z) and dS tiles (32 each).
template <typename T>
__global__ void attention_dkdv_kernel(AttentionGeometry g, DropoutMask<T> mask, const T* q, const T* k, const T* v,
                                      const T* lse, const T* drow, const T* dout, T* dk, T* dv) {
  extern __shared__ __align__(16) unsigned char shared_raw[];
  const int warps = blockDim.x / 32, warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t d = g.d;
  T* ks = reinterpret_cast<T*>(shared_raw) + warp * (4 * d + 64);
  T* vs = ks + d;
  T* dk_acc = vs + d;
  T* dv_acc = dk_acc + d;
  T* pz_tile = dv_acc + d;
  T* ds_tile = pz_tile + 32;
  const int64_t key_row = int64_t(blockIdx.x) * warps + warp;  // bh * tk + j
  if (key_row >= g.heads * g.tk) return;
  const int64_t bh = key_row / g.tk, j = key_row % g.tk;
  const T scale = T(g.scale);
  const T* qh = q + bh * g.tq * d;
  const T* gh = dout + bh * g.tq * d;
  for (int64_t c = lane; c < d; c += 32) {
    ks[c] = k[key_row * d + c];
    vs[c] = v[key_row * d + c];
    dk_acc[c] = T(0);
    dv_acc[c] = T(0);
  }
  __syncwarp();
  // Causal: query i sees key j iff j <= i (j < Tk always).
  for (int64_t i0 = g.causal ? j : 0; i0 < g.tq; i0 += 32) {
    const int64_t i = i0 + lane;
    T pz = T(0), ds = T(0);
    if (i < g.tq) {
      const int64_t row = bh * g.tq + i;
      const T p = exp(scale * dot(ks, qh + i * d, d) - lse[row]);
      const T z = mask.factor(uint64_t(row * g.tk + j));
      const T dp = dot(vs, gh + i * d, d);
      pz = p * z;
      ds = p * (dp * z - drow[row]);
    }
    pz_tile[lane] = pz;
    ds_tile[lane] = ds;
    __syncwarp();
    const int64_t tile = g.tq - i0 < 32 ? g.tq - i0 : 32;
    for (int64_t c = lane; c < d; c += 32) {
      T a_dv = dv_acc[c], a_dk = dk_acc[c];
      for (int64_t t = 0; t < tile; ++t) {
        a_dv += pz_tile[t] * gh[(i0 + t) * d + c];
        a_dk += ds_tile[t] * qh[(i0 + t) * d + c];
      }
      dv_acc[c] = a_dv;
      dk_acc[c] = a_dk;
    }
    __syncwarp();
  }
  for (int64_t c = lane; c < d; c += 32) {
    dk[key_row * d + c] = scale * dk_acc[c];
    dv[key_row * d + c] = dv_acc[c];
  }
}

// Warps per block so that the per-warp shared memory fits the default 48 KiB.
struct WarpLaunch {
  int warps;
  size_t shared_bytes;
};

WarpLaunch warp_launch(int64_t per_warp_elems, size_t elem_bytes, const char* op) {
  constexpr size_t kSharedLimit = 48 * 1024;
  for (int warps : {4, 2, 1}) {
    const size_t bytes = size_t(warps) * size_t(per_warp_elems) * elem_bytes;
    if (bytes <= kSharedLimit) return {warps, bytes};
  }
  fail_message(op);
}

unsigned blocks_for(int64_t rows, int warps) { return unsigned((rows + warps - 1) / warps); }

}  // namespace

void launch_attention(cudaStream_t stream, ElemType type, const AttentionGeometry& g, const void* q, const void* k,
                      const void* v, void* out, void* lse) {
  dispatch_floating(type, "attention: the CUDA backend has no kernel for this dtype", [&](auto zero) {
    using T = decltype(zero);
    const WarpLaunch w = warp_launch(2 * g.d + 32, sizeof(T), "attention: head dim too large for the CUDA kernel");
    attention_forward_kernel<T><<<blocks_for(g.heads * g.tq, w.warps), w.warps * 32, w.shared_bytes, stream>>>(
        g, make_mask<T>(g), static_cast<const T*>(q), static_cast<const T*>(k), static_cast<const T*>(v),
        static_cast<T*>(out), static_cast<T*>(lse));
  });
  STRATA_CUDA_CHECK_LAUNCH();
}

void launch_attention_backward(cudaStream_t stream, ElemType type, const AttentionGeometry& g, const void* q,
                               const void* k, const void* v, const void* out, const void* lse, const void* dout,
                               void* dq, void* dk, void* dv, void* drow) {
  dispatch_floating(type, "attention_backward: the CUDA backend has no kernel for this dtype", [&](auto zero) {
    using T = decltype(zero);
    const T* pq = static_cast<const T*>(q);
    const T* pk = static_cast<const T*>(k);
    const T* pv = static_cast<const T*>(v);
    const T* pl = static_cast<const T*>(lse);
    const T* pg = static_cast<const T*>(dout);
    T* pdrow = static_cast<T*>(drow);
    const DropoutMask<T> mask = make_mask<T>(g);
    const int64_t q_rows = g.heads * g.tq, k_rows = g.heads * g.tk;

    attention_drow_kernel<T><<<unsigned((q_rows * 32 + kThreads - 1) / kThreads), kThreads, 0, stream>>>(
        q_rows, g.d, static_cast<const T*>(out), pg, pdrow);
    STRATA_CUDA_CHECK_LAUNCH();

    const WarpLaunch wq = warp_launch(3 * g.d + 32, sizeof(T), "attention: head dim too large for the CUDA kernel");
    attention_dq_kernel<T><<<blocks_for(q_rows, wq.warps), wq.warps * 32, wq.shared_bytes, stream>>>(
        g, mask, pq, pk, pv, pl, pdrow, pg, static_cast<T*>(dq));
    STRATA_CUDA_CHECK_LAUNCH();

    const WarpLaunch wk = warp_launch(4 * g.d + 64, sizeof(T), "attention: head dim too large for the CUDA kernel");
    attention_dkdv_kernel<T><<<blocks_for(k_rows, wk.warps), wk.warps * 32, wk.shared_bytes, stream>>>(
        g, mask, pq, pk, pv, pl, pdrow, pg, static_cast<T*>(dk), static_cast<T*>(dv));
  });
  STRATA_CUDA_CHECK_LAUNCH();
}

}  // namespace strata::cuda
