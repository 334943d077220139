// Bad input raises strata::Error naming the op and the offending values;
// nothing crashes or reads out of bounds.
#include "tests/support/test_util.h"

namespace strata {
namespace {

// Runs f, expects a strata::Error whose message contains every fragment.
template <typename F>
void expect_error(F f, std::initializer_list<const char*> fragments) {
  try {
    f();
    ADD_FAILURE() << "no error thrown";
  } catch (const Error& e) {
    std::string message = e.what();
    for (const char* fragment : fragments) {
      EXPECT_NE(message.find(fragment), std::string::npos) << "'" << fragment << "' not in: " << message;
    }
  }
}

TEST(Errors, ShapeMismatchNamesOpAndShapes) {
  expect_error([] { ops::add(zeros({2, 3}), zeros({4, 3})); }, {"binary", "[2, 3]", "[4, 3]"});
  expect_error([] { ops::matmul(zeros({2, 3}), zeros({4, 5})); }, {"matmul", "[2, 3]", "[4, 5]"});
  expect_error([] { ops::view(zeros({2, 3}), {4}); }, {"view", "[4]", "6"});
  expect_error([] { ops::expand(zeros({2, 3}), {3, 3}); }, {"expand", "[2, 3]", "[3, 3]"});
  expect_error([] { ops::cat({zeros({2, 3}), zeros({2, 4})}, 0); }, {"cat", "[2, 3]", "[2, 4]"});
  expect_error([] { ops::layer_norm(zeros({2, 3}), zeros({4}), Tensor(), 1e-5); }, {"layer_norm", "[4]", "3"});
  expect_error([] { ops::transpose(zeros({2, 3}), 0, 2); }, {"transpose", "dim 2"});
}

TEST(Errors, DtypeMismatchNamesDtypes) {
  expect_error([] { ops::add(zeros({2}), zeros({2}, {DType::f64})); }, {"dtype mismatch", "f32", "f64"});
  expect_error([] { ops::unary(UnaryOp::exp, zeros({2}, {DType::i64})); }, {"unary", "i64"});
  expect_error([] { zeros({2}).data<double>(); }, {"data", "f32", "f64"});
  expect_error([] { cross_entropy(zeros({2, 3}), zeros({2})); }, {"cross_entropy", "integer"});
}

TEST(Errors, OutOfRangeIndicesAreRejectedBeforeAnyRead) {
  Tensor w = zeros({5, 3});
  expect_error([&] { ops::embedding(w, from_vector<int64_t>({1, 5}, {2})); }, {"index_select", "index 5", "[0, 5)"});
  expect_error([&] { ops::embedding(w, from_vector<int32_t>({-1}, {1})); }, {"index -1"});
  Tensor logits = zeros({2, 4});
  expect_error([&] { cross_entropy(logits, from_vector<int64_t>({0, 4}, {2})); }, {"cross_entropy", "target 4", "row 1", "[0, 4)"});
  expect_error([&] { cross_entropy(logits, from_vector<int64_t>({0}, {1})); }, {"cross_entropy", "[1]", "[2, 4]"});
  expect_error([&] { ops::embedding(w, zeros({2})); }, {"integer"});
}

TEST(Errors, AutogradMisuse) {
  Tensor x = randn({3});
  x.requires_grad_();
  Tensor y = x * 2.0;
  expect_error([&] { y.backward(); }, {"backward", "scalar", "[3]"});
  Tensor loss = sum(y);
  loss.backward();
  expect_error([&] { loss.backward(); }, {"backward", "second time", "retain_graph"});
  expect_error([] { zeros({2}).backward(); }, {"does not require grad"});
  expect_error([&] { y.requires_grad_(false); }, {"leaf"});
  expect_error([] { zeros({2}, {DType::i64}).requires_grad_(); }, {"floating"});
}

TEST(Errors, UndefinedTensorAndBadDims) {
  Tensor undefined;
  expect_error([&] { (void)undefined.shape(); }, {"undefined"});
  expect_error([] { ops::sum(zeros({2, 3}), {0, 0}); }, {"sum", "repeated"});
  expect_error([] { ops::permute(zeros({2, 3}), {0}); }, {"permute"});
  expect_error([] { empty({-1, 2}); }, {"empty", "negative"});
}

}  // namespace
}  // namespace strata
