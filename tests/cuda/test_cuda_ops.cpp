// Every op of core/ops.h on the GPU against the CPU backend, on random
// inputs, in f32 and f64. Tolerances (rtol, atol) for f32 are stated per op
// below; f64 uses (1e-11, 1e-12) unless stated. They allow for different
// summation orders and FMA contraction (nvcc fuses a*b+c, g++ -std=c++20
// does not), never for a different formula.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "core/autocast.h"
#include "tests/cuda/cuda_test_util.h"

namespace strata::testing {
namespace {

class CudaOps : public CudaTest, public ::testing::WithParamInterface<DType> {
 protected:
  DType dtype() const { return GetParam(); }
  Tensor randn_(const Shape& shape, uint64_t seed) const { return cpu_randn(shape, seed, dtype()); }
  Tensor positive_(const Shape& shape, uint64_t seed) const { return cpu_positive(shape, seed, dtype()); }
  Tolerance tol(Tolerance f32, Tolerance f64 = {1e-11, 1e-12}) const { return tolerance_for(dtype(), f32, f64); }
};

std::string dtype_label(const ::testing::TestParamInfo<DType>& info) { return std::string(dtype_name(info.param)); }
INSTANTIATE_TEST_SUITE_P(Dtypes, CudaOps, ::testing::Values(DType::f32, DType::f64), dtype_label);

// ---- fill and random ---------------------------------------------------------------------

TEST_P(CudaOps, Fill) {  // exact
  expect_close(full({3, 4}, 2.5, {dtype(), kCuda}), full({3, 4}, 2.5, {dtype()}), {0, 0}, "full");
  Tensor x = zeros({4, 6}, {dtype(), kCuda});
  ops::fill_(ops::slice(x, 1, 1, 6, 2), -1.0);  // a strided view
  Tensor y = zeros({4, 6}, {dtype()});
  ops::fill_(ops::slice(y, 1, 1, 6, 2), -1.0);
  expect_close(x, y, {0, 0}, "fill of a strided view");
}

TEST_P(CudaOps, RandomDrawsEqualTheCpuDraws) {
  // Same Philox counters on both devices: uniform and bernoulli exact;
  // normal through sin/cos/log in double, last-bit differences allowed.
  for (int64_t n : {1, 7, 1000, 4099}) {
    Generator cpu_gen(42), gpu_gen(42);
    expect_close(rand({n}, {dtype(), kCuda}, &gpu_gen), rand({n}, {dtype()}, &cpu_gen), {0, 0}, "rand");
    expect_close(randn({n}, {dtype(), kCuda}, &gpu_gen), randn({n}, {dtype()}, &cpu_gen), {1e-6, 1e-6}, "randn");
    expect_close(bernoulli({n}, 0.3, {dtype(), kCuda}, &gpu_gen), bernoulli({n}, 0.3, {dtype()}, &cpu_gen), {0, 0},
                 "bernoulli");
    Tensor a = empty({n}, {dtype(), kCuda}), b = empty({n}, {dtype()});
    uniform_(a, -3.0, 5.0, &gpu_gen);
    uniform_(b, -3.0, 5.0, &cpu_gen);
    expect_close(a, b, {1e-7, 0}, "uniform_");
    normal_(a, 1.0, 0.02, &gpu_gen);
    normal_(b, 1.0, 0.02, &cpu_gen);
    expect_close(a, b, {1e-6, 1e-8}, "normal_");
  }
}

// ---- elementwise ----------------------------------------------------------------------------

TEST_P(CudaOps, UnaryOpsAndDerivatives) {
  // f32 (1e-5, 1e-6): libm and CUDA's math functions differ by a few ulp.
  const UnaryOp ops_list[] = {UnaryOp::neg,  UnaryOp::exp,      UnaryOp::log,       UnaryOp::sqrt,
                              UnaryOp::rsqrt, UnaryOp::tanh,    UnaryOp::sigmoid,   UnaryOp::relu,
                              UnaryOp::silu, UnaryOp::gelu_erf, UnaryOp::gelu_tanh, UnaryOp::pow_scalar,
                              UnaryOp::add_scalar, UnaryOp::mul_scalar, UnaryOp::abs};
  const bool needs_positive[] = {false, false, true, true, true, false, false, false,
                                 false, false, false, true, false, false, false};
  for (size_t i = 0; i < std::size(ops_list); ++i) {
    const UnaryOp op = ops_list[i];
    const double scalar = op == UnaryOp::pow_scalar ? 1.7 : 0.75;
    // A transposed (non-contiguous) input exercises the strided path.
    Tensor base = needs_positive[i] ? positive_({7, 5}, 10 + i) : randn_({7, 5}, 10 + i);
    Tensor x = ops::transpose(base, 0, 1);
    Tensor dy = randn_({5, 7}, 50 + i);
    Tensor xg = ops::transpose(base.to(kCuda), 0, 1);
    const std::string name = "unary op " + std::to_string(int(op));
    expect_close(ops::unary(op, xg, scalar), ops::unary(op, x, scalar), tol({1e-5, 1e-6}), name);
    expect_close(ops::unary_backward(op, xg, dy.to(kCuda), scalar), ops::unary_backward(op, x, dy, scalar),
                 tol({1e-5, 1e-6}), name + " backward");
  }
}

TEST_P(CudaOps, BinaryOpsBroadcastAndInPlace) {  // f32 (1e-6, 1e-7): one rounding
  Tensor a = randn_({4, 1, 5}, 60), b = positive_({3, 1}, 61);
  for (BinaryOp op : {BinaryOp::add, BinaryOp::sub, BinaryOp::mul, BinaryOp::div}) {
    expect_close(ops::binary(op, a.to(kCuda), b.to(kCuda)), ops::binary(op, a, b), tol({1e-6, 1e-7}),
                 "binary op " + std::to_string(int(op)));
  }
  Tensor dst = randn_({3, 5}, 62), src = randn_({5}, 63);
  Tensor dst_gpu = dst.to(kCuda);
  ops::add_(dst_gpu, src.to(kCuda));
  ops::add_(dst, src);
  expect_close(dst_gpu, dst, tol({1e-6, 1e-7}), "add_");
  ops::mul_scalar_(dst_gpu, -0.5);
  ops::mul_scalar_(dst, -0.5);
  expect_close(dst_gpu, dst, tol({1e-6, 1e-7}), "mul_scalar_");
}

TEST_P(CudaOps, WhereAndMaskedFill) {  // exact
  Tensor cond = ops::cast(bernoulli({4, 1}, 0.5, {DType::f32}), DType::u8);
  Tensor a = randn_({4, 3}, 70), b = randn_({3}, 71);
  expect_close(ops::where(cond.to(kCuda), a.to(kCuda), b.to(kCuda)), ops::where(cond, a, b), {0, 0}, "where");
  expect_close(ops::masked_fill(a.to(kCuda), cond.to(kCuda), -1e9), ops::masked_fill(a, cond, -1e9), {0, 0},
               "masked_fill");
}

// ---- reductions ---------------------------------------------------------------------------------

TEST_P(CudaOps, SumOverEveryDimSet) {
  // f32 (1e-5, 1e-5): both accumulate in double, in different orders.
  Tensor x = randn_({4, 5, 6}, 80);
  const std::vector<std::vector<int64_t>> dim_sets = {{}, {0}, {1}, {2}, {0, 1}, {0, 2}, {1, 2}, {0, 1, 2}};
  for (const auto& dims : dim_sets) {
    expect_close(ops::sum(x.to(kCuda), dims), ops::sum(x, dims), tol({1e-5, 1e-5}), "sum " + shape_str(dims));
    expect_close(ops::mean(x.to(kCuda), dims, true), ops::mean(x, dims, true), tol({1e-5, 1e-5}),
                 "mean " + shape_str(dims));
  }
  // Long reductions that take the chunked (two-pass) paths.
  Tensor rows = randn_({3, 70000}, 81), cols = randn_({70000, 3}, 82), flat = randn_({300001}, 83);
  expect_close(ops::sum(rows.to(kCuda), {1}), ops::sum(rows, {1}), tol({1e-5, 1e-4}, {1e-10, 1e-10}), "row sums");
  expect_close(ops::sum(cols.to(kCuda), {0}), ops::sum(cols, {0}), tol({1e-5, 1e-4}, {1e-10, 1e-10}), "column sums");
  expect_close(ops::sum(flat.to(kCuda)), ops::sum(flat), tol({1e-5, 1e-4}, {1e-10, 1e-10}), "full sum");
}

TEST_P(CudaOps, MaxValuesAndFirstIndices) {  // exact
  Tensor x = randn_({6, 37, 5}, 90);
  for (int64_t dim : {0, 1, 2}) {
    auto [gv, gi] = ops::max(x.to(kCuda), dim);
    auto [cv, ci] = ops::max(x, dim);
    expect_close(gv, cv, {0, 0}, "max values dim " + std::to_string(dim));
    expect_close(gi, ci, {0, 0}, "max indices dim " + std::to_string(dim));
  }
  // Ties go to the first maximum; a NaN wins.
  Tensor t = zeros({2, 70}, {dtype()});
  ops::fill_(ops::slice(t, 1, 10, 70, 20), 1.0);
  ops::fill_(ops::slice(ops::slice(t, 0, 1, 2), 1, 33, 34), std::numeric_limits<double>::quiet_NaN());
  auto [gv, gi] = ops::max(t.to(kCuda), 1);
  auto [cv, ci] = ops::max(t, 1);
  expect_close(gv, cv, {0, 0}, "max with ties and NaN");
  expect_close(gi, ci, {0, 0}, "argmax with ties and NaN");
}

// ---- matrix products ------------------------------------------------------------------------------

TEST_P(CudaOps, MatmulLayoutsAndBatches) {
  // f32 (1e-5, 1e-5): cuBLAS and OpenBLAS block the k sum differently.
  struct Case {
    Shape a, b;
    bool transpose_a, transpose_b;
  };
  const Case cases[] = {
      {{33, 17}, {17, 29}, false, false}, {{17, 33}, {17, 29}, true, false}, {{33, 17}, {29, 17}, false, true},
      {{17, 33}, {29, 17}, true, true},   {{2, 3, 9, 8}, {8, 5}, false, false},
      {{2, 1, 9, 8}, {3, 8, 5}, false, false}, {{4, 6, 7}, {4, 7, 3}, false, false}, {{1, 64}, {64, 1}, false, false},
  };
  uint64_t seed = 100;
  for (const Case& c : cases) {
    Tensor a = randn_(c.a, seed++), b = randn_(c.b, seed++);
    if (c.transpose_a) a = ops::transpose(a, -1, -2);
    if (c.transpose_b) b = ops::transpose(b, -1, -2);
    Tensor ga = c.transpose_a ? ops::transpose(ops::transpose(a, -1, -2).to(kCuda), -1, -2) : a.to(kCuda);
    Tensor gb = c.transpose_b ? ops::transpose(ops::transpose(b, -1, -2).to(kCuda), -1, -2) : b.to(kCuda);
    expect_close(ops::matmul(ga, gb), ops::matmul(a, b), tol({1e-5, 1e-5}),
                 "matmul " + shape_str(a.shape()) + " @ " + shape_str(b.shape()));
  }
  // matmul_out into column blocks of a wider matrix, accumulating.
  Tensor a = randn_({3, 10, 4}, 120), b = randn_({3, 4, 6}, 121), base = randn_({10, 18}, 122);
  Tensor out_cpu = ops::clone(base), out_gpu = base.to(kCuda);
  auto blocks = [](const Tensor& t) { return ops::permute(ops::view(t, {10, 3, 6}), {1, 0, 2}); };
  ops::matmul_out(blocks(out_cpu), a, b, /*accumulate=*/true);
  ops::matmul_out(blocks(out_gpu), a.to(kCuda), b.to(kCuda), /*accumulate=*/true);
  expect_close(out_gpu, out_cpu, tol({1e-5, 1e-5}), "matmul_out accumulate");
}

// bf16 autocast (core/autocast.h): bf16 copies of the operands into a
// bf16 x bf16 -> f32 GEMM, against the CPU's rounded-operand reference.
// (1e-4, 1e-4): the summation order differs, the rounding of the operands
// must not (truncating instead of rounding to nearest, or f32 products, would
// miss by ~1e-2). The products also differ from plain f32 by far more. The
// odd shapes (k = 47, unaligned rows) may take cuBLAS's classic path.
TEST(CudaAutocast, Bf16ProductsMatchTheCpuPolicy) {
  STRATA_REQUIRE_CUDA();
  struct Case {
    Shape a, b_stored;
  };
  for (const Case& c : {Case{{3, 64, 96}, {80, 96}}, Case{{5, 33, 47}, {29, 47}}}) {
    const Tensor a = cpu_randn(c.a, 140), b = ops::transpose(cpu_randn(c.b_stored, 141), 0, 1);
    const Tensor ga = a.to(kCuda), gb = ops::transpose(ops::transpose(b, 0, 1).to(kCuda), 0, 1);
    const Tensor plain_gpu = ops::matmul(ga, gb);
    Tensor cpu, gpu;
    {
      Autocast autocast(Precision::bf16);
      cpu = ops::matmul(a, b);
      gpu = ops::matmul(ga, gb);
    }
    expect_close(gpu, cpu, {1e-4, 1e-4}, "autocast matmul " + shape_str(c.a));
    const std::vector<double> g = ops::cast(gpu.to(Device::cpu()), DType::f64).to_vector<double>();
    const std::vector<double> p = ops::cast(plain_gpu.to(Device::cpu()), DType::f64).to_vector<double>();
    double worst = 0.0;
    for (size_t i = 0; i < g.size(); ++i) worst = std::max(worst, std::abs(g[i] - p[i]));
    EXPECT_GT(worst, 1e-2) << "bf16 operands must change the product " << shape_str(c.a);
  }
}

// ---- fused row ops -----------------------------------------------------------------------------------

TEST_P(CudaOps, SoftmaxAndLogSoftmax) {  // f32 (1e-5, 1e-6)
  Tensor x = ops::mul_scalar(randn_({5, 6, 70}, 130), 3.0), dy = randn_({5, 6, 70}, 131);
  for (int64_t dim : {-1, 1}) {
    for (bool log : {false, true}) {
      const std::string name = std::string(log ? "log_softmax" : "softmax") + " dim " + std::to_string(dim);
      Tensor yc = log ? ops::log_softmax(x, dim) : ops::softmax(x, dim);
      Tensor yg = log ? ops::log_softmax(x.to(kCuda), dim) : ops::softmax(x.to(kCuda), dim);
      expect_close(yg, yc, tol({1e-5, 1e-6}), name);
      expect_close(ops::softmax_backward(yg, dy.to(kCuda), dim, log), ops::softmax_backward(yc, dy, dim, log),
                   tol({1e-5, 1e-6}), name + " backward");
    }
  }
  // A row longer than a block (1024 threads) and one of a single element.
  Tensor wide = randn_({3, 5000}, 132), one = randn_({4, 1}, 133);
  expect_close(ops::softmax(wide.to(kCuda), -1), ops::softmax(wide, -1), tol({1e-5, 1e-8}), "wide softmax");
  expect_close(ops::log_softmax(one.to(kCuda), -1), ops::log_softmax(one, -1), tol({1e-6, 1e-7}), "1-wide");
}

TEST_P(CudaOps, LayerNormForwardAndBackward) {
  // f32 forward (1e-5, 1e-5); backward (1e-4, 1e-5): dw, db sum over rows.
  Tensor x = ops::add_scalar(randn_({300, 48}, 140), 3.0), w = randn_({48}, 141), b = randn_({48}, 142);
  Tensor dy = randn_({300, 48}, 143);
  for (bool affine : {true, false}) {
    const std::string name = affine ? "layer_norm" : "layer_norm without affine";
    Tensor wc = affine ? w : Tensor(), bc = affine ? b : Tensor();
    Tensor wg = affine ? w.to(kCuda) : Tensor(), bg = affine ? b.to(kCuda) : Tensor();
    ops::LayerNormResult rc = ops::layer_norm(x, wc, bc, 1e-5);
    ops::LayerNormResult rg = ops::layer_norm(x.to(kCuda), wg, bg, 1e-5);
    expect_close(rg.y, rc.y, tol({1e-5, 1e-5}), name + " y");
    expect_close(rg.mean, rc.mean, tol({1e-6, 1e-6}), name + " mean");
    expect_close(rg.rstd, rc.rstd, tol({1e-5, 1e-6}), name + " rstd");
    ops::LayerNormGrads gc = ops::layer_norm_backward(x, wc, rc, dy);
    ops::LayerNormGrads gg = ops::layer_norm_backward(x.to(kCuda), wg, rg, dy.to(kCuda));
    expect_close(gg.dx, gc.dx, tol({1e-4, 1e-5}), name + " dx");
    if (affine) {
      expect_close(gg.dweight, gc.dweight, tol({1e-4, 1e-4}, {1e-10, 1e-10}), name + " dweight");
      expect_close(gg.dbias, gc.dbias, tol({1e-4, 1e-4}, {1e-10, 1e-10}), name + " dbias");
    }
  }
}

TEST_P(CudaOps, CrossEntropyForwardAndBackward) {  // f32 (1e-5, 1e-6)
  Tensor logits = ops::mul_scalar(randn_({9, 13}, 150), 2.0);
  Tensor target = from_vector<int64_t>({0, 12, 3, -100, 5, 5, 7, -100, 1}, {9});
  Tensor dloss = randn_({9}, 151);
  for (double smoothing : {0.0, 0.1}) {
    const std::string name = "cross_entropy smoothing " + std::to_string(smoothing);
    // The target may stay on the host: ops move it to the logits' device.
    for (const Tensor& t : {target, target.to(kCuda)}) {
      ops::CrossEntropyResult rc = ops::cross_entropy_rows(logits, target, smoothing, -100);
      ops::CrossEntropyResult rg = ops::cross_entropy_rows(logits.to(kCuda), t, smoothing, -100);
      expect_close(rg.loss_rows, rc.loss_rows, tol({1e-5, 1e-6}), name + " loss");
      expect_close(rg.lse, rc.lse, tol({1e-6, 1e-6}), name + " lse");
      expect_close(ops::cross_entropy_backward(logits.to(kCuda), t, rg.lse, dloss.to(kCuda), smoothing, -100),
                   ops::cross_entropy_backward(logits, target, rc.lse, dloss, smoothing, -100), tol({1e-5, 1e-6}),
                   name + " backward");
    }
  }
  EXPECT_THROW(ops::cross_entropy_rows(logits.to(kCuda), ops::add_scalar(target, 200.0).to(kCuda), 0.0, -100), Error);
}

// ---- gathers and scatters ---------------------------------------------------------------------------

TEST_P(CudaOps, IndexSelectIndexAddEmbedding) {
  // index_select exact; index_add f32 (1e-6, 1e-6): atomics add repeated rows in any order.
  Tensor x = randn_({5, 7, 3}, 160);
  Tensor index = from_vector<int64_t>({6, 0, 0, 3, 6, 2}, {6});
  for (int64_t dim : {0, 1, 2}) {
    const Tensor idx = dim == 1 ? index : from_vector<int64_t>({2, 0, 2}, {3});  // repeats, out of order
    expect_close(ops::index_select(x.to(kCuda), dim, idx.to(kCuda)), ops::index_select(x, dim, idx), {0, 0},
                 "index_select dim " + std::to_string(dim));
    Shape src_shape = x.shape();
    src_shape[size_t(dim)] = idx.numel();
    Tensor src = randn_(src_shape, 161 + uint64_t(dim));
    Tensor dst_cpu = ops::clone(x), dst_gpu = x.to(kCuda);
    ops::index_add_(dst_cpu, dim, idx, src);
    ops::index_add_(dst_gpu, dim, idx, src.to(kCuda));
    expect_close(dst_gpu, dst_cpu, tol({1e-6, 1e-6}), "index_add_ dim " + std::to_string(dim));
  }
  Tensor table = randn_({11, 4}, 165);
  Tensor tokens = from_vector<int64_t>({1, 10, 3, 3, 0, 7}, {2, 3});
  expect_close(ops::embedding(table.to(kCuda), tokens), ops::embedding(table, tokens), {0, 0}, "embedding");
  // Every dtype moves through index_select (it copies bytes).
  for (DType other : {DType::i64, DType::u8, DType::bf16}) {
    Tensor t = ops::cast(ops::mul_scalar(table, 10.0), other);
    expect_close(ops::index_select(t.to(kCuda), 0, tokens.flatten()), ops::index_select(t, 0, tokens.flatten()),
                 {0, 0}, "index_select " + std::string(dtype_name(other)));
  }
}

// ---- attention ------------------------------------------------------------------------------------------

TEST_P(CudaOps, AttentionForwardAndBackward) {
  // f32 forward (1e-5, 1e-6), backward (1e-4, 1e-5): sums over keys and
  // queries in other orders (the CPU goes through OpenBLAS tiles).
  struct Case {
    int64_t b, h, tq, tk, d;
    bool causal;
    double dropout;
  };
  const Case cases[] = {{2, 3, 17, 17, 8, false, 0.0}, {1, 2, 70, 70, 16, true, 0.0}, {2, 1, 5, 40, 64, false, 0.0},
                        {1, 2, 40, 33, 12, true, 0.0},  {2, 2, 33, 33, 8, true, 0.2}};
  uint64_t seed = 170;
  for (const Case& c : cases) {
    const std::string name = "attention " + shape_str({c.b, c.h, c.tq, c.tk, c.d}) + (c.causal ? " causal" : "") +
                             (c.dropout > 0 ? " dropout" : "");
    Tensor q = randn_({c.b, c.h, c.tq, c.d}, seed++), k = randn_({c.b, c.h, c.tk, c.d}, seed++);
    Tensor v = randn_({c.b, c.h, c.tk, c.d}, seed++), dout = randn_({c.b, c.h, c.tq, c.d}, seed++);
    AttentionArgs args;
    args.causal = c.causal;
    args.scale = 1.0 / std::sqrt(double(c.d));
    args.dropout_p = c.dropout;
    args.dropout_rng = {99, 1234};
    ops::AttentionResult rc = ops::attention(q, k, v, args);
    ops::AttentionResult rg = ops::attention(q.to(kCuda), k.to(kCuda), v.to(kCuda), args);
    expect_close(rg.out, rc.out, tol({1e-5, 1e-6}), name + " out");
    expect_close(rg.lse, rc.lse, tol({1e-5, 1e-6}), name + " lse");
    ops::AttentionGrads gc = ops::attention_backward(q, k, v, rc, dout, args);
    ops::AttentionGrads gg = ops::attention_backward(q.to(kCuda), k.to(kCuda), v.to(kCuda), rg, dout.to(kCuda), args);
    expect_close(gg.dq, gc.dq, tol({1e-4, 1e-5}, {1e-10, 1e-11}), name + " dq");
    expect_close(gg.dk, gc.dk, tol({1e-4, 1e-5}, {1e-10, 1e-11}), name + " dk");
    expect_close(gg.dv, gc.dv, tol({1e-4, 1e-5}, {1e-10, 1e-11}), name + " dv");
  }
}

// ---- BLAST coupling ------------------------------------------------------------------------------------------

TEST_P(CudaOps, BlastMixForwardAndBackward) {  // f32 (1e-5, 1e-5); ds sums over rows (1e-4, 1e-4)
  Tensor s = randn_({3, 3, 8}, 180), z = randn_({3, 600, 8}, 181), dw = randn_({3, 600, 8}, 182);
  expect_close(ops::blast_mix(s.to(kCuda), z.to(kCuda)), ops::blast_mix(s, z), tol({1e-5, 1e-5}), "blast_mix");
  ops::BlastMixGrads gc = ops::blast_mix_backward(s, z, dw, true, true);
  ops::BlastMixGrads gg = ops::blast_mix_backward(s.to(kCuda), z.to(kCuda), dw.to(kCuda), true, true);
  expect_close(gg.dz, gc.dz, tol({1e-5, 1e-5}), "blast_mix dz");
  expect_close(gg.ds, gc.ds, tol({1e-4, 1e-4}, {1e-10, 1e-10}), "blast_mix ds");
  ops::BlastMixGrads only_ds = ops::blast_mix_backward(s.to(kCuda), z.to(kCuda), dw.to(kCuda), false, true);
  EXPECT_FALSE(only_ds.dz.defined());
  expect_close(only_ds.ds, gc.ds, tol({1e-4, 1e-4}, {1e-10, 1e-10}), "blast_mix ds alone");
}

// ---- optimizers (f32 arenas only) ----------------------------------------------------------------------------

TEST(CudaOptim, AdamWAndSgdStepsMatchTheCpu) {  // (1e-6, 1e-7): the same float formulas, FMA aside
  STRATA_REQUIRE_CUDA();
  const int64_t n = 10007;
  Tensor p = cpu_randn({n}, 190), g = cpu_randn({n}, 191), m = ops::mul_scalar(cpu_randn({n}, 192), 0.1);
  Tensor v = ops::unary(UnaryOp::abs, ops::mul_scalar(cpu_randn({n}, 193), 0.01));
  Tensor pg = p.to(kCuda), gg = g.to(kCuda), mg = m.to(kCuda), vg = v.to(kCuda);
  const AdamWArgs args{1e-3, 0.9, 0.999, 1e-8, 0.05, 7};
  for (int step = 0; step < 3; ++step) {
    ops::adamw_step_(p, g, m, v, args);
    ops::adamw_step_(pg, gg, mg, vg, args);
  }
  expect_close(pg, p, {1e-6, 1e-7}, "adamw param");
  expect_close(mg, m, {1e-6, 1e-7}, "adamw m");
  expect_close(vg, v, {1e-6, 1e-9}, "adamw v");
  for (bool nesterov : {false, true}) {
    Tensor buf = zeros({n}), bufg = zeros({n}, {DType::f32, kCuda});
    for (int step = 0; step < 3; ++step) {
      ops::sgd_step_(p, g, buf, 0.1, 0.9, 1e-4, nesterov);
      ops::sgd_step_(pg, gg, bufg, 0.1, 0.9, 1e-4, nesterov);
    }
    expect_close(pg, p, {1e-6, 1e-7}, nesterov ? "nesterov sgd" : "sgd");
  }
  ops::sgd_step_(p, g, Tensor(), 0.1, 0.0, 0.0, false);
  ops::sgd_step_(pg, gg, Tensor(), 0.1, 0.0, 0.0, false);
  expect_close(pg, p, {1e-6, 1e-7}, "plain sgd");
}

}  // namespace
}  // namespace strata::testing
