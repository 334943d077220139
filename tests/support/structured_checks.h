#pragma once
// Generic checks every StructuredLinear can reuse (dense, low-rank,
// block-diagonal, Monarch, BLAST, GBLR). Each is a plain function that adds
// GoogleTest failures; call it from a TEST with a layer built in f64 (set
// LinearOptions.dtype = DType::f64) for the exactness checks.
//
//   check_forward_matches_to_dense(layer, tol)      forward(x) == x to_dense()^T + b
//   check_gradcheck_input_and_params(layer)         f64 gradcheck wrt x and every parameter
//   check_num_params_matches_parameter_list(layer)  num_params() == sum of parameter numels
//   count_forward_flops(layer, tokens)              an op-counting forward run (see below)
//   check_flops_matches_op_count(layer, tokens)     flops(tokens) == count_forward_flops(...)
//   check_init_variance_matches_dense(make, tol)    var(to_dense()) within tol of 1/(3 in)
//   check_projection_recovers_member(member, fresh) project(member's W) recovers it (< 1e-5)
//   check_projection_error_nonincreasing(W, sizes, make)  error(size) non-increasing
//
// The op count: forward runs once under NoGradGuard with a counting Backend
// registered for the CPU in place of the real one (every call is delegated
// to it unchanged). It counts, as 2 x multiply-adds,
//   gemm:       2 m n k per batch entry (every product of the W path),
//   blast_mix:  2 b b r per token (BLAST's coupling stage).
// Elementwise ops (the bias add, permutation copies) are not counted, as in
// the flops() convention (structured_linear.h). A structure whose W product
// runs through another kernel must extend the counter here.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "autograd/gradcheck.h"
#include "core/backend.h"
#include "core/random.h"
#include "layers/structured_linear.h"
#include "tests/support/test_util.h"

namespace strata::testing {

// ---- forward against the dense matrix ------------------------------------------

// The dtype of a layer's parameters (the dtype its input must have).
inline DType layer_dtype(const StructuredLinear& layer) { return layer.parameters().front().dtype(); }

// x (2, 3, in) random in the layer's dtype: forward(x) must equal
// x @ to_dense()^T + bias (computed in f64) elementwise within
// tol * (1 + |expected|). Use an f64 layer with tol 1e-10 for exactness.
inline void check_forward_matches_to_dense(StructuredLinear& layer, double tol = 1e-10, uint64_t seed = 17) {
  NoGradGuard no_grad;
  Generator gen(seed);
  Tensor x = randn({2, 3, layer.in_features()}, {layer_dtype(layer)}, &gen);
  Tensor y = layer.forward(x);
  ASSERT_EQ(y.shape(), (Shape{2, 3, layer.out_features()}));
  Tensor w = ops::cast(layer.to_dense(), DType::f64);
  ASSERT_EQ(w.shape(), (Shape{layer.out_features(), layer.in_features()}));
  Tensor expected = ops::matmul(ops::cast(x, DType::f64), ops::transpose(w, 0, 1));
  if (layer.bias.defined()) expected = ops::add(expected, ops::cast(layer.bias, DType::f64));
  std::vector<double> a = ops::cast(y, DType::f64).to_vector<double>(), e = expected.to_vector<double>();
  double worst = 0.0;
  size_t worst_at = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    double err = std::abs(a[i] - e[i]) / (1.0 + std::abs(e[i]));
    if (err > worst) worst = err, worst_at = i;
  }
  EXPECT_LE(worst, tol) << "forward differs from x to_dense()^T + b at element " << worst_at << ": " << a[worst_at]
                        << " vs " << e[worst_at];
}

// ---- gradients -------------------------------------------------------------------

// gradcheck in f64 of forward wrt a (2, 3, in) input and every parameter
// (gradcheck perturbs the parameters in place, which forward then reads).
// Keep the layer small: each parameter element costs two forwards.
inline void check_gradcheck_input_and_params(StructuredLinear& layer, GradcheckOptions options = {},
                                             uint64_t seed = 23) {
  Generator gen(seed);
  Tensor x = randn({2, 3, layer.in_features()}, {DType::f64}, &gen);
  x.requires_grad_();
  std::vector<Tensor> inputs{x};
  for (const Tensor& p : layer.parameters()) {
    ASSERT_EQ(p.dtype(), DType::f64) << "gradcheck needs an f64 layer";
    inputs.push_back(p);
  }
  GradcheckResult r = gradcheck([&](const std::vector<Tensor>& in) { return layer.forward(in[0]); }, inputs, options);
  EXPECT_TRUE(r.ok) << "inputs: 0 = x, then the parameters in order\n" << r.report << "max abs error "
                    << r.max_abs_error;
  layer.zero_grad();
}

// ---- counts ----------------------------------------------------------------------------

inline void check_num_params_matches_parameter_list(const StructuredLinear& layer) {
  int64_t total = 0;
  for (const Tensor& p : layer.parameters()) total += p.numel();
  EXPECT_EQ(layer.num_params(), total);
  EXPECT_EQ(layer.num_params(), layer.num_parameters());
}

// A Backend that forwards every call to `inner` and counts the FLOPs of the
// weight products (see the top comment).
class FlopCountingBackend final : public Backend {
 public:
  explicit FlopCountingBackend(Backend& inner) : inner_(inner) {}
  int64_t flops = 0;

  void gemm(const GemmArgs& a) override {
    flops += 2 * a.m * a.n * a.k * a.batch;
    inner_.gemm(a);
  }
  void blast_mix(const Tensor& s, const Tensor& z, const Tensor& w) override {
    flops += 2 * s.size(0) * s.size(1) * z.size(1) * s.size(2);  // w[i] += s[i, j] * z[j] over (i, j, n, r)
    inner_.blast_mix(s, z, w);
  }

  Allocator& allocator() override { return inner_.allocator(); }
  void copy(const Tensor& s, const Tensor& d) override { inner_.copy(s, d); }
  void fill(const Tensor& d, double v) override { inner_.fill(d, v); }
  void uniform(const Tensor& d, double lo, double hi, PhiloxState rng) override { inner_.uniform(d, lo, hi, rng); }
  void normal(const Tensor& d, double m, double s, PhiloxState rng) override { inner_.normal(d, m, s, rng); }
  void bernoulli(const Tensor& d, double p, double v, PhiloxState rng) override { inner_.bernoulli(d, p, v, rng); }
  void unary(UnaryOp op, double s, const Tensor& x, const Tensor& y) override { inner_.unary(op, s, x, y); }
  void unary_backward(UnaryOp op, double s, const Tensor& x, const Tensor& dy, const Tensor& dx) override {
    inner_.unary_backward(op, s, x, dy, dx);
  }
  void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& o) override { inner_.binary(op, a, b, o); }
  void where(const Tensor& c, const Tensor& a, const Tensor& b, const Tensor& o) override { inner_.where(c, a, b, o); }
  void sum(const Tensor& x, const Tensor& o) override { inner_.sum(x, o); }
  void max(const Tensor& x, int d, const Tensor& v, const Tensor& i) override { inner_.max(x, d, v, i); }
  void softmax(const Tensor& x, const Tensor& y, bool log) override { inner_.softmax(x, y, log); }
  void softmax_backward(const Tensor& y, const Tensor& dy, const Tensor& dx, bool log) override {
    inner_.softmax_backward(y, dy, dx, log);
  }
  void layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, double eps, const Tensor& y, const Tensor& m,
                  const Tensor& r) override {
    inner_.layer_norm(x, w, b, eps, y, m, r);
  }
  void layer_norm_backward(const Tensor& x, const Tensor& w, const Tensor& m, const Tensor& r, const Tensor& dy,
                           const Tensor& dx, const Tensor& dw, const Tensor& db) override {
    inner_.layer_norm_backward(x, w, m, r, dy, dx, dw, db);
  }
  void cross_entropy(const Tensor& l, const Tensor& t, double s, int64_t ig, const Tensor& loss,
                     const Tensor& lse) override {
    inner_.cross_entropy(l, t, s, ig, loss, lse);
  }
  void cross_entropy_backward(const Tensor& l, const Tensor& t, const Tensor& lse, const Tensor& dl, double s,
                              int64_t ig, const Tensor& dlogits) override {
    inner_.cross_entropy_backward(l, t, lse, dl, s, ig, dlogits);
  }
  void index_select(const Tensor& x, int d, const Tensor& i, const Tensor& o) override { inner_.index_select(x, d, i, o); }
  void index_add(const Tensor& o, int d, const Tensor& i, const Tensor& s) override { inner_.index_add(o, d, i, s); }
  void attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionArgs& a, const Tensor& o,
                 const Tensor& lse) override {
    inner_.attention(q, k, v, a, o, lse);
  }
  void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& o, const Tensor& lse,
                          const Tensor& dout, const AttentionArgs& a, const Tensor& dq, const Tensor& dk,
                          const Tensor& dv) override {
    inner_.attention_backward(q, k, v, o, lse, dout, a, dq, dk, dv);
  }
  void blast_mix_backward(const Tensor& s, const Tensor& z, const Tensor& dw, const Tensor& dz,
                          const Tensor& ds) override {
    inner_.blast_mix_backward(s, z, dw, dz, ds);
  }
  void adamw_step(const Tensor& p, const Tensor& g, const Tensor& m, const Tensor& v, const AdamWArgs& a) override {
    inner_.adamw_step(p, g, m, v, a);
  }
  void sgd_step(const Tensor& p, const Tensor& g, const Tensor& b, double lr, double mom, double wd,
                bool nesterov) override {
    inner_.sgd_step(p, g, b, lr, mom, wd, nesterov);
  }

 private:
  Backend& inner_;
};

// Swaps the counting backend in for the CPU while alive (restored on
// exceptions too).
class ScopedFlopCounter {
 public:
  ScopedFlopCounter() : real_(backend_for(Device::cpu())), counting_(real_) {
    register_backend(DeviceType::cpu, &counting_);
  }
  ~ScopedFlopCounter() { register_backend(DeviceType::cpu, &real_); }
  ScopedFlopCounter(const ScopedFlopCounter&) = delete;
  ScopedFlopCounter& operator=(const ScopedFlopCounter&) = delete;
  int64_t flops() const { return counting_.flops; }

 private:
  Backend& real_;
  FlopCountingBackend counting_;
};

// FLOPs (2 x multiply-adds) that one forward of `tokens` rows performs in
// its products, counted as they run. The layer must be on the CPU.
inline int64_t count_forward_flops(StructuredLinear& layer, int64_t tokens) {
  Generator gen(29);
  Tensor x = randn({tokens, layer.in_features()}, {layer_dtype(layer)}, &gen);
  NoGradGuard no_grad;
  ScopedFlopCounter counter;
  layer.forward(x);
  return counter.flops();
}

inline void check_flops_matches_op_count(StructuredLinear& layer, int64_t tokens = 7) {
  EXPECT_EQ(layer.flops(tokens), count_forward_flops(layer, tokens)) << "tokens " << tokens;
}

// ---- initialisation --------------------------------------------------------------------

// The dense init is U(-1/sqrt(in), 1/sqrt(in)), variance 1/(3 in). Builds a
// layer per seed with make_layer(generator) and checks the mean over seeds of
// the entries' second moment of to_dense() within tol (relative). Use large
// layers (e.g. 256 -> 512) so the sampling noise is well below tol.
inline void check_init_variance_matches_dense(
    const std::function<std::unique_ptr<StructuredLinear>(Generator* gen)>& make_layer, double tol = 0.10,
    int seeds = 3) {
  double total = 0.0, target = 0.0;
  for (int s = 0; s < seeds; ++s) {
    Generator gen(uint64_t(1000 + s));
    std::unique_ptr<StructuredLinear> layer = make_layer(&gen);
    Tensor w = ops::cast(layer->to_dense(), DType::f64);
    double mean = ops::mean(w).item<double>();
    EXPECT_LT(std::abs(mean), 0.05 / std::sqrt(double(layer->in_features()))) << "seed " << s << ": init not centred";
    total += ops::mean(ops::mul(w, w)).item<double>();
    target = 1.0 / (3.0 * double(layer->in_features()));
  }
  double var = total / seeds;
  EXPECT_NEAR(var / target, 1.0, tol) << "variance of to_dense() " << var << ", dense init " << target;
}

// ---- projection -------------------------------------------------------------------------

// `member`'s W lies in the class by construction; projecting it with
// `fresh` (same structure and size, other parameters) must recover it.
inline void check_projection_recovers_member(const StructuredLinear& member, StructuredLinear& fresh,
                                             double tol = 1e-5) {
  Tensor w = member.to_dense();
  double reported = fresh.project(w);
  EXPECT_LT(reported, tol) << "project() reported relative error " << reported;
  double actual = relative_error(w, fresh.to_dense());
  EXPECT_LT(actual, tol) << "to_dense() after project() has relative error " << actual;
  EXPECT_NEAR(reported, actual, 1e-9 + 1e-6 * actual) << "project() must return the error of the result";
}

// The projection error of `weight` with make_layer(size) for each size in
// `sizes`, ordered from the smallest class to the largest (ranks ascending,
// blocks descending), must not increase (up to `slack`).
inline void check_projection_error_nonincreasing(
    const Tensor& weight, const std::vector<int64_t>& sizes,
    const std::function<std::unique_ptr<StructuredLinear>(int64_t size)>& make_layer, double slack = 1e-9) {
  double previous = INFINITY;
  for (int64_t size : sizes) {
    std::unique_ptr<StructuredLinear> layer = make_layer(size);
    double err = layer->project(weight);
    EXPECT_LE(err, previous + slack) << "size " << size;
    previous = err;
  }
}

}  // namespace strata::testing
