#include "autograd/gradcheck.h"

#include <cmath>

#include "autograd/functions.h"

namespace strata {

namespace {

// Pointer to the element with row-major index `flat` of a strided f64 tensor.
double* element(const Tensor& t, int64_t flat) {
  int64_t offset = 0;
  for (int64_t d = t.dim() - 1; d >= 0; --d) {
    int64_t i = flat % t.shape()[d];
    flat /= t.shape()[d];
    offset += i * t.strides()[d];
  }
  return t.data<double>() + offset;
}

double projected(const std::function<Tensor(const std::vector<Tensor>&)>& f, const std::vector<Tensor>& inputs,
                 const Tensor& r) {
  NoGradGuard no_grad;
  return ops::sum(ops::mul(f(inputs), r)).item<double>();
}

}  // namespace

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                          const std::vector<Tensor>& inputs, GradcheckOptions options) {
  for (const Tensor& x : inputs) {
    if (x.defined() && x.requires_grad() && x.dtype() != DType::f64) {
      fail("gradcheck", "inputs that require grad must be f64, got {}", dtype_name(x.dtype()));
    }
  }
  GradcheckResult result;
  Generator gen(options.seed);
  Tensor out = f(inputs);
  Tensor r = randn(out.shape(), {DType::f64}, &gen);
  for (const Tensor& x : inputs) {
    if (x.defined() && x.requires_grad()) x.set_grad(Tensor());
  }
  if (!out.requires_grad()) {
    result.ok = false;
    result.report = "output does not require grad";
    return result;
  }
  out.backward(r);

  int mismatches = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& x = inputs[i];
    if (!x.defined() || !x.requires_grad()) continue;
    Tensor analytic = x.grad().defined() ? x.grad() : zeros(x.shape(), x.options());
    std::vector<double> a = analytic.to_vector<double>();
    for (int64_t j = 0; j < x.numel(); ++j) {
      double* p = element(x, j);
      double saved = *p;
      *p = saved + options.eps;
      double plus = projected(f, inputs, r);
      *p = saved - options.eps;
      double minus = projected(f, inputs, r);
      *p = saved;
      double numeric = (plus - minus) / (2 * options.eps);
      double err = std::abs(numeric - a[size_t(j)]);
      result.max_abs_error = std::max(result.max_abs_error, err);
      if (!(err <= options.atol + options.rtol * std::abs(numeric))) {
        result.ok = false;
        if (mismatches++ < 5) {
          result.report += fmt::format("input {} element {}: analytic {:.10g} numeric {:.10g}\n", i, j,
                                       a[size_t(j)], numeric);
        }
      }
    }
  }
  return result;
}

}  // namespace strata
