#pragma once
// Shapes and strides (in elements) and the small arithmetic on them that
// views, broadcasting and reductions share.
#include <cstdint>
#include <string>
#include <vector>

namespace strata {

using Shape = std::vector<int64_t>;

int64_t shape_numel(const Shape& shape);
Shape contiguous_strides(const Shape& shape);
std::string shape_str(const Shape& shape);  // "[2, 3, 4]"

// Maps a possibly negative dim into [0, rank); throws naming `op` when out of range.
int normalize_dim(int64_t dim, int64_t rank, const char* op);

// NumPy broadcasting of two shapes; throws naming `op` when incompatible.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

}  // namespace strata
