// Every differentiable op, checked by central finite differences in f64 over
// several shapes, including broadcasting and non-contiguous inputs. The test
// is parameterised over the op registry itself: an op registered without a
// case below fails as "no gradcheck case".
#include <map>

#include "autograd/blast_ops.h"
#include "tests/support/test_util.h"

namespace strata {
namespace {

using testing::expect_gradcheck;
using testing::noncontiguous_tensor;
using testing::positive_tensor;
using testing::random_tensor;
using Inputs = std::vector<Tensor>;

// Unary ops: contiguous, non-contiguous, and a 3-D shape.
void check_unary(Tensor (*op)(const Tensor&), bool positive = false) {
  auto make = [&](const Shape& s, uint64_t seed) { return positive ? positive_tensor(s, seed) : random_tensor(s, seed); };
  expect_gradcheck([&](const Inputs& in) { return op(in[0]); }, {make({3, 4}, 1)});
  expect_gradcheck([&](const Inputs& in) { return op(in[0]); }, {make({2, 3, 5}, 2)});
  Tensor nc = noncontiguous_tensor({4, 3}, 3);
  if (positive) {
    expect_gradcheck([&](const Inputs& in) { return op(in[0] * in[0] + 0.5); }, {nc});
  } else {
    expect_gradcheck([&](const Inputs& in) { return op(in[0]); }, {nc});
  }
}

// Binary ops: same shape, both-side broadcasting, non-contiguous operands.
void check_binary(Tensor (*op)(const Tensor&, const Tensor&), bool positive_rhs = false) {
  auto rhs = [&](const Shape& s, uint64_t seed) { return positive_rhs ? positive_tensor(s, seed) : random_tensor(s, seed); };
  expect_gradcheck([&](const Inputs& in) { return op(in[0], in[1]); }, {random_tensor({3, 4}, 1), rhs({3, 4}, 2)});
  expect_gradcheck([&](const Inputs& in) { return op(in[0], in[1]); }, {random_tensor({2, 3, 4}, 3), rhs({4}, 4)});
  expect_gradcheck([&](const Inputs& in) { return op(in[0], in[1]); }, {random_tensor({3, 1}, 5), rhs({1, 4}, 6)});
  expect_gradcheck([&](const Inputs& in) { return op(in[0], in[1]); },
                   {noncontiguous_tensor({4, 3}, 7), positive_rhs ? rhs({4, 3}, 8) : noncontiguous_tensor({4, 3}, 8)});
}

std::map<std::string, std::function<void()>> gradcheck_cases() {
  std::map<std::string, std::function<void()>> c;
  c["add"] = [] { check_binary(add); };
  c["sub"] = [] { check_binary(sub); };
  c["mul"] = [] { check_binary(mul); };
  c["div"] = [] { check_binary(div, /*positive_rhs=*/true); };
  c["add_scalar"] = [] { check_unary(+[](const Tensor& x) { return add_scalar(x, 1.5); }); };
  c["mul_scalar"] = [] { check_unary(+[](const Tensor& x) { return mul_scalar(x, -2.5); }); };
  c["neg"] = [] { check_unary(neg); };
  c["exp"] = [] { check_unary(exp); };
  c["log"] = [] { check_unary(log, true); };
  c["sqrt"] = [] { check_unary(sqrt, true); };
  c["rsqrt"] = [] { check_unary(rsqrt, true); };
  c["abs"] = [] { check_unary(abs); };
  c["pow"] = [] {
    check_unary(+[](const Tensor& x) { return pow(x, 3.0); });
    check_unary(+[](const Tensor& x) { return pow(x, 0.7); }, true);
  };
  c["tanh"] = [] { check_unary(tanh); };
  c["sigmoid"] = [] { check_unary(sigmoid); };
  c["relu"] = [] { check_unary(relu); };
  c["silu"] = [] { check_unary(silu); };
  c["gelu"] = [] { check_unary(+[](const Tensor& x) { return gelu(x); }); };
  c["gelu_tanh"] = [] { check_unary(+[](const Tensor& x) { return gelu(x, GeluApprox::tanh); }); };
  c["where"] = [] {
    Tensor cond = from_vector<uint8_t>({1, 0, 0, 1, 1, 0, 1, 0, 0, 1, 1, 1}, {3, 4});
    expect_gradcheck([&](const Inputs& in) { return where(cond, in[0], in[1]); },
                     {random_tensor({3, 4}, 1), random_tensor({3, 4}, 2)});
    Tensor row = from_vector<uint8_t>({1, 0, 1, 0}, {4});
    expect_gradcheck([&](const Inputs& in) { return where(row, in[0], in[1]); },
                     {noncontiguous_tensor({3, 4}, 3), random_tensor({1, 4}, 4)});
  };
  c["masked_fill"] = [] {
    Tensor mask = from_vector<uint8_t>({1, 0, 0, 1}, {4});
    expect_gradcheck([&](const Inputs& in) { return masked_fill(in[0], mask, -3.0); }, {random_tensor({2, 3, 4}, 1)});
    expect_gradcheck([&](const Inputs& in) { return masked_fill(in[0], mask, 7.0); }, {noncontiguous_tensor({3, 4}, 2)});
  };
  c["sum"] = [] {
    expect_gradcheck([](const Inputs& in) { return sum(in[0]); }, {random_tensor({3, 4}, 1)});
    expect_gradcheck([](const Inputs& in) { return sum(in[0], {1}); }, {random_tensor({2, 3, 4}, 2)});
    expect_gradcheck([](const Inputs& in) { return sum(in[0], {0, 2}, true); }, {random_tensor({2, 3, 4}, 3)});
    expect_gradcheck([](const Inputs& in) { return sum(in[0], {0}); }, {noncontiguous_tensor({4, 3}, 4)});
  };
  c["mean"] = [] {
    expect_gradcheck([](const Inputs& in) { return mean(in[0]); }, {random_tensor({3, 4}, 1)});
    expect_gradcheck([](const Inputs& in) { return mean(in[0], {-1}, true); }, {random_tensor({2, 3, 4}, 2)});
    expect_gradcheck([](const Inputs& in) { return mean(in[0], {1}); }, {noncontiguous_tensor({2, 4, 3}, 3)});
  };
  c["amax"] = [] {
    expect_gradcheck([](const Inputs& in) { return amax(in[0], 1); }, {random_tensor({3, 5}, 1)});
    expect_gradcheck([](const Inputs& in) { return amax(in[0], 0, true); }, {random_tensor({4, 2, 3}, 2)});
    expect_gradcheck([](const Inputs& in) { return amax(in[0], -1); }, {noncontiguous_tensor({3, 4}, 3)});
  };
  c["blast_linear"] = [] {
    // b = 3 blocks, in 6 (q 2), out 9 (p 3), rank 2; with and without bias,
    // a 3-D input, and non-contiguous input and factors.
    auto blast = [](const Inputs& in) { return blast_linear(in[0], in[1], in[2], in[3], in.size() > 4 ? in[4] : Tensor()); };
    expect_gradcheck(blast, {random_tensor({4, 6}, 1), random_tensor({3, 3, 2}, 2), random_tensor({3, 2, 2}, 3),
                             random_tensor({3, 3, 2}, 4), random_tensor({9}, 5)});
    expect_gradcheck(blast, {random_tensor({2, 3, 6}, 6), random_tensor({3, 3, 2}, 7), random_tensor({3, 2, 2}, 8),
                             random_tensor({3, 3, 2}, 9)});
    expect_gradcheck(blast, {noncontiguous_tensor({5, 6}, 10), noncontiguous_tensor({3, 3, 2}, 11),
                             noncontiguous_tensor({3, 2, 2}, 12), noncontiguous_tensor({3, 3, 2}, 13)});
  };
  c["matmul"] = [] {
    expect_gradcheck([](const Inputs& in) { return matmul(in[0], in[1]); }, {random_tensor({3, 4}, 1), random_tensor({4, 5}, 2)});
    expect_gradcheck([](const Inputs& in) { return matmul(in[0], in[1]); },
                     {random_tensor({2, 3, 4}, 3), random_tensor({4, 2}, 4)});
    expect_gradcheck([](const Inputs& in) { return matmul(in[0], in[1]); },
                     {random_tensor({2, 3, 4}, 5), random_tensor({2, 4, 2}, 6)});
    expect_gradcheck([](const Inputs& in) { return matmul(in[0], in[1]); },
                     {random_tensor({2, 1, 3, 4}, 7), random_tensor({3, 4, 2}, 8)});
    expect_gradcheck([](const Inputs& in) { return matmul(in[0], in[1]); },
                     {noncontiguous_tensor({3, 4}, 9), noncontiguous_tensor({4, 2}, 10)});
  };
  c["linear"] = [] {
    expect_gradcheck([](const Inputs& in) { return linear(in[0], in[1], in[2]); },
                     {random_tensor({2, 3, 4}, 11), random_tensor({5, 4}, 12), random_tensor({5}, 13)});
    expect_gradcheck([](const Inputs& in) { return linear(in[0], in[1]); },
                     {noncontiguous_tensor({3, 4}, 14), noncontiguous_tensor({5, 4}, 15)});
  };
  c["softmax"] = [] {
    expect_gradcheck([](const Inputs& in) { return softmax(in[0]); }, {random_tensor({3, 5}, 1)});
    expect_gradcheck([](const Inputs& in) { return softmax(in[0], 0); }, {random_tensor({4, 3}, 2)});
    expect_gradcheck([](const Inputs& in) { return softmax(in[0], 1); }, {noncontiguous_tensor({2, 4, 3}, 3)});
  };
  c["log_softmax"] = [] {
    expect_gradcheck([](const Inputs& in) { return log_softmax(in[0]); }, {random_tensor({3, 5}, 1)});
    expect_gradcheck([](const Inputs& in) { return log_softmax(in[0], 1); }, {random_tensor({2, 4, 3}, 2)});
    expect_gradcheck([](const Inputs& in) { return log_softmax(in[0]); }, {noncontiguous_tensor({4, 3}, 3)});
  };
  c["layer_norm"] = [] {
    expect_gradcheck([](const Inputs& in) { return layer_norm(in[0], in[1], in[2]); },
                     {random_tensor({4, 6}, 1), random_tensor({6}, 2), random_tensor({6}, 3)});
    expect_gradcheck([](const Inputs& in) { return layer_norm(in[0], Tensor(), Tensor()); }, {random_tensor({2, 3, 5}, 4)});
    expect_gradcheck([](const Inputs& in) { return layer_norm(in[0], in[1], in[2], 1e-3); },
                     {noncontiguous_tensor({5, 4}, 5), random_tensor({4}, 6), random_tensor({4}, 7)});
  };
  c["cross_entropy"] = [] {
    Tensor t = from_vector<int64_t>({2, 0, 4, 1}, {4});
    expect_gradcheck([&](const Inputs& in) { return cross_entropy(in[0], t); }, {random_tensor({4, 5}, 1)});
    CrossEntropyOptions smooth;
    smooth.label_smoothing = 0.1;
    expect_gradcheck([&](const Inputs& in) { return cross_entropy(in[0], t, smooth); }, {noncontiguous_tensor({4, 5}, 2)});
    CrossEntropyOptions ignore;
    ignore.ignore_index = 0;
    expect_gradcheck([&](const Inputs& in) { return cross_entropy(in[0], t, ignore); }, {random_tensor({4, 5}, 3)});
    CrossEntropyOptions none;
    none.reduction = CrossEntropyOptions::Reduction::none;
    Tensor t2 = from_vector<int32_t>({1, 2, 0, 3, 3, 1}, {2, 3});
    expect_gradcheck([&](const Inputs& in) { return cross_entropy(in[0], t2, none); }, {random_tensor({2, 3, 4}, 4)});
  };
  c["embedding"] = [] {
    Tensor idx = from_vector<int64_t>({1, 3, 1, 0, 4, 3}, {2, 3});
    expect_gradcheck([&](const Inputs& in) { return embedding(in[0], idx); }, {random_tensor({5, 4}, 1)});
    Tensor idx32 = from_vector<int32_t>({2, 2}, {2});
    expect_gradcheck([&](const Inputs& in) { return embedding(in[0], idx32); }, {noncontiguous_tensor({3, 4}, 2)});
  };
  c["index_select"] = [] {
    Tensor idx = from_vector<int64_t>({2, 0, 2}, {3});
    expect_gradcheck([&](const Inputs& in) { return index_select(in[0], 1, idx); }, {random_tensor({2, 3, 4}, 1)});
    expect_gradcheck([&](const Inputs& in) { return index_select(in[0], 0, idx); }, {noncontiguous_tensor({3, 4}, 2)});
  };
  c["cat"] = [] {
    expect_gradcheck([](const Inputs& in) { return cat({in[0], in[1]}, 0); }, {random_tensor({2, 3}, 1), random_tensor({4, 3}, 2)});
    expect_gradcheck([](const Inputs& in) { return cat({in[0], in[1], in[0]}, -1); },
                     {noncontiguous_tensor({3, 2}, 3), random_tensor({3, 4}, 4)});
  };
  c["stack"] = [] {
    expect_gradcheck([](const Inputs& in) { return stack({in[0], in[1]}, 1); }, {random_tensor({2, 3}, 5), random_tensor({2, 3}, 6)});
    expect_gradcheck([](const Inputs& in) { return stack({in[0], in[1], in[0]}, 0); },
                     {noncontiguous_tensor({3, 2}, 7), random_tensor({3, 2}, 8)});
    expect_gradcheck([](const Inputs& in) { return stack({in[0]}, -1); }, {random_tensor({2, 3}, 9)});
  };
  c["dropout"] = [] {
    // The generator is re-seeded on every evaluation so the mask is fixed.
    auto f = [](const Inputs& in) {
      Generator gen(42);
      return dropout(in[0], 0.4, true, &gen);
    };
    expect_gradcheck(f, {random_tensor({6, 7}, 1)});
    expect_gradcheck(f, {noncontiguous_tensor({5, 4}, 2)});
  };
  c["attention"] = [] {
    for (bool causal : {false, true}) {
      AttentionOptions o;
      o.causal = causal;
      expect_gradcheck([&](const Inputs& in) { return scaled_dot_product_attention(in[0], in[1], in[2], o); },
                       {random_tensor({1, 2, 5, 3}, 1), random_tensor({1, 2, 5, 3}, 2), random_tensor({1, 2, 5, 3}, 3)});
    }
    AttentionOptions cross;
    expect_gradcheck([&](const Inputs& in) { return scaled_dot_product_attention(in[0], in[1], in[2], cross); },
                     {random_tensor({2, 1, 3, 4}, 4), random_tensor({2, 1, 6, 4}, 5), noncontiguous_tensor({2, 1, 6, 4}, 6)});
    AttentionOptions drop;
    drop.dropout_p = 0.3;
    drop.causal = true;
    expect_gradcheck(
        [&](const Inputs& in) {
          Generator gen(7);
          AttentionOptions o = drop;
          o.generator = &gen;
          return scaled_dot_product_attention(in[0], in[1], in[2], o);
        },
        {random_tensor({1, 2, 4, 3}, 7), random_tensor({1, 2, 4, 3}, 8), random_tensor({1, 2, 4, 3}, 9)});
  };
  c["reshape"] = [] {
    expect_gradcheck([](const Inputs& in) { return in[0].reshape({4, 3}) * in[0].reshape({4, 3}); }, {random_tensor({3, 4}, 1)});
    expect_gradcheck([](const Inputs& in) { return in[0].reshape({-1}); }, {noncontiguous_tensor({3, 4}, 2)});
    expect_gradcheck([](const Inputs& in) { return in[0].view({2, 6}).unsqueeze(1).flatten(0, 1).squeeze(0); },
                     {random_tensor({3, 4}, 3)});
  };
  c["transpose"] = [] {
    expect_gradcheck([](const Inputs& in) { return matmul(in[0].transpose(0, 1), in[0]); }, {random_tensor({3, 4}, 1)});
    expect_gradcheck([](const Inputs& in) { return in[0].t(); }, {noncontiguous_tensor({2, 3, 4}, 2)});
  };
  c["permute"] = [] {
    expect_gradcheck([](const Inputs& in) { return in[0].permute({2, 0, 1}) * 2.0; }, {random_tensor({2, 3, 4}, 1)});
    expect_gradcheck([](const Inputs& in) { return in[0].permute({1, 0}); }, {noncontiguous_tensor({3, 4}, 2)});
  };
  c["slice"] = [] {
    expect_gradcheck([](const Inputs& in) { return in[0].slice(1, 1, 4, 2); }, {random_tensor({3, 5}, 1)});
    expect_gradcheck([](const Inputs& in) { return in[0].slice(0, -2, 4); }, {noncontiguous_tensor({4, 3}, 2)});
  };
  c["expand"] = [] {
    expect_gradcheck([](const Inputs& in) { return in[0].expand({3, 2, 4}); }, {random_tensor({2, 1}, 1)});
    expect_gradcheck([](const Inputs& in) { return in[0].expand({2, 4, 3}); }, {noncontiguous_tensor({4, 3}, 2)});
  };
  c["contiguous"] = [] {
    expect_gradcheck([](const Inputs& in) { return in[0].contiguous(); }, {noncontiguous_tensor({3, 4}, 1)});
    expect_gradcheck([](const Inputs& in) { return in[0].t().contiguous() * in[0].t(); }, {random_tensor({3, 4}, 2)});
  };
  c["cast"] = [] {
    // Through f32 and back loses precision: compare with a looser tolerance.
    GradcheckOptions loose;
    loose.eps = 1e-2;
    loose.rtol = 1e-3;
    loose.atol = 1e-4;
    expect_gradcheck([](const Inputs& in) { return in[0].to(DType::f32).to(DType::f64) * 3.0; }, {random_tensor({3, 4}, 1)},
                     loose);
  };
  return c;
}

class Gradcheck : public ::testing::TestWithParam<std::string> {};

TEST_P(Gradcheck, MatchesFiniteDifferences) {
  auto cases = gradcheck_cases();
  auto it = cases.find(GetParam());
  ASSERT_NE(it, cases.end()) << "no gradcheck case for differentiable op '" << GetParam() << "'";
  it->second();
}

INSTANTIATE_TEST_SUITE_P(Registry, Gradcheck, ::testing::ValuesIn(differentiable_ops()),
                         [](const auto& info) { return info.param; });

TEST(GradcheckRegistry, EveryCaseNamesARegisteredOp) {
  const auto& ops = differentiable_ops();
  for (const auto& [name, _] : gradcheck_cases()) {
    EXPECT_NE(std::find(ops.begin(), ops.end(), name), ops.end()) << name << " is not a registered op";
  }
}

TEST(GradcheckRegistry, GradcheckCatchesAWrongGradient) {
  // A deliberately wrong backward must be reported, or gradcheck proves nothing.
  auto wrong = [](const Inputs& in) {
    Tensor x = in[0];
    return record("mul_scalar", ops::mul_scalar(x, 2.0), {x},
                  [](const Tensor& g) -> std::vector<Tensor> { return {ops::mul_scalar(g, 3.0)}; });
  };
  GradcheckResult r = gradcheck(wrong, {random_tensor({3}, 1)});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.report.find("analytic"), std::string::npos);
}

}  // namespace
}  // namespace strata
