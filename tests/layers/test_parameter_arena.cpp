// ParameterArena: one storage for all parameters, one for all gradients,
// decayed-first layout, values and handles preserved across rebinding.
#include <gtest/gtest.h>

#include "autograd/functions.h"
#include "core/ops.h"
#include "layers/layer_norm.h"
#include "layers/linear.h"
#include "layers/mlp.h"
#include "layers/parameter_arena.h"

namespace strata {
namespace {

// fc (4 -> 3) then LayerNorm(3): the norm's params are registered in between.
struct Net : Module {
  std::shared_ptr<Linear> fc1, fc2;
  std::shared_ptr<LayerNorm> norm;
  explicit Net(uint64_t seed = 2) {
    Generator gen(seed);
    fc1 = register_module("fc1", std::make_shared<Linear>(4, 3, LinearOptions{.generator = &gen}));
    norm = register_module("norm", std::make_shared<LayerNorm>(3));
    fc2 = register_module("fc2", std::make_shared<Linear>(3, 2, LinearOptions{.generator = &gen}));
  }
  Tensor forward(const Tensor& x) { return fc2->forward(gelu(norm->forward(fc1->forward(x)))); }
};

TEST(ParameterArena, LayoutIsDecayedFirstInRegistrationOrder) {
  Net net;
  ParameterArena arena(net);
  std::vector<std::string> names;
  for (const auto& s : arena.segments()) names.push_back(s.name);
  EXPECT_EQ(names, (std::vector<std::string>{"fc1.weight", "fc2.weight", "fc1.bias", "norm.weight", "norm.bias",
                                             "fc2.bias"}));
  EXPECT_EQ(arena.numel(), net.num_parameters());
  EXPECT_EQ(arena.decay_numel(), 4 * 3 + 3 * 2);
  int64_t offset = 0;
  for (const auto& s : arena.segments()) {
    EXPECT_EQ(s.offset, offset) << s.name;
    EXPECT_EQ(s.decay, s.param.dim() >= 2) << s.name;
    offset += s.numel;
  }
  EXPECT_EQ(arena.params().shape(), (Shape{arena.numel()}));
  EXPECT_EQ(arena.grads().shape(), (Shape{arena.numel()}));
}

TEST(ParameterArena, ParamsAreViewsIntoOneStorageWithValuesPreserved) {
  Net net;
  std::vector<std::vector<float>> before;
  for (const Tensor& p : net.parameters()) before.push_back(p.to_vector<float>());
  Tensor handle = net.fc1->weight;  // taken before rebinding

  ParameterArena arena(net);
  auto params = net.parameters();
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(params[i].shares_storage(arena.params()));
    EXPECT_TRUE(params[i].is_contiguous());
    EXPECT_TRUE(params[i].requires_grad());
    EXPECT_EQ(params[i].to_vector<float>(), before[i]);
    EXPECT_TRUE(params[i].grad().shares_storage(arena.grads()));
  }
  for (const auto& s : arena.segments()) {
    EXPECT_EQ(s.param.offset(), arena.params().offset() + s.offset);
    EXPECT_EQ(ops::slice(arena.params(), 0, s.offset, s.offset + s.numel).to_vector<float>(),
              s.param.to_vector<float>());
  }
  // Old handles share the rebound impl: writing the arena changes what they read.
  EXPECT_TRUE(handle.shares_storage(arena.params()));
  ops::fill_(arena.params(), 0.25);
  for (float v : handle.to_vector<float>()) EXPECT_EQ(v, 0.25f);
  for (float v : net.fc1->forward(ones({1, 4})).to_vector<float>()) EXPECT_FLOAT_EQ(v, 0.25f * 4 + 0.25f);
}

TEST(ParameterArena, GradientsLandInTheArena) {
  Net net;
  ParameterArena arena(net);
  Tensor x = from_vector<float>({0.1f, -0.4f, 0.9f, 0.3f, 1.0f, 0.2f, -0.7f, 0.5f}, {2, 4});
  net.forward(x).sum().backward();
  std::vector<float> once = arena.grads().to_vector<float>();
  double abs_sum = 0;
  for (float v : once) abs_sum += std::abs(v);
  EXPECT_GT(abs_sum, 0.0);
  for (const auto& s : arena.segments()) {
    EXPECT_TRUE(s.param.grad().shares_storage(arena.grads())) << s.name;
    EXPECT_EQ(ops::slice(arena.grads(), 0, s.offset, s.offset + s.numel).to_vector<float>(),
              s.param.grad().to_vector<float>());
  }
  // A second backward accumulates in place; zero_grad clears it with one fill.
  net.forward(x).sum().backward();
  std::vector<float> twice = arena.grads().to_vector<float>();
  for (size_t i = 0; i < once.size(); ++i) EXPECT_FLOAT_EQ(twice[i], 2 * once[i]);
  arena.zero_grad();
  for (float v : arena.grads().to_vector<float>()) EXPECT_EQ(v, 0.0f);
  EXPECT_NO_THROW(arena.check_bound());
}

TEST(ParameterArena, KeepsPendingGradsAndDetectsUnboundGrads) {
  Linear fc(3, 2);
  fc.forward(ones({1, 3})).sum().backward();
  std::vector<float> g = fc.weight.grad().to_vector<float>();
  ParameterArena arena(fc);
  EXPECT_EQ(fc.weight.grad().to_vector<float>(), g);
  fc.weight.set_grad(Tensor());
  EXPECT_THROW(arena.check_bound(), Error);
}

TEST(ParameterArena, CustomDecayAndErrors) {
  MLP mlp(3, 4, 2);
  ParameterArena arena(mlp, [](const std::string& name, const Tensor&) { return name.starts_with("fc1."); });
  EXPECT_EQ(arena.decay_numel(), 3 * 4 + 4);
  EXPECT_EQ(arena.segments()[0].name, "fc1.weight");
  EXPECT_EQ(arena.segments()[1].name, "fc1.bias");

  Linear f64(2, 2, {.dtype = DType::f64});
  EXPECT_THROW(ParameterArena{f64}, Error);
  Tensor w = zeros({2});
  w.requires_grad_();
  EXPECT_THROW(ParameterArena({{"a", w}, {"b", w}}), Error);
}

TEST(ParameterArena, LoadStateDictAndZeroGradKeepTheBinding) {
  Net net, other(5);
  ParameterArena arena(net);
  ASSERT_NE(net.fc2->weight.to_vector<float>(), other.fc2->weight.to_vector<float>());
  net.load_state_dict(other.state_dict());
  EXPECT_EQ(net.fc2->weight.to_vector<float>(), other.fc2->weight.to_vector<float>());
  EXPECT_TRUE(net.fc2->weight.shares_storage(arena.params()));
  net.forward(ones({1, 4})).sum().backward();
  net.zero_grad();
  EXPECT_NO_THROW(arena.check_bound());
  for (float v : arena.grads().to_vector<float>()) EXPECT_EQ(v, 0.0f);
}

TEST(ParameterArena, FrozenParametersStayOut) {
  MLP mlp(3, 4, 2);
  Tensor w = mlp.fc1->parameters()[0];  // fc1.weight
  w.requires_grad_(false);
  ParameterArena arena(mlp);
  EXPECT_EQ(arena.numel(), mlp.num_parameters() - 12);
  EXPECT_FALSE(w.shares_storage(arena.params()));
}

}  // namespace
}  // namespace strata
