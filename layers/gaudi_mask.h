#pragma once
// The Gaudi mask of Gaudi-GBLR: a differentiable cyclic interval of width w
// and location l (both in [0, 1]) over N positions, defined in the frequency
// domain as
//   mask = irfft(Mhat, N, norm='forward'),  k = 0 .. N/2,
//   Mhat[k] = w sinc(kw)/sinc(k/N) * exp(-k^2/(2 sigma^2)) * exp(i[-2 pi k l + pi k (1/N - w)]).
// Writing the real inverse transform out and pairing sin(pi k w) cos(...)
// into two sines gives, with L = lN, W = wN and t = 0 .. N-1,
//   mask[t] = w + F(2(t - L) + 1) - F(2(t - L - W) + 1),
//   F(x) = sum_{k=1}^{N/2} c_k g_k sin(pi k x / N) / (2N sin(pi k / N)),
//   g_k = exp(-k^2/(2 sigma^2)),  c_k = 2 (1 for the Nyquist term k = N/2, N even).
// F is odd with period 2N; without the Gaussian (sigma -> inf) it is a
// sawtooth whose two copies cut out exactly the box [L, L + W) (cyclic).
// The derivatives, with G = 2N F':
//   d mask/dw = 1 + G(x2),   d mask/dl = G(x2) - G(x1),   x1 = 2(t-L)+1, x2 = 2(t-L-W)+1.
// When w and l are rounded to multiples of 1/N (the forward of GBLR's
// straight-through estimator) x1 and x2 are odd integers, so F and G come
// from two N-entry tables per (N, sigma), built once in O(N^2/2), and a mask
// costs O(N) per component instead of an O(N^2) inverse transform.
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace strata {

class GaudiKernel {
 public:
  GaudiKernel(int64_t n, double sigma);  // sigma = inf: no Gaussian (the exact box)

  int64_t n() const { return n_; }
  double sigma() const { return sigma_; }
  // Direct sums, for any real x: O(N) each.
  double f(double x) const;
  double g(double x) const;
  // F(2j + 1) and G(2j + 1) for any integer j, from the tables: O(1).
  double f_odd(int64_t j) const { return f_odd_[size_t(wrap(j))]; }
  double g_odd(int64_t j) const { return g_odd_[size_t(wrap(j))]; }
  const double* f_odd_table() const { return f_odd_.data(); }  // (N), for j in [0, N)
  const double* g_odd_table() const { return g_odd_.data(); }
  int64_t wrap(int64_t j) const { return ((j % n_) + n_) % n_; }  // j mod N, in [0, N)

 private:
  int64_t n_;
  double sigma_;
  std::vector<double> a_, b_;           // F = sum a_k sin(pi k x/N), G = sum b_k cos(pi k x/N); index k-1
  std::vector<double> f_odd_, g_odd_;  // (N)
};

// Masks of K components over the kernel's N positions, f64 (K, N) each.
// round: use w and l rounded to multiples of 1/N (GBLR's forward); else the
// exact masks of the given values (O(K N^2): tests and small layers only).
// derivatives: also d mask/dw and d mask/dl at the same (rounded) point,
// which is the straight-through gradient; left undefined otherwise.
struct GaudiMasks {
  Tensor mask, d_width, d_location;
};
GaudiMasks gaudi_masks(const GaudiKernel& kernel, const std::vector<double>& widths,
                       const std::vector<double>& locations, bool round, bool derivatives);

// Multiples of 1/N that round(x N) / N picks (half to even, like torch.round).
double round_to_grid(double x, int64_t n);

}  // namespace strata
