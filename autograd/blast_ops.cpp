#include "autograd/blast_ops.h"

#include "autograd/node.h"
#include "core/ops.h"

namespace strata {

namespace {

bool needs_grad(const Tensor& t) { return t.defined() && t.requires_grad(); }

void check_blast_args(const Tensor& x, const Tensor& U, const Tensor& V, const Tensor& s, const Tensor& bias) {
  if (U.dim() != 3 || V.dim() != 3 || s.dim() != 3) {
    fail("blast_linear", "expected U (b, p, r), V (b, q, r), s (b, b, r), got {}, {}, {}", shape_str(U.shape()),
         shape_str(V.shape()), shape_str(s.shape()));
  }
  const int64_t b = U.size(0), r = U.size(2);
  if (V.size(0) != b || V.size(2) != r || s.size(0) != b || s.size(1) != b || s.size(2) != r) {
    fail("blast_linear", "inconsistent factors U {}, V {}, s {}", shape_str(U.shape()), shape_str(V.shape()),
         shape_str(s.shape()));
  }
  if (x.dim() < 1 || x.size(-1) != b * V.size(1)) {
    fail("blast_linear", "input {} does not match in = {}", shape_str(x.shape()), b * V.size(1));
  }
  if (bias.defined() && (bias.dim() != 1 || bias.size(0) != b * U.size(1))) {
    fail("blast_linear", "bias {} does not match out = {}", shape_str(bias.shape()), b * U.size(1));
  }
}

// A (rows, b * cols) matrix seen as its b column blocks: (b, rows, cols),
// batch stride cols, row stride b * cols. A view, no copy.
Tensor column_blocks(const Tensor& m, int64_t b) {
  return ops::permute(ops::view(m, {m.size(0), b, m.size(1) / b}), {1, 0, 2});
}

// The rank the GEMMs run at. OpenBLAS's kernels are 6-12% slower per rank
// column when the rank is not a multiple of 8 (measured at 768 -> 768, N =
// 4096, one thread: r = 95 costs 57 us per column, r = 96 50), so the
// factors are zero-padded to the next multiple of 8 when that adds at most
// 1/64 of the work: 95 -> 96 measured 3% faster end to end, while 306 -> 312
// (+2%) and 153 -> 160 (+4.6%) measured slower than no padding. Zero columns
// add exact zeros: the results are those of the unpadded rank up to the
// order in which the GEMM kernel sums.
int64_t gemm_rank(int64_t r) {
  const int64_t padded = (r + 7) / 8 * 8;
  return 64 * (padded - r) <= r ? padded : r;
}

// f (b, k, r) -> (b, k, rank) with zero columns after r; f itself when rank == r.
Tensor pad_rank(const Tensor& f, int64_t rank) {
  if (f.size(2) == rank) return f;
  Tensor padded = zeros({f.size(0), f.size(1), rank}, f.options());
  ops::copy_(ops::slice(padded, 2, 0, f.size(2)), f);
  return padded;
}

// The gradient of an unpadded factor from that of its padded copy.
Tensor unpad_rank(const Tensor& g, int64_t r) {
  return g.size(2) == r ? g : ops::contiguous(ops::slice(g, 2, 0, r));
}

}  // namespace

Tensor blast_linear(const Tensor& x, const Tensor& U, const Tensor& V, const Tensor& s, const Tensor& bias) {
  check_blast_args(x, U, V, s, bias);
  const int64_t b = U.size(0), in = x.size(-1), out = b * U.size(1);
  Shape y_shape = x.shape();
  y_shape.back() = out;
  const int64_t r = U.size(2), rank = gemm_rank(r);
  const Tensor Up = pad_rank(U, rank), Vp = pad_rank(V, rank), sp = pad_rank(s, rank);
  Tensor x2 = ops::reshape(ops::contiguous(x), {-1, in});
  Tensor xb = column_blocks(x2, b);
  Tensor z = ops::matmul(xb, Vp);     // (b, N, rank)
  Tensor w = ops::blast_mix(sp, z);   // (b, N, rank)
  Tensor y = empty({x2.size(0), out}, x.options());
  if (bias.defined()) ops::copy_(y, bias);  // the GEMM then adds into it
  ops::matmul_out(column_blocks(y, b), w, ops::transpose(Up, 1, 2), /*accumulate=*/bias.defined());
  y = ops::view(y, y_shape);

  const bool need_x = needs_grad(x), need_U = needs_grad(U), need_V = needs_grad(V), need_s = needs_grad(s),
             need_b = needs_grad(bias);
  const bool need_z = need_x || need_V;  // gradients that flow through stage 1
  // The padded factors are fresh copies or detached aliases: no graph is kept alive.
  Tensor xd = need_V ? x2.detach() : Tensor(), Ud = Up.detach(), Vd = need_x ? Vp.detach() : Tensor(),
         sd = sp.detach(), zd = need_s ? z : Tensor(), wd = need_U ? w : Tensor();
  Shape x_shape = x.shape();
  std::vector<Tensor> inputs = {x, U, V, s};
  if (bias.defined()) inputs.push_back(bias);
  return record("blast_linear", y, inputs, [=](const Tensor& grad) -> std::vector<Tensor> {
    Tensor g2 = ops::reshape(ops::contiguous(grad), {-1, out});
    Tensor gb = column_blocks(g2, b);  // (b, N, p)
    Tensor dx, dU, dV, ds, dbias;
    if (need_U) dU = unpad_rank(ops::matmul(ops::transpose(gb, 1, 2), wd), r);  // (b, p, N) @ (b, N, rank)
    if (need_z || need_s) {
      Tensor dw = ops::matmul(gb, Ud);  // (b, N, rank)
      ops::BlastMixGrads mixed = ops::blast_mix_backward(sd, need_s ? zd : dw, dw, need_z, need_s);
      if (need_s) ds = unpad_rank(mixed.ds, r);
      if (need_V) dV = unpad_rank(ops::matmul(ops::transpose(column_blocks(xd, b), 1, 2), mixed.dz), r);
      if (need_x) {
        dx = empty({g2.size(0), in}, grad.options());
        ops::matmul_out(column_blocks(dx, b), mixed.dz, ops::transpose(Vd, 1, 2));
        dx = ops::view(dx, x_shape);
      }
    }
    if (need_b) dbias = ops::sum(g2, {0});
    std::vector<Tensor> grads = {dx, dU, dV, ds};
    if (bias.defined()) grads.push_back(dbias);
    return grads;
  });
}

}  // namespace strata
