#include "layers/blast_factorize.h"

#include <omp.h>

#include <algorithm>
#include <cmath>

#include "autograd/node.h"
#include "core/linalg.h"
#include "core/ops.h"
#include "core/random.h"

namespace strata {

namespace {

// Cbar (b, r, n): block row i is [diag(s_i1) V_1^T ... diag(s_ib) V_b^T].
Tensor c_bar(const Tensor& V, const Tensor& s) {
  const int64_t b = V.size(0), q = V.size(1), r = V.size(2);
  Tensor prod = ops::mul(ops::reshape(s, {b, b, r, 1}), ops::unsqueeze(ops::transpose(V, 1, 2), 0));  // (i, j, r, q)
  return ops::reshape(ops::permute(prod, {0, 2, 1, 3}), {b, r, b * q});
}

// Bbar (b, m, r): block column j is [U_1 diag(s_1j); ...; U_b diag(s_bj)].
Tensor b_bar(const Tensor& U, const Tensor& s) {
  const int64_t b = U.size(0), p = U.size(1), r = U.size(2);
  Tensor prod = ops::mul(ops::unsqueeze(U, 1), ops::reshape(s, {b, b, 1, r}));  // (i, j, p, r)
  return ops::reshape(ops::permute(prod, {1, 0, 2, 3}), {b, b * p, r});
}

Tensor gram(const Tensor& a) { return ops::matmul(ops::transpose(a, 1, 2), a); }  // (e, k, r) -> (e, r, r)

double frobenius(const Tensor& t) { return std::sqrt(ops::sum(ops::mul(t, t)).item<double>()); }

Tensor batch_entry(const Tensor& t, int64_t e) { return ops::squeeze(ops::slice(t, 0, e, e + 1), 0); }

Tensor diagonal(const Tensor& a) { return as_strided(a, {a.size(0)}, {a.stride(0) + a.stride(1)}, a.offset()); }

// Block by block: grad_e (H_e + eps I)^-1 (H_e symmetric positive semi-definite).
// eps is floored at 1e-12 of H_e's mean eigenvalue: once the residual
// reaches rounding level, eps = delta ||R|| alone no longer keeps the
// Cholesky factorisation of an over-parameterised (singular) H_e positive.
Tensor precondition(const Tensor& grad, const Tensor& H, double eps) {
  const int64_t r = H.size(-1);
  Tensor out = zeros(grad.shape(), grad.options());
  for (int64_t e = 0; e < grad.size(0); ++e) {
    Tensor h = ops::clone(batch_entry(H, e));
    const double damping = std::max(eps, 1e-12 * ops::sum(diagonal(h)).item<double>() / double(r));
    if (!(damping > 0.0)) continue;  // H_e = 0 and R = 0: no gradient
    ops::add_(diagonal(h), scalar_tensor(damping, h.options()));
    Tensor solved = linalg::solve_spd(h, ops::transpose(batch_entry(grad, e), 0, 1));
    ops::copy_(batch_entry(out, e), ops::transpose(solved, 0, 1));
  }
  return out;
}

double max_eigenvalue(const Tensor& H) {  // over the blocks of a batch of PSD matrices
  double top = 0.0;
  for (int64_t e = 0; e < H.size(0); ++e) {
    top = std::max(top, ops::max(linalg::svd(batch_entry(H, e)).s, 0).first.item<double>());
  }
  return top;
}

// factor -= lr * direction, with G = 2 * half_grad the gradient of ||R||_F^2
// and direction PrecGD's G (H + eps I)^-1 or GD's G / lambda_max(H).
// factor, half_grad (e, k, r); H (e, r, r).
void descend(const Tensor& factor, const Tensor& half_grad, const Tensor& H, double eps, double lr,
             bool precondition_on) {
  Tensor direction;
  if (precondition_on) {
    direction = precondition(half_grad, H, eps);
  } else {
    const double top = max_eigenvalue(H);
    if (top <= 0.0) return;  // zero factors: the gradient is zero too
    direction = ops::mul_scalar(half_grad, 1.0 / top);
  }
  ops::copy_(factor, ops::sub(factor, ops::mul_scalar(direction, 2.0 * lr)));
}

// G_s[i, j, :] = diag(U_i^T R_ij V_j), with R (b, p, n) block rows.
Tensor s_gradient(const Tensor& U, const Tensor& V, const Tensor& R) {
  const int64_t b = U.size(0), q = V.size(1), r = U.size(2);
  Tensor ut_r = ops::view(ops::matmul(ops::transpose(U, 1, 2), R), {b, r, b, q});  // (i, r, j, q)
  Tensor prod = ops::mul(ut_r, ops::unsqueeze(ops::permute(V, {2, 0, 1}), 0));  // times V_j[c, k] at (i, k, j, c)
  return ops::contiguous(ops::permute(ops::sum(prod, {3}), {0, 2, 1}));
}

// Sample standard deviation of every element (the reference's A.std()).
double standard_deviation(const Tensor& w) {
  const double count = double(w.numel());
  if (count < 2) return 0.0;
  const double mean = ops::sum(w).item<double>() / count;
  Tensor centred = ops::add_scalar(w, -mean);
  return std::sqrt(ops::sum(ops::mul(centred, centred)).item<double>() / (count - 1));
}

void check_arguments(const Tensor& weight, int64_t blocks, int64_t rank, const BlastFactorizeOptions& o) {
  if (!weight.defined() || weight.dim() != 2) fail("blast_factorize", "expected a matrix (m, n)");
  ops::check_floating("blast_factorize", weight);
  if (blocks < 1 || weight.size(0) % blocks != 0 || weight.size(1) % blocks != 0) {
    fail("blast_factorize", "{} blocks do not divide a {} matrix", blocks, shape_str(weight.shape()));
  }
  if (rank < 1) fail("blast_factorize", "rank must be >= 1, got {}", rank);
  if (o.iterations < 0 || !(o.lr > 0.0) || !(o.delta >= 0.0)) {
    fail("blast_factorize", "need iterations >= 0, lr > 0, delta >= 0; got {}, {}, {}", o.iterations, o.lr, o.delta);
  }
}

// Runs the factorization of a small matrix on one thread: its ops are a few
// MFLOP each, and thousands of them would each pay a parallel region's
// wake-up and barrier (ruinously so when other processes share the cores).
// Results do not depend on the thread count either way.
class SmallProblemThreads {
 public:
  explicit SmallProblemThreads(bool small) : saved_(omp_get_max_threads()), small_(small) {
    if (small_) omp_set_num_threads(1);
  }
  ~SmallProblemThreads() {
    if (small_) omp_set_num_threads(saved_);
  }
  SmallProblemThreads(const SmallProblemThreads&) = delete;
  SmallProblemThreads& operator=(const SmallProblemThreads&) = delete;

 private:
  int saved_;
  bool small_;
};

constexpr double kSmallProblem = double(1 << 23);  // m n r below which one thread is faster

}  // namespace

Tensor blast_dense(const Tensor& U, const Tensor& V, const Tensor& s) {
  const int64_t b = U.size(0), p = U.size(1), q = V.size(1);
  return ops::reshape(ops::matmul(U, c_bar(V, s)), {b * p, b * q});
}

BlastFactorization blast_factorize(const Tensor& weight, int64_t blocks, int64_t rank,
                                   const BlastFactorizeOptions& o) {
  check_arguments(weight, blocks, rank, o);
  NoGradGuard no_grad;
  const int64_t b = blocks, r = rank, m = weight.size(0), n = weight.size(1), p = m / b, q = n / b;
  SmallProblemThreads threads(double(m) * double(n) * double(r) < kSmallProblem);
  Tensor w = ops::contiguous(ops::cast(weight, DType::f64));
  double scale = standard_deviation(w);
  if (scale == 0.0) scale = std::sqrt(ops::sum(ops::mul(w, w)).item<double>() / double(std::max<int64_t>(w.numel(), 1)));
  if (scale == 0.0) scale = 1.0;  // W = 0: the factors converge to zero from their tiny init
  Tensor target = ops::view(ops::mul_scalar(w, 1.0 / scale), {b, p, n});  // block rows
  const double target_norm = frobenius(target);

  Generator gen(o.seed);
  const TensorOptions f64{DType::f64};
  Tensor U = ops::mul_scalar(randn({b, p, r}, f64, &gen), 1e-3 / std::sqrt(double(r)));
  Tensor V = ops::mul_scalar(randn({b, q, r}, f64, &gen), 1e-3 / std::sqrt(double(r)));
  Tensor s = randn({b, b, r}, f64, &gen);

  auto residual = [&](const Tensor& C) { return ops::sub(ops::matmul(U, C), target); };  // (b, p, n)
  auto relative = [&](const Tensor& R) { return target_norm > 0.0 ? frobenius(R) / target_norm : 0.0; };
  Tensor C = c_bar(V, s), R = residual(C);
  BlastFactorization result;
  for (int64_t t = 0; t < o.iterations; ++t) {
    const double lr = o.lr * (1.0 - double(t) / double(o.iterations));
    // U_i: G = 2 R_i Cbar_i^T, Gram Cbar_i Cbar_i^T.
    descend(U, ops::matmul(R, ops::transpose(C, 1, 2)), gram(ops::transpose(C, 1, 2)), o.delta * frobenius(R), lr,
            o.precondition);
    // V_j: G = 2 R_:j^T Bbar_j, Gram Bbar_j^T Bbar_j (C still holds: it depends on V and s only).
    R = residual(C);
    Tensor B = b_bar(U, s);
    Tensor r_cols_t = ops::permute(ops::view(R, {m, b, q}), {1, 2, 0});  // (j, q, m): R_:j^T
    descend(V, ops::matmul(r_cols_t, B), gram(B), o.delta * frobenius(R), lr, o.precondition);
    // s_ij: G = 2 diag(U_i^T R_ij V_j), Gram (U_i^T U_i) o (V_j^T V_j).
    C = c_bar(V, s);
    R = residual(C);
    Tensor H = ops::reshape(ops::mul(ops::unsqueeze(gram(U), 1), ops::unsqueeze(gram(V), 0)), {b * b, r, r});
    descend(ops::view(s, {b * b, 1, r}), ops::view(s_gradient(U, V, R), {b * b, 1, r}), H, o.delta * frobenius(R),
            lr, o.precondition);
    C = c_bar(V, s);
    R = residual(C);
    result.rel_errors.push_back(relative(R));
  }
  result.rel_error = relative(R);
  result.factors = {U, V, ops::mul_scalar(s, scale)};
  return result;
}

}  // namespace strata
