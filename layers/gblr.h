#pragma once
// Gblr: Gaudi-GBLR, the generalised block low-rank linear (Lee et al.), with
// K rank-1 components whose row and column supports are learned:
//   W = sum_c diag(m_c^out) u_c v_c^T diag(m_c^in),   c = 1 .. K (default K = min(in, out))
//   u (out, K), v (K, in); per component a width and a location in [0, 1]
//   on each side: width_in, location_in, width_out, location_out, each (K).
//   m_c^in (in), m_c^out (out): Gaudi masks (layers/gaudi_mask.h), smooth
//   cyclic intervals [l N, l N + w N) whose sharpness sigma is a layer
//   attribute driven by sigma_at(epoch) (1 until epoch 5, then linear to 100
//   at epoch 300) and saved as the buffer "sigma".
// Forward, with M_in (K, in) and M_out (K, out) the masks stacked:
//   y = (x (M_in o v)^T) (u o M_out^T)^T + b       two GEMMs with masked factors
// exact for any sigma, so gradients reach u, v and, through the masks, the
// widths and locations. Components whose two masks are both identically zero
// (width rounding to 0 on each side) are left out of the GEMMs: they add
// nothing and every gradient through them is zero, so this is exact; a
// component with one live side stays in, since its dead side's width still
// gets a gradient and can regrow. The forward uses widths and locations rounded to
// multiples of 1/N, the backward differentiates the mask at that rounded
// point as if unrounded (the straight-through estimator); set_rounding(false)
// uses the exact unrounded masks instead (O(K N^2): tests and ablations).
//
// Costs. num_params() counts parameter elements: K(in + out) + 4K (+ out).
// flops(T) is the structure's cost as in the paper, from the current widths:
//   2 T sum_c min(h_c + h'_c, h_c h'_c),   h_c = round(w_c^in in), h'_c = round(w_c^out out)
// over components with both lengths nonzero: the hard supports the masks
// sharpen to, which a windowed kernel would slice. The two GEMMs above
// execute gemm_flops(T) = 2 T K_live (in + out) whatever the widths.
//
// Init (variance rule): W0 ~ U(-1/sqrt(in), 1/sqrt(in)) like Linear; u, v
// from its SVD (u = U_K S_K^1/2, v = S_K^1/2 V_K^T); widths as the
// reference's "splr": a fraction w/2 of components (the top singular ones) at
// full width, the rest at (w/2)/(1 - w/2) rounded down to the grid, mean
// about w = the config's mean width (so flops() is within a budget);
// locations 0. Then u and v are scaled by one common factor so that
// ||to_dense()||_F^2 = out * in / (3 in): the dense init's variance exactly,
// at the construction sigma.
//
// project(W): the GBLR procedure initialises the factors from a truncated SVD
// and learns the masks in training. project sets u, v from the rank-K SVD of
// W with locations 0 and, without a FLOP budget, every width 1 (masks all
// ones at any sigma): the truncated SVD, error = the rank-K error. With a
// budget (spec flops_ratio) the top floor(K w) components keep full width and
// the rest get width 0, so flops() matches the budget.
#include <optional>

#include "layers/gaudi_mask.h"
#include "layers/linear.h"
#include "layers/linear_spec.h"

namespace strata {

struct GblrConfig {
  int64_t components = 0;     // K; 0: min(in, out)
  double mean_width = 0.0;    // initial mean width; 0: in*out / (K (in + out)), at most 1 (dense FLOPs)
  bool width_budget = false;  // project() keeps the mean-width budget instead of full widths
  double sigma = 1.0;         // sigma_at(0)
};

class Gblr : public StructuredLinear {
 public:
  // K from spec.rank (default min(in, out)) or the largest K within
  // params_ratio; flops_ratio sets the mean width (and width_budget):
  //   w = flops_ratio * in * out / (K (in + out)), capped at 1.
  // Errors name the key (blocks given, rank out of range, budget below one
  // full-width component, rank with params_ratio).
  static GblrConfig resolve(const LinearSpec& spec, int64_t in_features, int64_t out_features);
  // The concrete spec for resolve_linear_spec: rank = K, params_ratio
  // consumed; flops_ratio kept, since it sizes the widths (resolve() of the
  // result gives the same config).
  static LinearSpec resolve_spec(const LinearSpec& spec, int64_t in_features, int64_t out_features);

  Gblr(int64_t in_features, int64_t out_features, GblrConfig config = {}, LinearOptions options = {});

  Tensor forward(const Tensor& x) override;
  int64_t num_params() const override;
  int64_t flops(int64_t tokens) const override;
  Tensor to_dense() const override;
  double project(const Tensor& weight) override;

  int64_t components() const { return components_; }
  int64_t gemm_flops(int64_t tokens) const;  // what forward's two GEMMs execute
  // Components with a nonzero mask on some side: the ones forward computes.
  std::vector<int64_t> live_components() const;

  // ---- mask sharpness ---------------------------------------------------------
  void set_sigma(double sigma);
  double sigma() const;
  // The reference schedule: 1 until epoch 5, then linear to 100 at `total_epochs`.
  static double sigma_at(double epoch, double total_epochs = 300.0);

  // Straight-through rounding of widths and locations in the forward (on by default).
  void set_rounding(bool on) { rounding_ = on; }
  bool rounding() const { return rounding_; }

  // ---- structure learning, after each optimizer step ----------------------------
  // Soft-thresholds every width by thres_times_lr (thres * the current lr)
  // unless mean_active_width() is already below target_mean_width (0: no
  // target), clamps widths to [0, 1] and wraps locations into [0, 1).
  // Returns whether it shrank. For a target over several layers, compute the
  // mean across them and pass thres_times_lr = 0 once it is reached.
  bool shrink_widths(double thres_times_lr, double target_mean_width = 0.0);
  // The reference's mean width: over both sides, widths of components whose
  // two widths are nonzero (others count as 0), divided by 2K.
  double mean_active_width() const;

  // The current masks, outside autograd: (K, in) and (K, out).
  Tensor input_masks() const { return mask(Side::in, width_in, location_in, false); }
  Tensor output_masks() const { return mask(Side::out, width_out, location_out, false); }

  Tensor u;             // (out, K)
  Tensor v;             // (K, in)
  Tensor width_in;      // (K)
  Tensor width_out;     // (K)
  Tensor location_in;   // (K)
  Tensor location_out;  // (K)

 private:
  enum class Side { in, out };
  // The masks (k, N) of k components of one side from their widths and
  // locations (k); differentiable w.r.t. them when `grad`.
  Tensor mask(Side side, const Tensor& widths, const Tensor& locations, bool grad) const;
  // M_in o v (K', in) and u o M_out^T (out, K') over the live components.
  struct MaskedFactors {
    Tensor v, u;
  };
  MaskedFactors masked_factors(bool grad) const;
  const GaudiKernel& kernel(Side side) const;
  // u, v <- the top-K singular triplets of W, split sqrt(S) to each side.
  void set_factors_from_svd(const Tensor& weight);
  void set_widths(const std::vector<double>& in, const std::vector<double>& out);  // locations 0
  void init_widths(double mean_width);
  void rescale_to_dense_variance(double variance);

  int64_t components_;
  double mean_width_;
  bool width_budget_;
  bool rounding_ = true;
  Tensor sigma_;  // buffer (1), f64
  mutable std::optional<GaudiKernel> kernel_in_, kernel_out_;
};

}  // namespace strata
