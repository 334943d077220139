#pragma once
// Communicator: the collectives data-parallel training needs, behind one
// interface so the Trainer's loop is the same for one process, MPI processes
// (CPU) and NCCL ranks (GPU). Every rank calls each collective in the same
// order with tensors of the same shape and dtype.
//
//   all_reduce_sum(t)    t <- sum over ranks of t, in place (the gradient
//                        arena after backward: one buffer, one call)
//   broadcast(t, root)   t <- root's t, in place (initial weights)
//   barrier()            returns once every rank has entered it
//
// Tensors must be contiguous; their device must suit the implementation.
// SingleProcessCommunicator is the world of one: every collective is the
// identity, so a single-process run pays nothing for the abstraction.
#include <cstdint>
#include <memory>

#include "core/tensor.h"

namespace strata {

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int64_t rank() const = 0;
  virtual int64_t world_size() const = 0;
  bool is_main() const { return rank() == 0; }  // the rank that logs and writes files

  virtual void all_reduce_sum(const Tensor& tensor) = 0;
  virtual void broadcast(const Tensor& tensor, int64_t root) = 0;
  virtual void barrier() = 0;
};

class SingleProcessCommunicator final : public Communicator {
 public:
  int64_t rank() const override { return 0; }
  int64_t world_size() const override { return 1; }
  void all_reduce_sum(const Tensor& tensor) override;
  void broadcast(const Tensor& tensor, int64_t root) override;
  void barrier() override {}
};

}  // namespace strata
