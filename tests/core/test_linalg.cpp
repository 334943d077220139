// SVD and SPD solves against their defining identities.
#include "tests/support/reference.h"
#include "tests/support/test_util.h"

#include "core/linalg.h"

namespace strata {
namespace {

using testing::random_tensor;

TEST(Linalg, SvdReconstructsAndIsOrthonormal) {
  for (Shape shape : {Shape{7, 4}, Shape{4, 7}, Shape{5, 5}}) {
    Tensor a = random_tensor(shape, 1, DType::f64, false);
    linalg::SVD r = linalg::svd(a);
    int64_t k = std::min(shape[0], shape[1]);
    ASSERT_EQ(r.u.shape(), (Shape{shape[0], k}));
    ASSERT_EQ(r.vt.shape(), (Shape{k, shape[1]}));
    Tensor rebuilt = ops::matmul(ops::mul(r.u, r.s), r.vt);
    testing::expect_close(rebuilt.to_vector<double>(), a.to_vector<double>(), 1e-12, "u s vt");
    Tensor utu = ops::matmul(ops::transpose(r.u, 0, 1), r.u);
    Tensor vvt = ops::matmul(r.vt, ops::transpose(r.vt, 0, 1));
    std::vector<double> eye(size_t(k * k), 0.0);
    for (int64_t i = 0; i < k; ++i) eye[size_t(i * k + i)] = 1.0;
    testing::expect_close(utu.to_vector<double>(), eye, 1e-12, "u^T u");
    testing::expect_close(vvt.to_vector<double>(), eye, 1e-12, "vt vt^T");
    std::vector<double> s = r.s.to_vector<double>();
    EXPECT_TRUE(std::is_sorted(s.rbegin(), s.rend()));
  }
}

TEST(Linalg, SvdOfALowRankMatrixHasThatManyNonzeroValues) {
  Tensor a = ops::matmul(random_tensor({6, 2}, 1, DType::f32, false), random_tensor({2, 5}, 2, DType::f32, false));
  std::vector<float> s = linalg::svd(a).s.to_vector<float>();
  EXPECT_GT(s[1], 1e-2f);
  for (size_t i = 2; i < s.size(); ++i) EXPECT_LT(s[i], 1e-5f * s[0]);
}

TEST(Linalg, SolveSpdInvertsTheMatrix) {
  Tensor g = random_tensor({5, 5}, 1, DType::f64, false);
  Tensor a = ops::matmul(g, ops::transpose(g, 0, 1));
  for (int i = 0; i < 5; ++i) a.data<double>()[i * 6] += 1.0;  // a = g g^T + I
  Tensor b = random_tensor({5, 3}, 2, DType::f64, false);
  Tensor x = linalg::solve_spd(a, b);
  testing::expect_close(ops::matmul(a, x).to_vector<double>(), b.to_vector<double>(), 1e-12, "a x = b");
  Tensor not_spd = from_vector<double>({1, 2, 2, 1}, {2, 2});
  EXPECT_THROW(linalg::solve_spd(not_spd, ones({2, 1}, {DType::f64})), Error);
}

}  // namespace
}  // namespace strata
