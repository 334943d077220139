#pragma once
// Iteration over K tensors that share one shape but not strides (the output
// of an elementwise op and its broadcast inputs). Dims are first coalesced
// (merged where every operand is contiguous across them, dropped where size
// 1), so a contiguous or row-broadcast op becomes a few long inner loops.
#include <algorithm>
#include <array>
#include <cstdint>

#include "core/cpu/cpu_backend.h"
#include "core/shape.h"

namespace strata::cpu {

template <size_t K>
struct StridedLayout {
  Shape shape;                   // coalesced; innermost last
  std::array<Shape, K> strides;  // per operand
};

template <size_t K>
StridedLayout<K> coalesce(const Shape& shape, const std::array<const Shape*, K>& strides) {
  StridedLayout<K> layout;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = !layout.shape.empty();
    for (size_t k = 0; k < K && merge; ++k) {
      merge = layout.strides[k].back() == (*strides[k])[d] * shape[d];
    }
    if (merge) {
      layout.shape.back() *= shape[d];
      for (size_t k = 0; k < K; ++k) layout.strides[k].back() = (*strides[k])[d];
    } else {
      layout.shape.push_back(shape[d]);
      for (size_t k = 0; k < K; ++k) layout.strides[k].push_back((*strides[k])[d]);
    }
  }
  if (layout.shape.empty()) {  // a single element
    layout.shape.push_back(1);
    for (size_t k = 0; k < K; ++k) layout.strides[k].push_back(1);
  }
  return layout;
}

// Calls row(offsets, inner_strides, n) for each run along the innermost
// coalesced dim; offsets are element offsets from each operand's first element.
template <size_t K, typename RowFn>
void for_each_row(const Shape& shape, const std::array<const Shape*, K>& strides, RowFn row) {
  StridedLayout<K> layout = coalesce<K>(shape, strides);
  const int64_t rank = int64_t(layout.shape.size());
  const int64_t inner = layout.shape.back();
  int64_t rows = 1;
  for (int64_t d = 0; d + 1 < rank; ++d) rows *= layout.shape[d];
  std::array<int64_t, K> inner_strides;
  for (size_t k = 0; k < K; ++k) inner_strides[k] = layout.strides[k].back();

  // Long inner runs are cut into chunks so a single contiguous row still
  // spreads over the threads.
  const int64_t chunk = rows >= 64 ? inner : std::min<int64_t>(inner, 16384);
  const int64_t chunks_per_row = (inner + chunk - 1) / chunk;
  const int64_t units = rows * chunks_per_row;

#pragma omp parallel for schedule(static) if (rows * inner >= kParallelGrain && units > 1)
  for (int64_t u = 0; u < units; ++u) {
    int64_t r = u / chunks_per_row;
    int64_t start = (u % chunks_per_row) * chunk;
    std::array<int64_t, K> offsets{};
    int64_t rest = r;
    for (int64_t d = rank - 2; d >= 0; --d) {
      int64_t i = rest % layout.shape[d];
      rest /= layout.shape[d];
      for (size_t k = 0; k < K; ++k) offsets[k] += i * layout.strides[k][d];
    }
    for (size_t k = 0; k < K; ++k) offsets[k] += start * inner_strides[k];
    row(offsets, inner_strides, std::min(chunk, inner - start));
  }
}

}  // namespace strata::cpu
