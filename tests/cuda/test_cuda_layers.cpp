// Layers and a model on the GPU against the same ones on the CPU: every
// structured linear (forward, input and parameter gradients), LayerNorm,
// Embedding, MLP, and one training step of a tiny ViT (loss, every
// parameter gradient, and the parameters after a fused AdamW step over the
// arena). Twin modules are built from the same seed, one is moved with
// Module::to. Tolerances (f32): forward (1e-4, 1e-5), gradients
// (1e-3, 1e-4): chains of GEMMs summed in other orders.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "layers/embedding.h"
#include "layers/layer_norm.h"
#include "layers/linear_spec.h"
#include "layers/mlp.h"
#include "layers/parameter_arena.h"
#include "tests/cuda/cuda_test_util.h"
#include "tests/models/vit_fixtures.h"

namespace strata::testing {
namespace {

class CudaLayers : public CudaTest {};

constexpr Tolerance kForward{1e-4, 1e-5};
constexpr Tolerance kGradient{1e-3, 1e-4};

// Runs y = module_forward(x), backward with a fixed random cotangent on
// both twins, and compares y, dx and every parameter's gradient.
template <typename M, typename Forward>
void compare_twins(M& cpu, M& gpu, const Tensor& x_cpu, Forward forward, const std::string& what) {
  gpu.to(kCuda);
  Tensor xc = x_cpu.detach(), xg = x_cpu.detach().to(kCuda);
  const bool float_input = is_floating(x_cpu.dtype());
  if (float_input) {
    xc.requires_grad_();
    xg.requires_grad_();
  }
  Tensor yc = forward(cpu, xc), yg = forward(gpu, xg);
  ASSERT_EQ(yg.device(), kCuda) << what;
  expect_close(yg, yc, kForward, what + " forward");
  Tensor r = cpu_randn(yc.shape(), 77);
  yc.backward(r);
  yg.backward(r.to(kCuda));
  if (float_input) expect_close(xg.grad(), xc.grad(), kGradient, what + " dx");
  const auto pc = cpu.named_parameters(), pg = gpu.named_parameters();
  ASSERT_EQ(pc.size(), pg.size()) << what;
  for (size_t i = 0; i < pc.size(); ++i) {
    ASSERT_TRUE(pg[i].second.grad().defined()) << what << " " << pc[i].first;
    expect_close(pg[i].second.grad(), pc[i].second.grad(), kGradient, what + " d" + pc[i].first);
  }
}

TEST_F(CudaLayers, EveryStructuredLinear) {
  struct Case {
    const char* type;
    int64_t blocks, rank;
  };
  const Case cases[] = {{"dense", 0, 0},  {"low_rank", 0, 8}, {"block_diagonal", 4, 0},
                        {"monarch", 4, 0}, {"gblr", 0, 12},   {"blast", 4, 6}};
  for (const Case& c : cases) {
    LinearSpec spec;
    spec.type = c.type;
    spec.blocks = c.blocks;
    spec.rank = c.rank;
    Generator gen_cpu(5), gen_gpu(5);
    std::unique_ptr<StructuredLinear> cpu = make_linear(spec, 32, 48, {.generator = &gen_cpu});
    std::unique_ptr<StructuredLinear> gpu = make_linear(spec, 32, 48, {.generator = &gen_gpu});
    compare_twins(*cpu, *gpu, cpu_randn({3, 7, 32}, 6),
                  [](StructuredLinear& layer, const Tensor& x) { return layer.forward(x); }, c.type);
    // to_dense on the device equals to_dense on the host.
    NoGradGuard no_grad;
    expect_close(gpu->to_dense(), cpu->to_dense(), kForward, std::string(c.type) + " to_dense");
  }
}

TEST_F(CudaLayers, LayerNormEmbeddingMlp) {
  {
    LayerNorm cpu(24), gpu(24);  // ones and zeros: nothing random
    compare_twins(cpu, gpu, ops::add_scalar(cpu_randn({5, 24}, 2), 1.0),
                  [](LayerNorm& m, const Tensor& x) { return m.forward(x); }, "LayerNorm");
  }
  {
    Generator a(3), b(3);
    Embedding cpu(40, 16, {.generator = &a}), gpu(40, 16, {.generator = &b});
    Tensor tokens = from_vector<int64_t>({1, 39, 3, 3, 0, 7, 7, 7}, {2, 4});
    compare_twins(cpu, gpu, tokens, [](Embedding& m, const Tensor& t) { return m.forward(t); }, "Embedding");
  }
  {
    Generator a(4), b(4);
    MLP cpu(16, 64, 16, {.generator = &a}), gpu(16, 64, 16, {.generator = &b});
    compare_twins(cpu, gpu, cpu_randn({2, 9, 16}, 5), [](MLP& m, const Tensor& x) { return m.forward(x); }, "MLP");
  }
}

TEST_F(CudaLayers, TinyVitTrainingStep) {
  Generator gen_cpu(11), gen_gpu(11);
  std::unique_ptr<ViT> cpu = tiny_vit("", &gen_cpu), gpu = tiny_vit("", &gen_gpu);
  gpu->to(kCuda);  // before the arena: the arena then lives on the GPU
  ParameterArena arena_cpu(*cpu), arena_gpu(*gpu);
  ASSERT_EQ(arena_gpu.params().device(), kCuda);

  Tensor images = cpu_randn({4, 3, 8, 8}, 12);
  Tensor labels = from_vector<int64_t>({0, 4, 2, 2}, {4});
  Tensor loss_cpu = cross_entropy(cpu->forward(images), labels);
  Tensor loss_gpu = cross_entropy(gpu->forward(images.to(kCuda)), labels.to(kCuda));
  expect_close(loss_gpu, loss_cpu, kForward, "ViT loss");
  loss_cpu.backward();
  loss_gpu.backward();
  expect_close(arena_gpu.grads(), arena_cpu.grads(), kGradient, "ViT gradients (arena)");

  const AdamWArgs args{1e-3, 0.9, 0.999, 1e-8, 0.05, 1};
  Tensor m_cpu = zeros({arena_cpu.numel()}), v_cpu = zeros({arena_cpu.numel()});
  Tensor m_gpu = zeros({arena_gpu.numel()}, {DType::f32, kCuda}), v_gpu = zeros({arena_gpu.numel()}, {DType::f32, kCuda});
  ops::adamw_step_(arena_cpu.params(), arena_cpu.grads(), m_cpu, v_cpu, args);
  ops::adamw_step_(arena_gpu.params(), arena_gpu.grads(), m_gpu, v_gpu, args);
  // After one Adam step an update is ~lr * sign(g): compare parameters absolutely.
  expect_close(arena_gpu.params(), arena_cpu.params(), {1e-4, 2e-5}, "ViT parameters after AdamW");

  NoGradGuard no_grad;
  expect_close(cross_entropy(gpu->forward(images.to(kCuda)), labels.to(kCuda)),
               cross_entropy(cpu->forward(images), labels), kForward, "ViT loss after the step");
}

}  // namespace
}  // namespace strata::testing
