// Module: registration, recursive names, state_dict round trip and errors,
// train/eval propagation, zero_grad.
#include <gtest/gtest.h>

#include "core/ops.h"
#include "layers/dropout.h"
#include "layers/layer_norm.h"
#include "layers/linear.h"
#include "layers/mlp.h"
#include "layers/module.h"

namespace strata {
namespace {

// fc1 -> norm -> drop -> fc2, plus a buffer, for the tests below.
struct Net : Module {
  std::shared_ptr<Linear> fc1, fc2;
  std::shared_ptr<LayerNorm> norm;
  std::shared_ptr<Dropout> drop;
  Tensor steps;

  explicit Net(uint64_t seed = 1) {
    Generator gen(seed);
    fc1 = register_module("fc1", std::make_shared<Linear>(3, 4, LinearOptions{.generator = &gen}));
    norm = register_module("norm", std::make_shared<LayerNorm>(4));
    drop = register_module("drop", std::make_shared<Dropout>(0.5));
    fc2 = register_module("fc2", std::make_shared<Linear>(4, 2, LinearOptions{.generator = &gen}));
    steps = register_buffer("steps", zeros({1}));
  }
};

std::vector<std::string> names(const std::vector<NamedTensor>& named) {
  std::vector<std::string> out;
  for (const auto& [name, t] : named) out.push_back(name);
  return out;
}

// The error message of f(), or "" when it does not throw strata::Error.
template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

StateDict snapshot(const Module& m) {
  StateDict out;
  for (const auto& [key, t] : m.state_dict()) out.insert(key, ops::clone(t));
  return out;
}

TEST(Module, NamedParametersInRegistrationOrder) {
  Net net;
  EXPECT_EQ(names(net.named_parameters()), (std::vector<std::string>{"fc1.weight", "fc1.bias", "norm.weight",
                                                                     "norm.bias", "fc2.weight", "fc2.bias"}));
  EXPECT_EQ(names(net.named_buffers()), std::vector<std::string>{"steps"});
  EXPECT_EQ(net.num_parameters(), 3 * 4 + 4 + 4 + 4 + 4 * 2 + 2);
  for (const Tensor& p : net.parameters()) EXPECT_TRUE(p.requires_grad());
  EXPECT_TRUE(net.named_parameters()[0].second.is_same(net.fc1->weight));

  MLP mlp(3, 5, 2);
  EXPECT_EQ(names(mlp.named_parameters()),
            (std::vector<std::string>{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}));
}

TEST(Module, NamedModules) {
  Net net;
  std::vector<std::string> got;
  for (auto& [name, m] : net.named_modules()) got.push_back(name);
  EXPECT_EQ(got, (std::vector<std::string>{"", "fc1", "norm", "drop", "fc2"}));
  EXPECT_EQ(net.named_modules()[0].second, &net);
  EXPECT_EQ(net.named_modules()[2].second, net.norm.get());
}

TEST(Module, RegistrationErrors) {
  Module m;
  m.register_parameter("w", zeros({2}));
  EXPECT_NE(error_of([&] { m.register_parameter("w", zeros({2})); }).find("'w' is already registered"),
            std::string::npos);
  EXPECT_NE(error_of([&] { m.register_buffer("a.b", zeros({2})); }).find("contains '.'"), std::string::npos);
  EXPECT_NE(error_of([&] { m.register_module("w", std::make_shared<Module>()); }).find("'w'"), std::string::npos);
  EXPECT_NE(error_of([&] { m.register_parameter("i", zeros({2}, {DType::i64})); }), "");
}

TEST(Module, TiedParameterListedOnceButSavedUnderEachName) {
  Module m;
  auto a = m.register_module("a", std::make_shared<Module>());
  auto b = m.register_module("b", std::make_shared<Module>());
  Tensor w = zeros({2, 2});
  a->register_parameter("weight", w);
  b->register_parameter("weight", w);
  EXPECT_EQ(names(m.named_parameters()), std::vector<std::string>{"a.weight"});
  EXPECT_EQ(m.state_dict().keys(), (std::vector<std::string>{"a.weight", "b.weight"}));
}

TEST(Module, StateDictRoundTrip) {
  Net net;
  StateDict saved = snapshot(net);
  // A module's own parameters and buffers come before its children's, as in PyTorch.
  EXPECT_EQ(saved.keys(), (std::vector<std::string>{"steps", "fc1.weight", "fc1.bias", "norm.weight", "norm.bias",
                                                    "fc2.weight", "fc2.bias"}));
  Tensor weight_handle = net.fc1->weight;
  for (const auto& [key, t] : net.state_dict()) ops::fill_(t, 42.0);
  LoadResult r = net.load_state_dict(saved);
  EXPECT_TRUE(r.missing_keys.empty());
  EXPECT_TRUE(r.unexpected_keys.empty());
  for (const auto& [key, t] : net.state_dict()) {
    EXPECT_EQ(t.to_vector<float>(), saved.at(key).to_vector<float>()) << key;
  }
  // Copied in place: the old handle sees the loaded values, grad state kept.
  EXPECT_TRUE(weight_handle.is_same(net.fc1->weight));
  EXPECT_TRUE(net.fc1->weight.requires_grad());

  // A second net with another seed loads the first one's values (f64 dict converts).
  Net other(99);
  StateDict as_f64;
  for (const auto& [key, t] : saved) as_f64.insert(key, ops::cast(t, DType::f64));
  other.load_state_dict(as_f64);
  EXPECT_EQ(other.fc2->weight.to_vector<float>(), saved.at("fc2.weight").to_vector<float>());
}

TEST(Module, LoadStateDictErrorsNameTheKey) {
  Net net;
  StateDict full = snapshot(net);

  StateDict missing;
  for (const auto& [key, t] : full) {
    if (key != "norm.bias") missing.insert(key, t);
  }
  std::string e = error_of([&] { net.load_state_dict(missing); });
  EXPECT_NE(e.find("missing keys"), std::string::npos) << e;
  EXPECT_NE(e.find("norm.bias"), std::string::npos) << e;

  StateDict extra = snapshot(net);
  extra.insert("fc3.weight", zeros({2, 2}));
  e = error_of([&] { net.load_state_dict(extra); });
  EXPECT_NE(e.find("unexpected keys"), std::string::npos) << e;
  EXPECT_NE(e.find("fc3.weight"), std::string::npos) << e;

  StateDict wrong_shape;
  for (const auto& [key, t] : full) wrong_shape.insert(key, key == "fc2.weight" ? zeros({4, 2}) : t);
  ops::fill_(wrong_shape.at("fc1.weight"), 7.0);
  std::vector<float> before = net.fc1->weight.to_vector<float>();
  e = error_of([&] { net.load_state_dict(wrong_shape); });
  EXPECT_NE(e.find("'fc2.weight'"), std::string::npos) << e;
  EXPECT_NE(e.find("[4, 2]"), std::string::npos) << e;
  EXPECT_EQ(net.fc1->weight.to_vector<float>(), before) << "a failed load must change nothing";

  // Non-strict: reports and skips missing/unexpected keys, still loads the rest.
  LoadResult r = net.load_state_dict(extra, /*strict=*/false);
  EXPECT_EQ(r.unexpected_keys, std::vector<std::string>{"fc3.weight"});
  r = net.load_state_dict(missing, /*strict=*/false);
  EXPECT_EQ(r.missing_keys, std::vector<std::string>{"norm.bias"});
  EXPECT_NE(error_of([&] { net.load_state_dict(wrong_shape, false); }), "");
}

TEST(Module, TrainEvalPropagates) {
  Net net;
  EXPECT_TRUE(net.is_training());
  net.eval();
  for (auto& [name, m] : net.named_modules()) EXPECT_FALSE(m->is_training()) << name;
  Tensor x = ones({64});
  EXPECT_EQ(net.drop->forward(x).to_vector<float>(), x.to_vector<float>());
  net.train();
  for (auto& [name, m] : net.named_modules()) EXPECT_TRUE(m->is_training()) << name;
  net.fc1->eval();
  EXPECT_FALSE(net.fc1->is_training());
  EXPECT_TRUE(net.fc2->is_training());
}

TEST(Module, ZeroGradKeepsGradTensors) {
  Net net;
  net.eval();
  Tensor loss = net.fc2->forward(net.norm->forward(net.fc1->forward(ones({5, 3})))).sum();
  loss.backward();
  Tensor g = net.fc1->weight.grad();
  ASSERT_TRUE(g.defined());
  net.zero_grad();
  EXPECT_TRUE(net.fc1->weight.grad().is_same(g));
  for (float v : g.to_vector<float>()) EXPECT_EQ(v, 0.0f);
}

}  // namespace
}  // namespace strata
