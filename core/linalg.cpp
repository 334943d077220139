// LAPACK is column-major: a row-major (m x n) matrix is, read column-major,
// its transpose. Each routine below is written in those terms.
#include "core/linalg.h"

#include <algorithm>
#include <vector>

#include "core/ops.h"

extern "C" {
void sgesdd_(const char* jobz, const int* m, const int* n, float* a, const int* lda, float* s, float* u,
             const int* ldu, float* vt, const int* ldvt, float* work, const int* lwork, int* iwork, int* info);
void dgesdd_(const char* jobz, const int* m, const int* n, double* a, const int* lda, double* s, double* u,
             const int* ldu, double* vt, const int* ldvt, double* work, const int* lwork, int* iwork, int* info);
void sposv_(const char* uplo, const int* n, const int* nrhs, float* a, const int* lda, float* b, const int* ldb,
            int* info);
void dposv_(const char* uplo, const int* n, const int* nrhs, double* a, const int* lda, double* b, const int* ldb,
            int* info);
}

namespace strata::linalg {

namespace {

void gesdd(int m, int n, float* a, float* s, float* u, int ldu, float* vt, int ldvt, float* work, int lwork,
           int* iwork, int* info) {
  sgesdd_("S", &m, &n, a, &m, s, u, &ldu, vt, &ldvt, work, &lwork, iwork, info);
}
void gesdd(int m, int n, double* a, double* s, double* u, int ldu, double* vt, int ldvt, double* work, int lwork,
           int* iwork, int* info) {
  dgesdd_("S", &m, &n, a, &m, s, u, &ldu, vt, &ldvt, work, &lwork, iwork, info);
}
void posv(int n, int nrhs, float* a, float* b, int* info) { sposv_("U", &n, &nrhs, a, &n, b, &n, info); }
void posv(int n, int nrhs, double* a, double* b, int* info) { dposv_("U", &n, &nrhs, a, &n, b, &n, info); }

void check_matrix(const char* op, const Tensor& a) {
  ops::check_floating(op, a);
  if (a.dim() != 2) fail(op, "expected a matrix, got shape {}", shape_str(a.shape()));
  if (a.device().type != DeviceType::cpu) fail(op, "runs on the CPU, got a tensor on {}", a.device().str());
}

template <typename T>
SVD svd_typed(const Tensor& a_in) {
  const int m = int(a_in.size(0)), n = int(a_in.size(1)), k = std::min(m, n);
  // Row-major a (m x n) is column-major a^T (n x m); factor a^T = U' S V'^T.
  Tensor at = ops::clone(a_in);
  SVD r{empty({m, k}, a_in.options()), empty({k}, a_in.options()), empty({k, n}, a_in.options())};
  // Column-major U' (n x k) read row-major is U'^T = vt; V'^T (k x m) read row-major is V' = u.
  std::vector<int> iwork(size_t(8 * std::max(k, 1)));
  int info = 0;
  T query = 0;
  gesdd(n, m, at.data<T>(), r.s.data<T>(), r.vt.data<T>(), std::max(n, 1), r.u.data<T>(), std::max(k, 1), &query, -1,
        iwork.data(), &info);
  std::vector<T> work(size_t(query) + 1);
  gesdd(n, m, at.data<T>(), r.s.data<T>(), r.vt.data<T>(), std::max(n, 1), r.u.data<T>(), std::max(k, 1), work.data(),
        int(work.size()), iwork.data(), &info);
  if (info != 0) fail("svd", "LAPACK gesdd failed (info {}) on a {}x{} matrix", info, m, n);
  return r;
}

template <typename T>
Tensor solve_spd_typed(const Tensor& a, const Tensor& b) {
  const int n = int(a.size(0)), nrhs = int(b.size(1));
  Tensor factor = ops::clone(a);  // symmetric: its layout does not matter
  Tensor x = ops::contiguous(ops::clone(ops::transpose(b, 0, 1)));  // column-major b
  int info = 0;
  posv(n, nrhs, factor.data<T>(), x.data<T>(), &info);
  if (info > 0) fail("solve_spd", "matrix is not positive definite (leading minor {} of {})", info, n);
  if (info < 0) fail("solve_spd", "LAPACK posv rejected argument {}", -info);
  return ops::contiguous(ops::transpose(x, 0, 1));
}

}  // namespace

SVD svd(const Tensor& a) {
  check_matrix("svd", a);
  if (a.numel() == 0) fail("svd", "empty matrix {}", shape_str(a.shape()));
  return a.dtype() == DType::f32 ? svd_typed<float>(a) : svd_typed<double>(a);
}

Tensor solve_spd(const Tensor& a, const Tensor& b) {
  check_matrix("solve_spd", a);
  check_matrix("solve_spd", b);
  ops::check_same_dtype("solve_spd", a, b);
  if (a.size(0) != a.size(1) || b.size(0) != a.size(0)) {
    fail("solve_spd", "a {} must be square and match b {}", shape_str(a.shape()), shape_str(b.shape()));
  }
  return a.dtype() == DType::f32 ? solve_spd_typed<float>(a, b) : solve_spd_typed<double>(a, b);
}

}  // namespace strata::linalg
