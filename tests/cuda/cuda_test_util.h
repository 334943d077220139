#pragma once
// Shared by the CUDA tests. Every test that needs a GPU derives from
// CudaTest (or calls require_cuda() from SetUp), so that on a machine
// without one it is reported as SKIPPED with the reason, never as passed:
//   [  SKIPPED ] no CUDA device: CUDA driver version is insufficient ...
// The tests compile whether or not the backend is built (STRATA_HAS_CUDA
// comes from strata_core); without it they skip with "built without CUDA".
//
// Reference semantics: the CPU backend. Each check runs the same op on the
// same inputs on both devices and compares elementwise within
// atol + rtol * |cpu|; the tolerances are stated where each op is tested.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "autograd/functions.h"
#include "core/ops.h"
#include "core/random.h"
#ifdef STRATA_HAS_CUDA
#include "core/cuda/cuda_api.h"
#endif

namespace strata::testing {

// Why CUDA tests cannot run here; empty when a device is usable.
inline std::string cuda_unavailable_reason() {
#ifdef STRATA_HAS_CUDA
  static const std::string reason = [] {
    std::string why;
    return cuda::list_devices(&why).empty() ? why : std::string();
  }();
  return reason;
#else
  return "built without CUDA (STRATA_CUDA=OFF or no nvcc at configure time)";
#endif
}

inline bool cuda_available() { return cuda_unavailable_reason().empty(); }

// Skips the current test (call it from SetUp or the test body itself).
#define STRATA_REQUIRE_CUDA()                                                                        \
  do {                                                                                               \
    if (!::strata::testing::cuda_available()) {                                                      \
      GTEST_SKIP() << "no CUDA device: " << ::strata::testing::cuda_unavailable_reason();           \
    }                                                                                                \
  } while (0)

// The fixture of every GPU test: skipped, with the reason, without a GPU.
class CudaTest : public ::testing::Test {
 protected:
  void SetUp() override { require_cuda(); }
  static void require_cuda() { STRATA_REQUIRE_CUDA(); }
};

inline const Device kCuda = Device::cuda(0);

// A seeded N(0, 1) tensor on the CPU.
inline Tensor cpu_randn(const Shape& shape, uint64_t seed, DType dtype = DType::f32) {
  Generator gen(seed);
  return randn(shape, {dtype}, &gen);
}

// Positive values in [0.5, 2.5), for log, sqrt, rsqrt, pow and divisors.
inline Tensor cpu_positive(const Shape& shape, uint64_t seed, DType dtype = DType::f32) {
  Generator gen(seed);
  Tensor u = rand(shape, {dtype}, &gen);
  return ops::add_scalar(ops::mul_scalar(u, 2.0), 0.5);
}

struct Tolerance {
  double rtol, atol;
};

// Per-dtype tolerances of one op: f32 as given, f64 near machine precision.
inline Tolerance tolerance_for(DType dtype, Tolerance f32, Tolerance f64 = {1e-11, 1e-12}) {
  return dtype == DType::f64 ? f64 : f32;
}

// gpu (any device) against cpu elementwise: |g - c| <= atol + rtol |c|.
// Reports the worst element.
inline void expect_close(const Tensor& gpu, const Tensor& cpu, Tolerance tol, const std::string& what) {
  ASSERT_TRUE(gpu.defined()) << what;
  ASSERT_TRUE(cpu.defined()) << what;
  ASSERT_EQ(gpu.shape(), cpu.shape()) << what;
  const std::vector<double> g = ops::cast(gpu.to(Device::cpu()), DType::f64).to_vector<double>();
  const std::vector<double> c = ops::cast(cpu.to(Device::cpu()), DType::f64).to_vector<double>();
  double worst_excess = 0.0;
  size_t worst = 0;
  size_t bad = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    const bool both_nan = std::isnan(g[i]) && std::isnan(c[i]);
    const double excess = both_nan ? 0.0 : std::abs(g[i] - c[i]) - (tol.atol + tol.rtol * std::abs(c[i]));
    if (excess > 0.0 || (std::isnan(excess) && !both_nan)) {
      ++bad;
      if (!(excess <= worst_excess)) {
        worst_excess = excess;
        worst = i;
      }
    }
  }
  EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << c.size() << " elements differ beyond rtol " << tol.rtol
                     << " atol " << tol.atol << "; worst at " << worst << ": cuda " << g[worst] << " cpu " << c[worst];
}

// ---- gradcheck on the GPU ----------------------------------------------------------------
// autograd/gradcheck.h perturbs its inputs through host pointers, so it
// cannot take GPU tensors. This is the same check, run on the device: with a
// fixed random R (on the GPU), the gradient of L = sum(f(inputs) * R) from
// backward on the GPU is compared with central finite differences of L, each
// evaluated on the GPU, in f64. `inputs` are f64 CPU leaves; those that
// require grad are checked.
struct GpuGradcheckOptions {
  double eps = 1e-6, atol = 1e-7, rtol = 1e-5;
  uint64_t seed = 1234;
};

inline void expect_gpu_gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                                 const std::vector<Tensor>& inputs, const std::string& what,
                                 GpuGradcheckOptions options = {}) {
  std::vector<Tensor> device_inputs;
  for (const Tensor& x : inputs) {
    Tensor d = x.defined() ? x.detach().to(kCuda) : Tensor();
    if (x.defined() && x.requires_grad()) d.requires_grad_();
    device_inputs.push_back(d);
  }
  Tensor out = f(device_inputs);
  ASSERT_EQ(out.device(), kCuda) << what << ": f must compute on the GPU";
  ASSERT_TRUE(out.requires_grad()) << what << ": output does not require grad";
  Generator gen(options.seed);
  Tensor r = randn(out.shape(), {DType::f64, kCuda}, &gen);
  out.backward(r);

  auto projected = [&](const std::vector<Tensor>& xs) {
    NoGradGuard no_grad;
    return ops::sum(ops::mul(f(xs), r)).item<double>();
  };
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined() || !inputs[i].requires_grad()) continue;
    const Tensor grad = device_inputs[i].grad();
    const std::vector<double> analytic =
        grad.defined() ? grad.to(Device::cpu()).to_vector<double>() : std::vector<double>(size_t(inputs[i].numel()), 0.0);
    Tensor host = ops::clone(inputs[i].detach());  // contiguous: element j is data()[j]
    int reported = 0;
    for (int64_t j = 0; j < host.numel(); ++j) {
      double* p = host.data<double>() + j;
      const double saved = *p;
      std::vector<Tensor> xs = device_inputs;
      *p = saved + options.eps;
      xs[i] = host.to(kCuda);
      const double plus = projected(xs);
      *p = saved - options.eps;
      xs[i] = host.to(kCuda);
      const double minus = projected(xs);
      *p = saved;
      const double numeric = (plus - minus) / (2 * options.eps);
      const double a = analytic[size_t(j)];
      if (std::abs(a - numeric) > options.atol + options.rtol * std::abs(numeric) && reported++ < 5) {
        ADD_FAILURE() << what << ": input " << i << " element " << j << ": analytic " << a << " numeric " << numeric;
      }
    }
  }
}

}  // namespace strata::testing
