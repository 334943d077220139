// Fused optimizer updates over a flat f32 parameter arena of n elements:
// one thread per element reads param, grad and the state once and writes
// them once. The float formulas are those of core/cpu/optim.cpp.
//   AdamW  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
//          p = p * (1 - lr wd) - step_size * m / (sqrt(v) / sqrt(bias2) + eps)
//   SGD    g' = g + wd p;  buf = mom buf + g';  p -= lr * (nesterov ? g' + mom buf : buf)
#include "core/cuda/common.cuh"

namespace strata::cuda {

namespace {

__global__ void adamw_kernel(float* p, const float* g, float* m, float* v, int64_t n, AdamWConstants c) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const float gi = g[i];
    const float mi = c.beta1 * m[i] + (1.0f - c.beta1) * gi;
    const float vi = c.beta2 * v[i] + (1.0f - c.beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * c.decay - c.step_size * mi / (sqrtf(vi) * c.inv_sqrt_bias2 + c.eps);
  }
}

__global__ void sgd_kernel(float* p, const float* g, float* buf, int64_t n, float lr, float momentum,
                           float weight_decay, bool nesterov) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    float gi = g[i] + weight_decay * p[i];
    if (buf) {
      buf[i] = momentum * buf[i] + gi;
      gi = nesterov ? gi + momentum * buf[i] : buf[i];
    }
    p[i] -= lr * gi;
  }
}

}  // namespace

void launch_adamw(cudaStream_t stream, float* param, const float* grad, float* m, float* v, int64_t n,
                  AdamWConstants c) {
  adamw_kernel<<<grid_for(n), kThreads, 0, stream>>>(param, grad, m, v, n, c);
  STRATA_CUDA_CHECK_LAUNCH();
}

void launch_sgd(cudaStream_t stream, float* param, const float* grad, float* buf, int64_t n, float lr,
                float momentum, float weight_decay, bool nesterov) {
  sgd_kernel<<<grid_for(n), kThreads, 0, stream>>>(param, grad, buf, n, lr, momentum, weight_decay, nesterov);
  STRATA_CUDA_CHECK_LAUNCH();
}

}  // namespace strata::cuda
