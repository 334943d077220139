// Fused attention (ops::attention / ops::attention_backward) against a naive
// f64 reference that builds the full score matrix, for f32 and f64, causal
// and not, with and without dropout.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/ops.h"
#include "core/philox.h"
#include "core/random.h"
#include "core/tensor.h"

namespace strata {
namespace {

struct Dims {
  int64_t b, h, tq, tk, d;
};

// ---- naive reference ----------------------------------------------------------

// The dropout factor Z of element e = ((b*H + h)*Tq + i)*Tk + j.
double dropout_factor(const AttentionArgs& args, uint64_t e) {
  if (args.dropout_p == 0.0) return 1.0;
  const auto bits = philox4x32(args.dropout_rng.offset + e / 4, 0, args.dropout_rng.seed);
  const bool keep = double(uint_to_unit_float(bits[e % 4])) > args.dropout_p;
  return keep ? 1.0 / (1.0 - args.dropout_p) : 0.0;
}

// The full (B*H, Tq, Tk) softmax P (0 where masked), Z, and lse.
struct RefProbs {
  std::vector<double> p, z, lse;
};

RefProbs ref_probs(const Dims& s, const std::vector<double>& q, const std::vector<double>& k,
                   const AttentionArgs& args) {
  RefProbs r;
  const int64_t heads = s.b * s.h;
  r.p.assign(size_t(heads * s.tq * s.tk), 0.0);
  r.z.assign(r.p.size(), 0.0);
  r.lse.assign(size_t(heads * s.tq), 0.0);
  std::vector<double> scores(size_t(s.tk));
  for (int64_t bh = 0; bh < heads; ++bh) {
    for (int64_t i = 0; i < s.tq; ++i) {
      double mx = -std::numeric_limits<double>::infinity();
      for (int64_t j = 0; j < s.tk; ++j) {
        double dot = 0;
        for (int64_t c = 0; c < s.d; ++c) dot += q[size_t((bh * s.tq + i) * s.d + c)] * k[size_t((bh * s.tk + j) * s.d + c)];
        const bool masked = args.causal && j > i;
        scores[size_t(j)] = masked ? -std::numeric_limits<double>::infinity() : args.scale * dot;
        mx = std::max(mx, scores[size_t(j)]);
      }
      double sum = 0;
      for (int64_t j = 0; j < s.tk; ++j) sum += std::exp(scores[size_t(j)] - mx);
      r.lse[size_t(bh * s.tq + i)] = mx + std::log(sum);
      for (int64_t j = 0; j < s.tk; ++j) {
        const size_t e = size_t((bh * s.tq + i) * s.tk + j);
        r.p[e] = std::exp(scores[size_t(j)] - mx) / sum;
        r.z[e] = dropout_factor(args, e);
      }
    }
  }
  return r;
}

// out = (P o Z) V
std::vector<double> ref_forward(const Dims& s, const RefProbs& pr, const std::vector<double>& v) {
  std::vector<double> out(size_t(s.b * s.h * s.tq * s.d), 0.0);
  for (int64_t bh = 0; bh < s.b * s.h; ++bh) {
    for (int64_t i = 0; i < s.tq; ++i) {
      for (int64_t j = 0; j < s.tk; ++j) {
        const size_t e = size_t((bh * s.tq + i) * s.tk + j);
        for (int64_t c = 0; c < s.d; ++c) {
          out[size_t((bh * s.tq + i) * s.d + c)] += pr.p[e] * pr.z[e] * v[size_t((bh * s.tk + j) * s.d + c)];
        }
      }
    }
  }
  return out;
}

struct RefGrads {
  std::vector<double> dq, dk, dv;
};

// Chain rule through out = (P o Z) V and the softmax Jacobian, written
// without the Drow shortcut the kernel uses.
RefGrads ref_backward(const Dims& s, const RefProbs& pr, const std::vector<double>& q, const std::vector<double>& k,
                      const std::vector<double>& v, const std::vector<double>& dout, double scale) {
  RefGrads g{std::vector<double>(q.size(), 0.0), std::vector<double>(k.size(), 0.0),
             std::vector<double>(v.size(), 0.0)};
  std::vector<double> dp(size_t(s.tk));
  for (int64_t bh = 0; bh < s.b * s.h; ++bh) {
    for (int64_t i = 0; i < s.tq; ++i) {
      const size_t row = size_t((bh * s.tq + i) * s.tk);
      const double* go = &dout[size_t((bh * s.tq + i) * s.d)];
      double p_dot_dp = 0;
      for (int64_t j = 0; j < s.tk; ++j) {
        const double* vj = &v[size_t((bh * s.tk + j) * s.d)];
        double dot = 0;
        for (int64_t c = 0; c < s.d; ++c) {
          dot += go[c] * vj[c];
          g.dv[size_t((bh * s.tk + j) * s.d + c)] += pr.p[row + size_t(j)] * pr.z[row + size_t(j)] * go[c];
        }
        dp[size_t(j)] = dot * pr.z[row + size_t(j)];  // dL/dP
        p_dot_dp += pr.p[row + size_t(j)] * dp[size_t(j)];
      }
      for (int64_t j = 0; j < s.tk; ++j) {
        const double ds = pr.p[row + size_t(j)] * (dp[size_t(j)] - p_dot_dp) * scale;  // dL/d(q.k)
        for (int64_t c = 0; c < s.d; ++c) {
          g.dq[size_t((bh * s.tq + i) * s.d + c)] += ds * k[size_t((bh * s.tk + j) * s.d + c)];
          g.dk[size_t((bh * s.tk + j) * s.d + c)] += ds * q[size_t((bh * s.tq + i) * s.d + c)];
        }
      }
    }
  }
  return g;
}

// ---- helpers ------------------------------------------------------------------

void expect_close(const std::vector<double>& got, const std::vector<double>& want, double tol, const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_NEAR(got[i], want[i], tol * (1.0 + std::abs(want[i]))) << what << " at " << i;
  }
}

struct Case {
  Tensor q, k, v, dout;
  Dims s;
};

Case make_case(const Dims& s, DType dtype, uint64_t seed) {
  Generator gen(seed);
  TensorOptions opt{dtype, Device::cpu()};
  return {randn({s.b, s.h, s.tq, s.d}, opt, &gen), randn({s.b, s.h, s.tk, s.d}, opt, &gen),
          randn({s.b, s.h, s.tk, s.d}, opt, &gen), randn({s.b, s.h, s.tq, s.d}, opt, &gen), s};
}

AttentionArgs make_args(const Dims& s, bool causal, double dropout_p = 0.0, PhiloxState rng = {}) {
  AttentionArgs args;
  args.causal = causal;
  args.scale = 1.0 / std::sqrt(double(s.d));
  args.dropout_p = dropout_p;
  args.dropout_rng = rng;
  return args;
}

// Runs forward and backward and compares everything with the reference.
void check_against_reference(const Dims& s, DType dtype, const AttentionArgs& args, double tol) {
  SCOPED_TRACE(::testing::Message() << "B=" << s.b << " H=" << s.h << " Tq=" << s.tq << " Tk=" << s.tk
                                    << " D=" << s.d << " causal=" << args.causal << " p=" << args.dropout_p
                                    << " dtype=" << dtype_name(dtype));
  const Case c = make_case(s, dtype, 1234 + uint64_t(s.tq * 7 + s.tk * 3 + s.d));
  const auto q = c.q.to_vector<double>(), k = c.k.to_vector<double>(), v = c.v.to_vector<double>();
  const auto dout = c.dout.to_vector<double>();

  const ops::AttentionResult res = ops::attention(c.q, c.k, c.v, args);
  ASSERT_EQ(res.out.shape(), c.q.shape());
  ASSERT_EQ(res.lse.shape(), Shape({s.b, s.h, s.tq}));
  EXPECT_EQ(res.out.dtype(), dtype);

  const RefProbs probs = ref_probs(s, q, k, args);
  expect_close(res.out.to_vector<double>(), ref_forward(s, probs, v), tol, "out");
  expect_close(res.lse.to_vector<double>(), probs.lse, tol, "lse");

  const ops::AttentionGrads g = ops::attention_backward(c.q, c.k, c.v, res, c.dout, args);
  const RefGrads want = ref_backward(s, probs, q, k, v, dout, args.scale);
  expect_close(g.dq.to_vector<double>(), want.dq, tol, "dq");
  expect_close(g.dk.to_vector<double>(), want.dk, tol, "dk");
  expect_close(g.dv.to_vector<double>(), want.dv, tol, "dv");
}

const std::vector<Dims> kShapes = {
    {1, 1, 1, 1, 1},      // degenerate
    {2, 3, 17, 17, 8},    // several heads, one partial tile
    {1, 2, 70, 130, 13},  // Tq < Tk, D not a multiple of 8, partial tiles
    {2, 1, 130, 70, 32},  // Tq > Tk (causal rows past Tk see every key)
    {1, 1, 64, 64, 64},   // exactly one tile
    {1, 2, 129, 129, 24}, // one past a tile boundary
};

double tolerance(DType dtype) { return dtype == DType::f32 ? 1e-5 : 1e-12; }

// ---- tests --------------------------------------------------------------------

TEST(Attention, MatchesReference) {
  for (DType dtype : {DType::f32, DType::f64}) {
    for (bool causal : {false, true}) {
      for (const Dims& s : kShapes) check_against_reference(s, dtype, make_args(s, causal), tolerance(dtype));
    }
  }
}

TEST(Attention, CustomScale) {
  const Dims s{1, 2, 40, 90, 16};
  AttentionArgs args = make_args(s, true);
  args.scale = 0.7;  // large scores exercise the running-max rescaling
  check_against_reference(s, DType::f64, args, tolerance(DType::f64));
  check_against_reference(s, DType::f32, args, tolerance(DType::f32));
}

TEST(Attention, DropoutMatchesReference) {
  const PhiloxState rng{42, 1000};
  for (DType dtype : {DType::f32, DType::f64}) {
    for (bool causal : {false, true}) {
      for (const Dims& s : {Dims{1, 2, 70, 130, 13}, Dims{2, 1, 67, 67, 16}}) {
        check_against_reference(s, dtype, make_args(s, causal, 0.3, rng), tolerance(dtype));
      }
    }
  }
}

TEST(Attention, DropoutIsReproducibleAndChangesOutput) {
  const Dims s{2, 2, 50, 50, 16};
  const Case c = make_case(s, DType::f32, 7);
  const AttentionArgs plain = make_args(s, true);
  const AttentionArgs drop = make_args(s, true, 0.5, PhiloxState{5, 0});
  const AttentionArgs drop_other = make_args(s, true, 0.5, PhiloxState{5, 10000});

  const auto base = ops::attention(c.q, c.k, c.v, plain);
  const auto a = ops::attention(c.q, c.k, c.v, drop);
  const auto b = ops::attention(c.q, c.k, c.v, drop);
  const auto other = ops::attention(c.q, c.k, c.v, drop_other);
  EXPECT_EQ(a.out.to_vector<float>(), b.out.to_vector<float>());
  EXPECT_NE(a.out.to_vector<float>(), base.out.to_vector<float>());
  EXPECT_NE(a.out.to_vector<float>(), other.out.to_vector<float>());
  // lse is of the softmax before dropout.
  EXPECT_EQ(a.lse.to_vector<float>(), base.lse.to_vector<float>());
}

TEST(Attention, IndependentOfThreadCount) {
  const Dims s{2, 3, 200, 150, 40};
  const Case c = make_case(s, DType::f32, 11);
  const AttentionArgs args = make_args(s, true, 0.1, PhiloxState{3, 0});
  auto run = [&](int threads) {
    const int saved = omp_get_max_threads();
    omp_set_num_threads(threads);
    const auto res = ops::attention(c.q, c.k, c.v, args);
    const auto g = ops::attention_backward(c.q, c.k, c.v, res, c.dout, args);
    omp_set_num_threads(saved);
    std::vector<float> all = res.out.to_vector<float>();
    for (const Tensor& t : {res.lse, g.dq, g.dk, g.dv}) {
      const auto part = t.to_vector<float>();
      all.insert(all.end(), part.begin(), part.end());
    }
    return all;
  };
  EXPECT_EQ(run(1), run(3));
}

}  // namespace
}  // namespace strata
