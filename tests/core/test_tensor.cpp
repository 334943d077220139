// Tensor handles, views sharing storage, contiguity, printing, construction.
#include "tests/support/test_util.h"

namespace strata {
namespace {

TEST(Tensor, HandleCopiesShareTheImpl) {
  Tensor a = zeros({2, 3});
  Tensor b = a;
  b.data<float>()[4] = 7.0f;
  EXPECT_EQ(a.to_vector<float>()[4], 7.0f);
  EXPECT_TRUE(a.is_same(b));
}

TEST(Tensor, ShapesStridesAndDtypes) {
  Tensor t = empty({2, 3, 4}, {DType::f64});
  EXPECT_EQ(t.strides(), (Shape{12, 4, 1}));
  EXPECT_EQ(t.numel(), 24);
  EXPECT_EQ(t.size(-1), 4);
  EXPECT_EQ(t.nbytes(), 24u * 8u);
  for (DType d : {DType::f32, DType::f64, DType::bf16, DType::i32, DType::i64, DType::u8}) {
    Tensor x = full({3}, 2.0, {d});
    EXPECT_EQ(x.dtype(), d);
    EXPECT_EQ(ops::cast(x, DType::f64).to_vector<double>(), (std::vector<double>{2, 2, 2}));
  }
}

TEST(Tensor, ViewsShareStorage) {
  Tensor x = from_vector<float>({0, 1, 2, 3, 4, 5}, {2, 3});
  Tensor v = ops::view(x, {3, 2});
  Tensor t = ops::transpose(x, 0, 1);
  Tensor p = ops::permute(ops::unsqueeze(x, 0), {2, 0, 1});
  Tensor s = ops::slice(x, 1, 1, 3);
  Tensor e = ops::expand(ops::slice(x, 0, 0, 1), {4, 3});
  for (const Tensor& view : {v, t, p, s, e}) EXPECT_TRUE(view.shares_storage(x));
  EXPECT_FALSE(t.is_contiguous());
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(s.to_vector<float>(), (std::vector<float>{1, 2, 4, 5}));
  EXPECT_EQ(e.strides()[0], 0);
  x.data<float>()[1] = 10;
  EXPECT_EQ(v.to_vector<float>()[1], 10);
  EXPECT_EQ(e.to_vector<float>()[10], 10);
}

TEST(Tensor, ContiguousCopiesOnlyWhenNeeded) {
  Tensor x = randn({3, 4});
  EXPECT_TRUE(ops::contiguous(x).is_same(x));
  Tensor t = ops::contiguous(ops::transpose(x, 0, 1));
  EXPECT_TRUE(t.is_contiguous());
  EXPECT_FALSE(t.shares_storage(x));
  EXPECT_EQ(t.to_vector<float>(), ops::transpose(x, 0, 1).to_vector<float>());
}

TEST(Tensor, ReshapeViewsWhenStridesAllowAndCopiesOtherwise) {
  Tensor x = randn({4, 6});
  EXPECT_TRUE(ops::reshape(x, {2, 12}).shares_storage(x));
  EXPECT_TRUE(ops::reshape(ops::slice(x, 0, 1, 3), {-1}).shares_storage(x));  // whole rows stay contiguous
  Tensor t = ops::transpose(x, 0, 1);
  EXPECT_THROW(ops::view(t, {24}), Error);
  Tensor r = ops::reshape(t, {24});
  EXPECT_FALSE(r.shares_storage(x));
  EXPECT_EQ(r.to_vector<float>(), ops::contiguous(t).to_vector<float>());
  EXPECT_EQ(ops::view(t, {3, 2, 4}).shape(), (Shape{3, 2, 4}));  // splitting a dim works on any stride
}

TEST(Tensor, PrintsValuesShapeAndDtype) {
  Tensor x = from_vector<float>({1, 2.5, -3, 4}, {2, 2});
  EXPECT_EQ(x.str(), "tensor([[1, 2.5], [-3, 4]], shape=[2, 2], dtype=f32)");
  Tensor big = arange(20, {DType::i64});
  EXPECT_EQ(big.str(), "tensor([0, 1, 2, ..., 17, 18, 19], shape=[20], dtype=i64)");
  EXPECT_EQ(scalar_tensor(2.0, {DType::f64}).str(), "tensor(2, shape=[], dtype=f64)");
}

TEST(Tensor, AsStridedChecksBounds) {
  Tensor x = zeros({10});
  EXPECT_EQ(as_strided(x, {3, 3}, {3, 1}, 1).numel(), 9);
  EXPECT_THROW(as_strided(x, {4, 4}, {3, 1}, 0), Error);
}

TEST(Tensor, ZeroSizedTensorsWork) {
  Tensor x = zeros({0, 3});
  EXPECT_EQ(x.numel(), 0);
  EXPECT_EQ(ops::sum(x, {0}).to_vector<float>(), (std::vector<float>{0, 0, 0}));
  EXPECT_EQ(ops::matmul(zeros({2, 0}), zeros({0, 3})).to_vector<float>(), std::vector<float>(6, 0.0f));
}

}  // namespace
}  // namespace strata
