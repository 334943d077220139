#include "layers/gblr.h"

#include <algorithm>
#include <cmath>

#include "autograd/functions.h"
#include "core/linalg.h"

namespace strata {

namespace {

// The reference's sigma annealing (SigmaAnnealing callback, CIFAR/ImageNet configs).
constexpr double kSigmaStart = 1.0, kSigmaEnd = 100.0, kSigmaStartEpoch = 5.0;

// Guards floor(K w) against w computed a hair below an exact ratio.
constexpr double kFloorSlack = 1e-9;

int64_t default_components(int64_t in, int64_t out) { return std::min(in, out); }

// The mean width at which K full-rank-1 components cost `ratio` of the dense FLOPs, at most 1.
double budget_width(double ratio, int64_t in, int64_t out, int64_t k) {
  return std::min(1.0, ratio * double(in) * double(out) / (double(k) * double(in + out)));
}

int64_t mask_length(double width, int64_t n) {
  return std::clamp(int64_t(std::nearbyint(std::clamp(width, 0.0, 1.0) * double(n))), int64_t(0), n);
}

}  // namespace

GblrConfig Gblr::resolve(const LinearSpec& spec, int64_t in, int64_t out) {
  if (spec.blocks != 0) spec_error(spec, "blocks", "gblr takes no blocks (its components are masked rank-1 terms)");
  if (spec.flops_ratio < 0.0) {
    spec_error(spec, "flops_ratio", fmt::format("must be positive, got {}", spec.flops_ratio));
  }
  if (spec.params_ratio < 0.0) {
    spec_error(spec, "params_ratio", fmt::format("must be positive, got {}", spec.params_ratio));
  }
  if (spec.flops_ratio > 0.0 && spec.params_ratio > 0.0) {
    spec_error(spec, "flops_ratio", "give flops_ratio or params_ratio, not both");
  }
  const int64_t max_k = default_components(in, out);
  GblrConfig config;
  if (spec.params_ratio > 0.0) {
    if (spec.rank != 0) spec_error(spec, "rank", "give a rank (components) or params_ratio, not both");
    // Parameters do not shrink with the masks: the budget sizes K.
    config.components = resolve_rank(spec, in, out, max_k, [&](int64_t k) {
      return StructureCost{k * (in + out + 4), 2 * k * (in + out)};
    });
  } else if (spec.rank != 0) {
    if (spec.rank < 1 || spec.rank > max_k) {
      spec_error(spec, "rank", fmt::format("components must be in [1, {}] for {} -> {}, got {}", max_k, in, out,
                                           spec.rank));
    }
    config.components = spec.rank;
  } else {
    config.components = max_k;
  }
  config.width_budget = spec.flops_ratio > 0.0;
  config.mean_width = budget_width(config.width_budget ? spec.flops_ratio : 1.0, in, out, config.components);
  if (config.width_budget && std::floor(config.mean_width * double(config.components) + kFloorSlack) < 1.0) {
    spec_error(spec, "flops_ratio",
               fmt::format("budget {} is too small: below one full-width component for {} -> {} with {} components",
                           spec.flops_ratio, in, out, config.components));
  }
  return config;
}

LinearSpec Gblr::resolve_spec(const LinearSpec& spec, int64_t in, int64_t out) {
  LinearSpec resolved = spec;
  resolved.rank = resolve(spec, in, out).components;
  resolved.params_ratio = 0.0;
  return resolved;
}

Gblr::Gblr(int64_t in_features, int64_t out_features, GblrConfig config, LinearOptions options)
    : StructuredLinear(in_features, out_features) {
  const int64_t max_k = default_components(in_features, out_features);
  components_ = config.components != 0 ? config.components : max_k;
  if (components_ < 1 || components_ > max_k) {
    fail("Gblr", "components must be in [1, {}] for {} -> {}, got {}", max_k, in_features, out_features,
         components_);
  }
  mean_width_ = config.mean_width > 0.0 ? config.mean_width
                                         : budget_width(1.0, in_features, out_features, components_);
  if (!(mean_width_ > 0.0 && mean_width_ <= 1.0)) fail("Gblr", "mean width must be in (0, 1], got {}", mean_width_);
  width_budget_ = config.width_budget;

  const TensorOptions to{options.dtype, options.device};
  const int64_t k = components_;
  u = register_parameter("u", zeros({out_features, k}, to));
  v = register_parameter("v", zeros({k, in_features}, to));
  width_in = register_parameter("width_in", zeros({k}, to));
  width_out = register_parameter("width_out", zeros({k}, to));
  location_in = register_parameter("location_in", zeros({k}, to));
  location_out = register_parameter("location_out", zeros({k}, to));
  // The dense init is drawn before the bias, as Linear draws weight then bias.
  const double bound = 1.0 / std::sqrt(double(in_features));
  Tensor dense_init = empty({out_features, in_features}, to);
  uniform_(dense_init, -bound, bound, options.generator);
  if (options.bias) init_bias(to, options.generator);
  // f64 whatever the layer's dtype: sigma is a schedule value, not a weight.
  sigma_ = register_buffer("sigma", full({1}, 1.0, {DType::f64}));
  set_sigma(config.sigma);

  NoGradGuard no_grad;
  set_factors_from_svd(dense_init);
  init_widths(mean_width_);
  rescale_to_dense_variance(bound * bound / 3.0);
}

// ---- forward and costs ----------------------------------------------------------

Tensor Gblr::forward(const Tensor& x) {
  check_input("Gblr", x);
  MaskedFactors f = masked_factors(true);
  return linear(linear(x, f.v), f.u, bias);
}

int64_t Gblr::num_params() const {
  return u.numel() + v.numel() + width_in.numel() + width_out.numel() + location_in.numel() +
         location_out.numel() + bias_numel();
}

int64_t Gblr::flops(int64_t tokens) const {
  const std::vector<double> w_in = width_in.to_vector<double>(), w_out = width_out.to_vector<double>();
  int64_t cost = 0;
  for (size_t c = 0; c < w_in.size(); ++c) {
    const int64_t h = mask_length(w_in[c], in_features()), h_out = mask_length(w_out[c], out_features());
    if (h > 0 && h_out > 0) cost += std::min(h + h_out, h * h_out);  // rank 1: min(r (h + h'), h h')
  }
  return 2 * tokens * cost;
}

int64_t Gblr::gemm_flops(int64_t tokens) const {
  const int64_t live = int64_t(live_components().size());
  return 2 * tokens * (live > 0 ? live : components_) * (in_features() + out_features());  // none live: all run
}

Tensor Gblr::to_dense() const {
  NoGradGuard no_grad;
  MaskedFactors f = masked_factors(false);
  return ops::matmul(f.u, f.v);
}

// ---- masks ----------------------------------------------------------------------------

const GaudiKernel& Gblr::kernel(Side side) const {
  std::optional<GaudiKernel>& cached = side == Side::in ? kernel_in_ : kernel_out_;
  const int64_t n = side == Side::in ? in_features() : out_features();
  const double s = sigma();
  if (!cached || cached->sigma() != s || cached->n() != n) cached.emplace(n, s);  // tables: once per sigma
  return *cached;
}

std::vector<int64_t> Gblr::live_components() const {
  const std::vector<double> w_in = width_in.to_vector<double>(), w_out = width_out.to_vector<double>();
  // A mask is identically zero exactly when its (rounded) width is 0.
  auto dead = [&](double w, int64_t n) { return (rounding_ ? round_to_grid(w, n) : w) == 0.0; };
  std::vector<int64_t> live;
  for (size_t c = 0; c < w_in.size(); ++c) {
    if (!dead(w_in[c], in_features()) || !dead(w_out[c], out_features())) live.push_back(int64_t(c));
  }
  return live;
}

Tensor Gblr::mask(Side side, const Tensor& w, const Tensor& l, bool grad) const {
  const bool derivatives = grad && any_requires_grad({w, l});
  GaudiMasks m = gaudi_masks(kernel(side), w.to_vector<double>(), l.to_vector<double>(), rounding_, derivatives);
  const DType dtype = u.dtype();
  Tensor values = ops::cast(m.mask, dtype);
  if (!derivatives) return values;
  // Linearise around the (rounded) point: w - w.detach() is zero in value and
  // one in gradient, so the mask keeps its value and its backward is
  // sum_t grad[c, t] dmask/dw[c, t]: the straight-through estimator, built
  // from existing differentiable ops.
  Tensor dw = sub(w, w.detach()).unsqueeze(1), dl = sub(l, l.detach()).unsqueeze(1);
  return add(values, add(mul(dw, ops::cast(m.d_width, dtype)), mul(dl, ops::cast(m.d_location, dtype))));
}

Gblr::MaskedFactors Gblr::masked_factors(bool grad) const {
  std::vector<int64_t> live = live_components();
  Tensor u_live = u, v_live = v, w_in = width_in, w_out = width_out, l_in = location_in, l_out = location_out;
  if (!live.empty() && int64_t(live.size()) < components_) {
    // Differentiable gathers: the skipped components' gradients are zeros, as they should be.
    Tensor index = from_vector(live, {int64_t(live.size())});
    u_live = index_select(u, 1, index);
    v_live = index_select(v, 0, index);
    w_in = index_select(width_in, 0, index);
    w_out = index_select(width_out, 0, index);
    l_in = index_select(location_in, 0, index);
    l_out = index_select(location_out, 0, index);
  }
  MaskedFactors f;
  f.v = mul(mask(Side::in, w_in, l_in, grad), v_live);
  f.u = mul(u_live, mask(Side::out, w_out, l_out, grad).transpose(0, 1));
  return f;
}

// ---- sigma ----------------------------------------------------------------------------

void Gblr::set_sigma(double sigma) {
  if (!(sigma > 0.0)) fail("Gblr", "sigma must be positive, got {}", sigma);
  ops::fill_(sigma_, sigma);
}

double Gblr::sigma() const { return sigma_.item<double>(); }

double Gblr::sigma_at(double epoch, double total_epochs) {
  if (!(total_epochs > kSigmaStartEpoch)) {
    fail("Gblr::sigma_at", "total epochs must exceed {}, got {}", kSigmaStartEpoch, total_epochs);
  }
  if (epoch <= kSigmaStartEpoch) return kSigmaStart;
  if (epoch >= total_epochs) return kSigmaEnd;
  return kSigmaStart + (kSigmaEnd - kSigmaStart) * (epoch - kSigmaStartEpoch) / (total_epochs - kSigmaStartEpoch);
}

// ---- structure learning ---------------------------------------------------------------

double Gblr::mean_active_width() const {
  const std::vector<double> w_in = width_in.to_vector<double>(), w_out = width_out.to_vector<double>();
  double sum = 0.0;
  for (size_t c = 0; c < w_in.size(); ++c) {
    if (w_in[c] * w_out[c] > 0.0) sum += w_in[c] + w_out[c];
  }
  return sum / double(2 * components_);
}

bool Gblr::shrink_widths(double thres_times_lr, double target_mean_width) {
  if (!(thres_times_lr >= 0.0)) fail("Gblr::shrink_widths", "threshold must be >= 0, got {}", thres_times_lr);
  NoGradGuard no_grad;
  const bool shrink = !(target_mean_width > 0.0 && mean_active_width() < target_mean_width);
  const double lambda = shrink ? thres_times_lr : 0.0;
  for (const Tensor* w : {&width_in, &width_out}) {
    std::vector<double> x = w->to_vector<double>();
    for (double& xi : x) {
      const double soft = xi > lambda ? xi - lambda : (xi < -lambda ? xi + lambda : 0.0);
      xi = std::clamp(soft, 0.0, 1.0);
    }
    ops::copy_(*w, from_vector(x, w->shape()));
  }
  for (const Tensor* l : {&location_in, &location_out}) {
    std::vector<double> x = l->to_vector<double>();
    for (double& xi : x) xi -= std::floor(xi);
    ops::copy_(*l, from_vector(x, l->shape()));
  }
  return shrink;
}

// ---- init and projection ---------------------------------------------------------------

void Gblr::set_factors_from_svd(const Tensor& weight) {
  linalg::SVD svd = linalg::svd(ops::cast(weight, DType::f64));
  const int64_t k = components_;
  Tensor root = ops::unary(UnaryOp::sqrt, ops::slice(svd.s, 0, 0, k));
  ops::copy_(u, ops::mul(ops::slice(svd.u, 1, 0, k), root));
  ops::copy_(v, ops::mul(ops::slice(svd.vt, 0, 0, k), ops::unsqueeze(root, 1)));
}

void Gblr::set_widths(const std::vector<double>& in, const std::vector<double>& out) {
  ops::copy_(width_in, from_vector(in, {components_}));
  ops::copy_(width_out, from_vector(out, {components_}));
  ops::fill_(location_in, 0.0);
  ops::fill_(location_out, 0.0);
}

void Gblr::init_widths(double mean_width) {
  // "splr": a fraction mean/2 at full width, the rest at (mean/2)/(1 - mean/2),
  // for a mean of `mean_width`. The partial widths are rounded down to each
  // side's grid so that flops() stays within a budget.
  const double half = 0.5 * mean_width;
  const size_t full = size_t(double(components_) * half + kFloorSlack);
  const double rest = half < 1.0 ? half / (1.0 - half) : 1.0;
  auto side = [&](int64_t n) {
    std::vector<double> widths(size_t(components_), std::floor(rest * double(n) + kFloorSlack) / double(n));
    std::fill(widths.begin(), widths.begin() + std::min(full, widths.size()), 1.0);
    return widths;
  };
  set_widths(side(in_features()), side(out_features()));
}

void Gblr::rescale_to_dense_variance(double variance) {
  Tensor dense = ops::cast(to_dense(), DType::f64);
  const double squares = ops::sum(ops::mul(dense, dense)).item<double>();
  if (!(squares > 0.0)) return;
  const double target = double(in_features()) * double(out_features()) * variance;
  const double scale = std::pow(target / squares, 0.25);  // on each of u and v: W scales by its square
  ops::mul_scalar_(u, scale);
  ops::mul_scalar_(v, scale);
}

double Gblr::project(const Tensor& weight) {
  check_projection_target("Gblr", weight);
  NoGradGuard no_grad;
  set_factors_from_svd(weight);
  std::vector<double> widths(size_t(components_), 1.0);
  if (width_budget_) {
    const int64_t keep = int64_t(std::floor(mean_width_ * double(components_) + kFloorSlack));
    std::fill(widths.begin() + std::min(keep, components_), widths.end(), 0.0);
  }
  set_widths(widths, widths);
  return relative_error(weight, to_dense());
}

}  // namespace strata
