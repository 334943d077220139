// Fused optimizer updates over a flat parameter arena: one pass reads each
// parameter, gradient and state element once.
#include <cmath>

#include "core/cpu/cpu_backend.h"

namespace strata::cpu {

void CpuBackend::adamw_step(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v,
                            const AdamWArgs& a) {
  float* p = param.data<float>();
  const float* g = grad.data<float>();
  float* pm = m.data<float>();
  float* pv = v.data<float>();
  const int64_t n = param.numel();
  const float b1 = float(a.beta1), b2 = float(a.beta2);
  const float bias1 = float(1.0 - std::pow(a.beta1, double(a.step)));
  const float bias2 = float(1.0 - std::pow(a.beta2, double(a.step)));
  const float step_size = float(a.lr) / bias1;
  const float inv_sqrt_bias2 = 1.0f / std::sqrt(bias2);
  const float decay = float(1.0 - a.lr * a.weight_decay);  // decoupled weight decay
  const float eps = float(a.eps);
#pragma omp parallel for simd schedule(static) if (n >= kParallelGrain)
  for (int64_t i = 0; i < n; ++i) {
    float mi = b1 * pm[i] + (1.0f - b1) * g[i];
    float vi = b2 * pv[i] + (1.0f - b2) * g[i] * g[i];
    pm[i] = mi;
    pv[i] = vi;
    p[i] = p[i] * decay - step_size * mi / (std::sqrt(vi) * inv_sqrt_bias2 + eps);
  }
}

void CpuBackend::sgd_step(const Tensor& param, const Tensor& grad, const Tensor& buf, double lr, double momentum,
                          double weight_decay, bool nesterov) {
  float* p = param.data<float>();
  const float* g = grad.data<float>();
  float* b = buf.defined() ? buf.data<float>() : nullptr;
  const int64_t n = param.numel();
  const float flr = float(lr), mom = float(momentum), wd = float(weight_decay);
#pragma omp parallel for simd schedule(static) if (n >= kParallelGrain)
  for (int64_t i = 0; i < n; ++i) {
    float gi = g[i] + wd * p[i];
    if (b) {
      b[i] = mom * b[i] + gi;
      gi = nesterov ? gi + mom * b[i] : b[i];
    }
    p[i] -= flr * gi;
  }
}

}  // namespace strata::cpu
