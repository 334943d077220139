#include "models/generate.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "autograd/node.h"

namespace strata {

int64_t sample_token(const std::vector<double>& logits, double temperature, int64_t top_k, double uniform) {
  if (logits.empty()) fail("sample_token", "no logits");
  if (!(temperature >= 0.0)) fail("sample_token", "temperature must be >= 0, got {}", temperature);
  const auto vocab = int64_t(logits.size());
  if (temperature == 0.0) return int64_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
  // Candidates by decreasing logit (ties: lower id first, so draws are reproducible).
  std::vector<int64_t> order(size_t(vocab), 0);
  std::iota(order.begin(), order.end(), 0);
  const int64_t keep = top_k > 0 ? std::min(top_k, vocab) : vocab;
  auto by_logit = [&](int64_t a, int64_t b) { return logits[size_t(a)] > logits[size_t(b)] || (logits[size_t(a)] == logits[size_t(b)] && a < b); };
  std::partial_sort(order.begin(), order.begin() + keep, order.end(), by_logit);
  const double top = logits[size_t(order[0])];
  std::vector<double> weight(static_cast<size_t>(keep));
  double total = 0.0;
  for (int64_t i = 0; i < keep; ++i) {
    weight[size_t(i)] = std::exp((logits[size_t(order[size_t(i)])] - top) / temperature);
    total += weight[size_t(i)];
  }
  double target = uniform * total;
  for (int64_t i = 0; i < keep; ++i) {
    target -= weight[size_t(i)];
    if (target < 0.0) return order[size_t(i)];
  }
  return order[size_t(keep - 1)];  // uniform * total rounded up to the total
}

namespace {

// The logits of the last position of (1, t, V), as f64.
std::vector<double> last_logits(const Tensor& logits) {
  const int64_t t = logits.size(1), vocab = logits.size(2);
  return logits.slice(1, t - 1, t).reshape({vocab}).to(DType::f64).to_vector<double>();
}

}  // namespace

std::vector<int64_t> generate(Gpt2& model, std::vector<int64_t> prompt, const SamplingOptions& options,
                              const std::function<void(int64_t)>& on_token) {
  const int64_t context = model.config().context;
  if (prompt.empty()) fail("generate", "the prompt is empty (start from <|endoftext|> for unconditional text)");
  if (int64_t(prompt.size()) >= context) prompt.erase(prompt.begin(), prompt.end() - (context - 1));
  const bool was_training = model.is_training();
  model.eval();
  NoGradGuard no_grad;
  Generator generator(options.seed);
  const int64_t capacity = std::min<int64_t>(context, int64_t(prompt.size()) + options.max_new_tokens);
  Gpt2Cache cache = model.new_cache(capacity);
  Tensor logits = model.forward(from_vector<int64_t>(prompt, {1, int64_t(prompt.size())}), cache);
  std::vector<int64_t> out;
  while (int64_t(out.size()) < options.max_new_tokens) {
    const double uniform = rand({1}, {DType::f64}, &generator).item<double>();
    const int64_t token = sample_token(last_logits(logits), options.temperature, options.top_k, uniform);
    out.push_back(token);
    if (on_token) on_token(token);
    if (token == options.stop_token || cache.length() >= capacity) break;
    logits = model.forward(from_vector<int64_t>({token}, {1, 1}), cache);
  }
  model.train(was_training);
  return out;
}

}  // namespace strata
