#pragma once
// The CPU backend: OpenBLAS for GEMM, OpenMP loops for everything else.
// Each family of kernels lives in its own file (elementwise.cpp, reduce.cpp,
// gemm.cpp, rows.cpp, index.cpp, attention.cpp, optim.cpp, blast.cpp).
#include "core/backend.h"

namespace strata::cpu {

class CpuBackend final : public Backend {
 public:
  Allocator& allocator() override;
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

  // BLAST coupling kernels (blast.cpp)
  void blast_mix(const Tensor& s, const Tensor& z, const Tensor& w) override;
  void blast_mix_backward(const Tensor& s, const Tensor& z, const Tensor& dw, const Tensor& dz,
                          const Tensor& ds) override;

  void adamw_step(const Tensor& param, const Tensor& grad, const Tensor& m, const Tensor& v,
                  const AdamWArgs& args) override;
  void sgd_step(const Tensor& param, const Tensor& grad, const Tensor& buf, double lr, double momentum,
                double weight_decay, bool nesterov) override;

 private:
  void gemm_bf16_operands(const GemmArgs& args);  // autocast (gemm.cpp)
};

// Calls f(T{}) with T = float or double according to dtype.
template <typename F>
void dispatch_floating(DType dtype, const char* op, F&& f) {
  switch (dtype) {
    case DType::f32: f(float{}); return;
    case DType::f64: f(double{}); return;
    default: fail(op, "the CPU backend has no {} kernel", dtype_name(dtype));
  }
}

// Below this many elements a loop runs on one thread: spawning costs more.
constexpr int64_t kParallelGrain = 1 << 15;

}  // namespace strata::cpu
