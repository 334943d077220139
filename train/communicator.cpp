#include "train/communicator.h"

#include "core/error.h"

namespace strata {

namespace {

// The checks every implementation makes, so a single-process run refuses
// what a multi-process one would.
void check_collective(const char* op, const Tensor& tensor) {
  if (!tensor.defined()) fail(op, "undefined tensor");
  if (!tensor.is_contiguous()) fail(op, "tensor of shape {} must be contiguous", shape_str(tensor.shape()));
}

}  // namespace

void SingleProcessCommunicator::all_reduce_sum(const Tensor& tensor) {
  check_collective("all_reduce_sum", tensor);  // the sum over one rank is the tensor itself
}

void SingleProcessCommunicator::broadcast(const Tensor& tensor, int64_t root) {
  check_collective("broadcast", tensor);
  if (root != 0) fail("broadcast", "root {} is not a rank of a world of size 1", root);
}

}  // namespace strata
