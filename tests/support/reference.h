#pragma once
// Naive f64 references for the op tests: plain loops over row-major
// indices, written for obviousness, not speed.
#include <vector>

#include "core/shape.h"

namespace strata::testing {

// Multi-index of a row-major flat index.
inline std::vector<int64_t> unravel(int64_t flat, const Shape& shape) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  return idx;
}

// Flat index into `shape` of the element that broadcasting maps out-index `idx` to.
inline int64_t broadcast_flat(const std::vector<int64_t>& idx, const Shape& shape) {
  int64_t flat = 0;
  size_t lead = idx.size() - shape.size();
  for (size_t d = 0; d < shape.size(); ++d) flat = flat * shape[d] + (shape[d] == 1 ? 0 : idx[lead + d]);
  return flat;
}

// C = A B for row-major (m x k) and (k x n).
inline std::vector<double> naive_matmul(const std::vector<double>& a, const std::vector<double>& b, int64_t m,
                                        int64_t k, int64_t n) {
  std::vector<double> c(size_t(m * n), 0.0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t p = 0; p < k; ++p) c[size_t(i * n + j)] += a[size_t(i * k + p)] * b[size_t(p * n + j)];
  return c;
}

}  // namespace strata::testing
