#include "layers/gaudi_mask.h"

#include <cmath>
#include <numbers>

namespace strata {

namespace {

constexpr double kPi = std::numbers::pi;

// Large enough to parallelise: below this, thread start-up costs more.
constexpr int64_t kParallelWork = 1 << 16;

}  // namespace

GaudiKernel::GaudiKernel(int64_t n, double sigma) : n_(n), sigma_(sigma) {
  if (n < 1) fail("GaudiKernel", "N must be >= 1, got {}", n);
  if (!(sigma > 0)) fail("GaudiKernel", "sigma must be positive, got {}", sigma);
  const int64_t half = n / 2;
  for (int64_t k = 1; k <= half; ++k) {
    double c = (n % 2 == 0 && k == half) ? 1.0 : 2.0;
    double gauss = std::isinf(sigma) ? 1.0 : std::exp(-double(k) * double(k) / (2.0 * sigma * sigma));
    double a = c * gauss / (2.0 * double(n) * std::sin(kPi * double(k) / double(n)));
    a_.push_back(a);
    b_.push_back(2.0 * kPi * double(k) * a);
  }
  // sin(pi m/N), cos(pi m/N) for m in [0, 2N): the phases k(2j+1) mod 2N of the
  // tables, so building them needs no trigonometric call per term.
  std::vector<double> sin_m(size_t(2 * n)), cos_m(size_t(2 * n));
  for (int64_t m = 0; m < 2 * n; ++m) {
    sin_m[size_t(m)] = std::sin(kPi * double(m) / double(n));
    cos_m[size_t(m)] = std::cos(kPi * double(m) / double(n));
  }
  f_odd_.assign(size_t(n), 0.0);
  g_odd_.assign(size_t(n), 0.0);
#pragma omp parallel for schedule(static) if (n * half > kParallelWork)
  for (int64_t j = 0; j < n; ++j) {
    const int64_t step = (2 * j + 1) % (2 * n);
    int64_t m = 0;
    double f = 0.0, g = 0.0;
    for (int64_t k = 1; k <= half; ++k) {
      m += step;
      if (m >= 2 * n) m -= 2 * n;
      f += a_[size_t(k - 1)] * sin_m[size_t(m)];
      g += b_[size_t(k - 1)] * cos_m[size_t(m)];
    }
    f_odd_[size_t(j)] = f;
    g_odd_[size_t(j)] = g;
  }
}

double GaudiKernel::f(double x) const {
  double s = 0.0;
  for (size_t k = 1; k <= a_.size(); ++k) s += a_[k - 1] * std::sin(kPi * double(k) * x / double(n_));
  return s;
}

double GaudiKernel::g(double x) const {
  double s = 0.0;
  for (size_t k = 1; k <= b_.size(); ++k) s += b_[k - 1] * std::cos(kPi * double(k) * x / double(n_));
  return s;
}

double round_to_grid(double x, int64_t n) { return std::nearbyint(x * double(n)) / double(n); }

namespace {

// One component on the grid: W = round(wN), L = round(lN) are integers, so
// x1 = 2(t - L) + 1 and x2 = 2(t - L - W) + 1 index the odd tables.
void grid_component(const GaudiKernel& kernel, double w, double l, double* mask, double* dw, double* dl) {
  const int64_t n = kernel.n();
  const double width_steps = std::nearbyint(w * double(n));
  const double wq = width_steps / double(n);
  // fmod keeps the integers exact and in range; the tables wrap mod N.
  const int64_t big_l = int64_t(std::fmod(std::nearbyint(l * double(n)), double(n)));
  const int64_t big_w = int64_t(std::fmod(width_steps, double(n)));
  const double* f = kernel.f_odd_table();
  const double* g = kernel.g_odd_table();
  // Table indices j1 = t - L and j2 = t - L - W (mod N), stepped without a division per position.
  int64_t j1 = kernel.wrap(-big_l), j2 = kernel.wrap(-big_l - big_w);
  for (int64_t t = 0; t < n; ++t) {
    mask[t] = wq + f[j1] - f[j2];
    if (dw) {
      dw[t] = 1.0 + g[j2];
      dl[t] = g[j2] - g[j1];
    }
    if (++j1 == n) j1 = 0;
    if (++j2 == n) j2 = 0;
  }
}

// One component off the grid, by the direct sums: O(N^2).
void exact_component(const GaudiKernel& kernel, double w, double l, double* mask, double* dw, double* dl) {
  const int64_t n = kernel.n();
  const double big_l = l * double(n), big_w = w * double(n);
  for (int64_t t = 0; t < n; ++t) {
    const double x1 = 2.0 * (double(t) - big_l) + 1.0, x2 = x1 - 2.0 * big_w;
    mask[t] = w + kernel.f(x1) - kernel.f(x2);
    if (dw) {
      const double g1 = kernel.g(x1), g2 = kernel.g(x2);
      dw[t] = 1.0 + g2;
      dl[t] = g2 - g1;
    }
  }
}

}  // namespace

GaudiMasks gaudi_masks(const GaudiKernel& kernel, const std::vector<double>& widths,
                       const std::vector<double>& locations, bool round, bool derivatives) {
  if (widths.size() != locations.size()) {
    fail("gaudi_masks", "{} widths but {} locations", widths.size(), locations.size());
  }
  for (size_t c = 0; c < widths.size(); ++c) {
    if (!std::isfinite(widths[c]) || !std::isfinite(locations[c])) {
      fail("gaudi_masks", "component {}: width {} and location {} must be finite", c, widths[c], locations[c]);
    }
  }
  const int64_t k = int64_t(widths.size()), n = kernel.n();
  const TensorOptions f64{DType::f64};
  GaudiMasks out;
  out.mask = empty({k, n}, f64);
  if (derivatives) {
    out.d_width = empty({k, n}, f64);
    out.d_location = empty({k, n}, f64);
  }
  double* mask = out.mask.data<double>();
  double* dw = derivatives ? out.d_width.data<double>() : nullptr;
  double* dl = derivatives ? out.d_location.data<double>() : nullptr;
  const int64_t work = round ? k * n : k * n * n;
#pragma omp parallel for schedule(static) if (work > kParallelWork)
  for (int64_t c = 0; c < k; ++c) {
    double* dw_c = dw ? dw + c * n : nullptr;
    double* dl_c = dl ? dl + c * n : nullptr;
    if (round) grid_component(kernel, widths[size_t(c)], locations[size_t(c)], mask + c * n, dw_c, dl_c);
    else exact_component(kernel, widths[size_t(c)], locations[size_t(c)], mask + c * n, dw_c, dl_c);
  }
  return out;
}

}  // namespace strata
