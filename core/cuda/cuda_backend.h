#pragma once
// The CUDA backend: cuBLASLt for GEMM (gemm.cpp), own kernels for the rest
// (elementwise.cu, random.cu, reduce.cu, rows.cu, index.cu, attention.cu,
// blast.cu, optim.cu, behind kernels.h), a caching device allocator
// (allocator.cpp). Host-side argument marshalling is in cuda_backend.cpp.
//
// One CudaBackend per device, created on first use (cuda_api.h). All its
// work runs in order on one non-blocking stream, which is what makes the
// caching allocator safe: a block freed by the host is reused only by work
// queued after everything that used it. Copies to the host synchronise the
// stream, so host code always reads finished results. Copies from pinned
// host memory do not wait: the backend keeps the source's storage alive
// until an event says the transfer is done, so the pinned cache cannot hand
// its block to the next batch while the GPU still reads it. (Writing into
// the same tensor after the copy is the caller's error, as with PyTorch's
// non_blocking copies.)
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <deque>
#include <mutex>

#include "core/backend.h"

namespace strata::cuda {

// The caching allocator of one device (allocator.cpp); never destroyed.
Allocator& device_allocator(int device);

class CudaBackend final : public Backend {
 public:
  explicit CudaBackend(int device);
  ~CudaBackend() override;
  CudaBackend(const CudaBackend&) = delete;
  CudaBackend& operator=(const CudaBackend&) = delete;

  int device() const { return device_; }
  cudaStream_t stream() const { return stream_; }
  // Makes this backend's device current for the calling thread.
  void activate() const;

  Allocator& allocator() override;
  void synchronize() override;
  void copy(const Tensor& src, const Tensor& dst) override;
  void fill(const Tensor& dst, double value) override;
  void uniform(const Tensor& dst, double low, double high, PhiloxState rng) override;
  void normal(const Tensor& dst, double mean, double std, PhiloxState rng) override;
  void bernoulli(const Tensor& dst, double p, double value, PhiloxState rng) override;

  void unary(UnaryOp op, double scalar, const Tensor& x, const Tensor& y) override;
  void unary_backward(UnaryOp op, double scalar, const Tensor& x, const Tensor& dy, const Tensor& dx) override;
  void binary(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& out) override;
  void where(const Tensor& cond, const Tensor& a, const Tensor& b, const Tensor& out) override;

  void sum(const Tensor& x, const Tensor& out) override;
  void max(const Tensor& x, int dim, const Tensor& values, const Tensor& indices) override;

  void gemm(const GemmArgs& args) override;

  void softmax(const Tensor& x, const Tensor& y, bool log) override;
  void softmax_backward(const Tensor& y, const Tensor& dy, const Tensor& dx, bool log) override;
  void layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, double eps, const Tensor& y,
                  const Tensor& mean, const Tensor& rstd) override;
  void layer_norm_backward(const Tensor& x, const Tensor& w, const Tensor& mean, const Tensor& rstd,
                           const Tensor& dy, const Tensor& dx, const Tensor& dw, const Tensor& db) override;
  void cross_entropy(const Tensor& logits, const Tensor& target, double smoothing, int64_t ignore_index,
                     const Tensor& loss, const Tensor& lse) override;
  void cross_entropy_backward(const Tensor& logits, const Tensor& target, const Tensor& lse,
                              const Tensor& dloss, double smoothing, int64_t ignore_index,
                              const Tensor& dlogits) override;

  void index_select(const Tensor& x, int dim, const Tensor& index, const Tensor& out) override;
  void index_add(const Tensor& out, int dim, const Tensor& index, const Tensor& src) override;

  void attention(const Tensor& q, const Tensor& k, const Tensor& v, const AttentionArgs& args,
                 const Tensor& out, const Tensor& lse) override;
  void attention_backward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                          const Tensor& lse, const Tensor& dout, const AttentionArgs& args,
                          const Tensor& dq, const Tensor& dk, const Tensor& dv) override;

  void blast_mix(const Tensor& s, const Tensor& z, const Tensor& w) override;
  void blast_mix_backward(const Tensor& s, const Tensor& z, const Tensor& dw, const Tensor& dz,
                          const Tensor& ds) override;

  void adamw_step(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v,
                  const AdamWArgs& args) override;
  void sgd_step(const Tensor& param, const Tensor& grad, const Tensor& buf, double lr, double momentum,
                double weight_decay, bool nesterov) override;

 private:
  // The three directions of copy(); each runs on the backend of the device involved.
  void copy_on_device(const Tensor& src, const Tensor& dst);
  void copy_from_host(const Tensor& src, const Tensor& dst);
  void copy_to_host(const Tensor& src, const Tensor& dst);
  // Keeps a pinned host tensor alive until the copy just queued from it ends.
  void hold_until_copied(const Tensor& host);
  // Lets go of the pinned sources whose copies have finished.
  void release_copied();
  // A temporary on this device (from the caching allocator).
  Tensor scratch(int64_t numel, DType dtype) const;
  // GEMM paths (gemm.cpp). Operands share one type; the output may differ
  // (bf16 operands with an f32 result under autocast).
  struct GemmTypes {
    cudaDataType_t operands, output;
    size_t operand_bytes, output_bytes;
  };
  static GemmTypes gemm_types(DType dtype);  // f32 or bf16 throughout
  bool gemm_lt(const GemmArgs& args, const GemmTypes& types);  // false: no cuBLASLt algorithm for this problem
  void gemm_classic(const GemmArgs& args, const GemmTypes& types);  // types unused for f64
  void gemm_bf16_operands(const GemmArgs& args);  // autocast: rounded copies, then a mixed GEMM

  int device_;
  cudaStream_t stream_ = nullptr;
  cublasLtHandle_t lt_ = nullptr;
  cublasHandle_t blas_ = nullptr;
  void* workspace_ = nullptr;  // cuBLASLt workspace, allocated once
  size_t workspace_bytes_ = 0;

  struct InFlightCopy {
    cudaEvent_t done;
    Tensor source;  // pinned host memory the copy reads
  };
  std::mutex in_flight_mutex_;
  std::deque<InFlightCopy> in_flight_;  // in stream order
};

}  // namespace strata::cuda
