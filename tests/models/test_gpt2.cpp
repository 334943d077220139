// GPT-2: the forward pass against a plain f64 reference written here (naive
// causal attention), f64 gradients of the loss against finite differences,
// memorising one batch, the KV-cache path against the full forward,
// reproducible sampling, per-role structures and the config's errors.
#include <gtest/gtest.h>

#include <cmath>

#include "layers/linear.h"
#include "models/generate.h"
#include "models/gpt2.h"
#include "tests/models/gpt2_fixtures.h"
#include "tests/support/test_util.h"
#include "train/adamw.h"

namespace strata {
namespace {

using testing::expect_close;
using testing::tiny_gpt2_config;

// ---- a plain f64 reference of the forward pass ----------------------------------------------

using Matrix = std::vector<double>;  // row-major (rows, cols)

Matrix values(const Tensor& t) { return t.to(DType::f64).to_vector<double>(); }

// y (n, out) = x (n, in) W^T + b, W (out, in).
Matrix linear_ref(const Matrix& x, int64_t n, const StructuredLinear& layer) {
  const auto& dense = dynamic_cast<const Linear&>(layer);
  const int64_t in = layer.in_features(), out = layer.out_features();
  const Matrix w = values(dense.weight), b = values(dense.bias);
  Matrix y(size_t(n * out));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t o = 0; o < out; ++o) {
      double acc = b[size_t(o)];
      for (int64_t k = 0; k < in; ++k) acc += x[size_t(i * in + k)] * w[size_t(o * in + k)];
      y[size_t(i * out + o)] = acc;
    }
  return y;
}

Matrix layer_norm_ref(const Matrix& x, int64_t n, int64_t c, const LayerNorm& norm, double eps) {
  const Matrix w = values(norm.weight), b = values(norm.bias);
  Matrix y(x.size());
  for (int64_t i = 0; i < n; ++i) {
    double mean = 0.0, var = 0.0;
    for (int64_t k = 0; k < c; ++k) mean += x[size_t(i * c + k)] / double(c);
    for (int64_t k = 0; k < c; ++k) var += std::pow(x[size_t(i * c + k)] - mean, 2) / double(c);
    for (int64_t k = 0; k < c; ++k) {
      y[size_t(i * c + k)] = (x[size_t(i * c + k)] - mean) / std::sqrt(var + eps) * w[size_t(k)] + b[size_t(k)];
    }
  }
  return y;
}

// Causal attention of one sequence: qkv (t, 3c) -> (t, c).
Matrix causal_attention_ref(const Matrix& qkv, int64_t t, int64_t c, int64_t heads) {
  const int64_t d = c / heads;
  Matrix out(size_t(t * c), 0.0);
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < t; ++i) {
      std::vector<double> score(size_t(i + 1));
      double top = -1e300;
      for (int64_t j = 0; j <= i; ++j) {
        double s = 0.0;
        for (int64_t e = 0; e < d; ++e) s += qkv[size_t(i * 3 * c + h * d + e)] * qkv[size_t(j * 3 * c + c + h * d + e)];
        score[size_t(j)] = s / std::sqrt(double(d));
        top = std::max(top, score[size_t(j)]);
      }
      double total = 0.0;
      for (double& s : score) total += (s = std::exp(s - top));
      for (int64_t j = 0; j <= i; ++j)
        for (int64_t e = 0; e < d; ++e) {
          out[size_t(i * c + h * d + e)] += score[size_t(j)] / total * qkv[size_t(j * 3 * c + 2 * c + h * d + e)];
        }
    }
  return out;
}

double gelu_tanh_ref(double x) {
  return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}

// Logits (t, V) of one sequence.
Matrix gpt2_reference(const Gpt2& model, const std::vector<int64_t>& tokens) {
  const Gpt2Config& cfg = model.config();
  const int64_t t = int64_t(tokens.size()), c = cfg.width;
  const Matrix wte = values(model.wte->weight), wpe = values(model.wpe->weight);
  Matrix x(size_t(t * c));
  for (int64_t i = 0; i < t; ++i)
    for (int64_t k = 0; k < c; ++k) x[size_t(i * c + k)] = wte[size_t(tokens[size_t(i)] * c + k)] + wpe[size_t(i * c + k)];
  for (const auto& block : model.blocks) {
    Matrix a = linear_ref(layer_norm_ref(x, t, c, *block->norm1, cfg.layer_norm_eps), t, *block->attn->qkv);
    a = linear_ref(causal_attention_ref(a, t, c, cfg.heads), t, *block->attn->proj);
    for (size_t i = 0; i < x.size(); ++i) x[i] += a[i];
    Matrix m = linear_ref(layer_norm_ref(x, t, c, *block->norm2, cfg.layer_norm_eps), t, *block->mlp->fc1);
    for (double& v : m) v = gelu_tanh_ref(v);
    m = linear_ref(m, t, *block->mlp->fc2);
    for (size_t i = 0; i < x.size(); ++i) x[i] += m[i];
  }
  x = layer_norm_ref(x, t, c, *model.ln_f, cfg.layer_norm_eps);
  Matrix logits(size_t(t * cfg.vocab_size));
  for (int64_t i = 0; i < t; ++i)
    for (int64_t v = 0; v < cfg.vocab_size; ++v) {
      double acc = 0.0;
      for (int64_t k = 0; k < c; ++k) acc += x[size_t(i * c + k)] * wte[size_t(v * c + k)];
      logits[size_t(i * cfg.vocab_size + v)] = acc;
    }
  return logits;
}

// Larger than GPT-2's init, so every path carries signal well above rounding.
void scale_parameters(Gpt2& model, double factor) {
  NoGradGuard no_grad;
  for (const Tensor& p : model.parameters()) ops::mul_scalar_(p, factor);
}

Tensor tokens_of(const std::vector<int64_t>& ids, int64_t b, int64_t t) { return from_vector<int64_t>(ids, {b, t}); }

std::vector<int64_t> random_ids(int64_t n, int64_t vocab, uint64_t seed) {
  Generator gen(seed);
  std::vector<int64_t> ids;
  for (float u : rand({n}, {}, &gen).to_vector<float>()) ids.push_back(std::min<int64_t>(vocab - 1, int64_t(u * float(vocab))));
  return ids;
}

TEST(Gpt2, ForwardMatchesAPlainF64Reference) {
  Generator gen(3);
  Gpt2 model(tiny_gpt2_config(), {.dtype = DType::f64, .generator = &gen});
  scale_parameters(model, 5.0);
  // LayerNorm's affine parameters start at 1 and 0: give them values too.
  {
    NoGradGuard no_grad;
    for (auto& [name, p] : model.named_parameters()) {
      if (name.find("norm") != std::string::npos || name.find("ln_f") != std::string::npos) {
        ops::copy_(p, randn(p.shape(), {DType::f64}, &gen));
      }
    }
  }
  const std::vector<int64_t> ids = {3, 0, 12, 7, 7, 1, 5, 9, 11, 2};  // two sequences of 5
  const std::vector<double> actual = model.forward(tokens_of(ids, 2, 5)).to_vector<double>();
  for (int64_t s = 0; s < 2; ++s) {
    const Matrix expected = gpt2_reference(model, std::vector<int64_t>(ids.begin() + s * 5, ids.begin() + (s + 1) * 5));
    const std::vector<double> part(actual.begin() + s * 5 * 13, actual.begin() + (s + 1) * 5 * 13);
    expect_close(part, expected, 1e-10, "logits");
  }
}

TEST(Gpt2, LaterTokensDoNotChangeEarlierLogits) {
  Generator gen(4);
  Gpt2 model(tiny_gpt2_config(), {.dtype = DType::f64, .generator = &gen});
  const std::vector<double> a = model.forward(tokens_of({1, 2, 3, 4}, 1, 4)).to_vector<double>();
  const std::vector<double> b = model.forward(tokens_of({1, 2, 9, 10}, 1, 4)).to_vector<double>();
  for (size_t i = 0; i < 2 * 13; ++i) EXPECT_NEAR(a[i], b[i], 1e-12) << "position " << i / 13;
  bool later_differ = false;
  for (size_t i = 2 * 13; i < a.size(); ++i) later_differ |= std::abs(a[i] - b[i]) > 1e-6;
  EXPECT_TRUE(later_differ);
}

TEST(Gpt2, LossGradientsMatchFiniteDifferences) {
  for (const char* extra : {"", "  linear: {type: blast, blocks: 2, rank: 2}\n  bias: false\n"}) {
    Generator gen(5);
    Gpt2 model(tiny_gpt2_config(std::string(extra) + "  depth: 1\n  vocab_size: 7\n  context: 4\n"),
               {.dtype = DType::f64, .generator = &gen});
    scale_parameters(model, 4.0);
    const Tensor tokens = tokens_of({1, 6, 0, 3, 2, 2, 5, 4}, 2, 4);
    const Tensor targets = tokens_of({6, 0, 3, 1, 2, 5, 4, 0}, 2, 4);
    std::vector<Tensor> inputs = model.parameters();
    testing::expect_gradcheck([&](const std::vector<Tensor>&) { return model.loss(tokens, targets); }, inputs);
  }
}

TEST(Gpt2, MemorisesOneBatch) {
  Generator gen(6);
  Gpt2 model(tiny_gpt2_config("  vocab_size: 32\n  context: 16\n  width: 32\n  heads: 4\n"), {.generator = &gen});
  const std::vector<int64_t> ids = random_ids(4 * 17, 32, 7);
  std::vector<int64_t> in, out;
  for (int64_t s = 0; s < 4; ++s) {
    in.insert(in.end(), ids.begin() + s * 17, ids.begin() + s * 17 + 16);
    out.insert(out.end(), ids.begin() + s * 17 + 1, ids.begin() + s * 17 + 17);
  }
  ParameterArena arena(model);
  AdamW opt(arena, {.lr = 1e-2, .weight_decay = 0.0});
  double first = 0.0, loss = 0.0;
  for (int step = 0; step < 150; ++step) {
    opt.zero_grad();
    Tensor l = model.loss(tokens_of(in, 4, 16), tokens_of(out, 4, 16));
    loss = l.item<double>();
    if (step == 0) first = loss;
    l.backward();
    opt.step();
  }
  EXPECT_NEAR(first, std::log(32.0), 0.3);  // about uniform at init
  EXPECT_LT(loss, 0.05) << "from " << first;
}

TEST(Gpt2, KvCacheEqualsTheFullForward) {
  Generator gen(8);
  Gpt2 model(tiny_gpt2_config(), {.dtype = DType::f64, .generator = &gen});
  scale_parameters(model, 3.0);
  model.eval();
  const std::vector<int64_t> ids = {4, 8, 1, 12, 0, 3, 3, 9};
  const std::vector<double> full = model.forward(tokens_of(ids, 1, 8)).to_vector<double>();
  Gpt2Cache cache = model.new_cache(8);
  std::vector<double> incremental = model.forward(tokens_of({4, 8, 1}, 1, 3), cache).to_vector<double>();
  for (size_t i = 3; i < ids.size(); ++i) {
    const std::vector<double> step = model.forward(tokens_of({ids[i]}, 1, 1), cache).to_vector<double>();
    incremental.insert(incremental.end(), step.begin(), step.end());
  }
  EXPECT_EQ(cache.length(), 8);
  expect_close(incremental, full, 1e-11, "cached logits");
  EXPECT_THROW(model.forward(tokens_of({1}, 1, 1), cache), Error);  // full
}

TEST(Gpt2, RefusesSequencesLongerThanTheContext) {
  Gpt2 model(tiny_gpt2_config());
  EXPECT_THROW(model.forward(tokens_of(std::vector<int64_t>(9, 1), 1, 9)), Error);
  EXPECT_THROW(model.forward(tokens_of({13}, 1, 1)), Error);  // outside the vocabulary
}

TEST(Generate, SameSeedSameTextAndGreedyFollowsTheArgMax) {
  Generator gen(9);
  Gpt2 model(tiny_gpt2_config("  context: 16\n"), {.generator = &gen});
  scale_parameters(model, 8.0);
  SamplingOptions o{.max_new_tokens = 10, .temperature = 1.0, .top_k = 5, .seed = 42};
  const std::vector<int64_t> a = generate(model, {1, 2}, o), b = generate(model, {1, 2}, o);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.size(), 10u);
  o.seed = 43;
  EXPECT_NE(generate(model, {1, 2}, o), a);

  // Greedy: each token is the arg-max of a full forward over everything before it.
  o.temperature = 0.0;
  const std::vector<int64_t> greedy = generate(model, {1, 2}, o);
  std::vector<int64_t> sequence = {1, 2};
  for (int64_t token : greedy) {
    const int64_t t = int64_t(sequence.size());
    const std::vector<float> logits = model.forward(tokens_of(sequence, 1, t)).to_vector<float>();
    const auto last = logits.begin() + (t - 1) * 13;
    EXPECT_EQ(token, int64_t(std::max_element(last, last + 13) - last));
    sequence.push_back(token);
  }
}

TEST(Generate, StopsWhenTheContextIsFull) {
  Gpt2 model(tiny_gpt2_config());
  const std::vector<int64_t> out = generate(model, {1, 2, 3}, {.max_new_tokens = 50});
  // The prompt and 5 drawn tokens fill the 8 positions; the logits of the
  // last one still draw a 6th.
  EXPECT_EQ(out.size(), 6u);
}

TEST(SampleToken, TopKAndTemperature) {
  const std::vector<double> logits = {0.0, 3.0, 1.0, 2.0};
  EXPECT_EQ(sample_token(logits, 0.0, 0, 0.5), 1);  // greedy
  for (double u : {0.0, 0.3, 0.99}) EXPECT_EQ(sample_token(logits, 1.0, 1, u), 1);
  // top-2 keeps {1, 3}: weights e^3 and e^2, so u below e^3 / (e^3 + e^2) picks 1.
  const double split = std::exp(3.0) / (std::exp(3.0) + std::exp(2.0));
  EXPECT_EQ(sample_token(logits, 1.0, 2, split - 1e-9), 1);
  EXPECT_EQ(sample_token(logits, 1.0, 2, split + 1e-9), 3);
  // No top-k: the cumulative weights in decreasing order 1, 3, 2, 0.
  const double total = std::exp(3.0) + std::exp(2.0) + std::exp(1.0) + 1.0;
  EXPECT_EQ(sample_token(logits, 1.0, 0, (std::exp(3.0) + std::exp(2.0) + 0.5) / total), 2);
  EXPECT_EQ(sample_token(logits, 1.0, 0, 0.9999999), 0);
}

// ---- structures, costs, config ------------------------------------------------------------------

TEST(Gpt2Roles, ASingleSpecStructuresTheThreePaperLayers) {
  Gpt2 model(tiny_gpt2_config("  linear: {type: low_rank, rank: 2}\n"));
  int structured = 0;
  for (const NamedLinear& l : model.structured_linears()) {
    const bool attn_out = l.role == "attn_out";
    EXPECT_EQ(l.spec.type, attn_out ? "dense" : "low_rank") << l.name;
    structured += !attn_out;
  }
  EXPECT_EQ(structured, 2 * 3);
  EXPECT_EQ(model.structured_linears().size(), 2u * 4);
}

TEST(Gpt2Costs, ParamsOfTheRowsSumToTheModel) {
  for (const char* extra : {"", "  linear: {type: blast, blocks: 2, rank: 2}\n"}) {
    Gpt2 model(tiny_gpt2_config(extra));
    int64_t params = 0;
    for (const LayerCost& row : model.layer_costs()) params += row.params;
    EXPECT_EQ(params, model.num_parameters()) << extra;
  }
  // GPT-2 small: 124,439,808 parameters (HF's count, LM head tied).
  Gpt2 small(testing::tiny_gpt2_config("  vocab_size: 50257\n  context: 1024\n  width: 768\n  depth: 12\n  heads: 12\n"));
  EXPECT_EQ(small.num_parameters(), 124'439'808);
}

TEST(Gpt2Config, ErrorsNameTheFileLineAndKey) {
  auto error_with = [](const std::string& extra) {
    try {
      tiny_gpt2_config(extra);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_with("  heads: 3\n").find("tiny_gpt2.yaml:2:3: model.heads: 3 heads do not divide width 8"),
            std::string::npos)
      << error_with("  heads: 3\n");
  EXPECT_NE(error_with("  widht: 8\n").find("did you mean 'width'"), std::string::npos) << error_with("  widht: 8\n");
  EXPECT_NE(error_with("  linear: {type: blast, blocks: 3, rank: 2}\n").find("model.linear"), std::string::npos);
}

}  // namespace
}  // namespace strata
