#pragma once
// gradcheck: compares the analytic gradient of f with central finite
// differences, in f64. To keep it cheap for any output shape it checks the
// gradient of L = sum(f(inputs) * R) for a fixed random R, which exercises
// every output element's backward (the vector-Jacobian product J^T R).
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace strata {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-7;
  double rtol = 1e-5;
  uint64_t seed = 1234;
};

struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0.0;
  std::string report;  // the first mismatches, "input i element j: analytic a numeric n"
};

// inputs: f64 leaves (they may be non-contiguous views). Those with
// requires_grad are checked.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                          const std::vector<Tensor>& inputs, GradcheckOptions options = {});

}  // namespace strata
