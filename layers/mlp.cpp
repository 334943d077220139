#include "layers/mlp.h"

#include "layers/linear.h"

namespace strata {

namespace {

std::shared_ptr<StructuredLinear> dense(int64_t in, int64_t out, const MLPOptions& o) {
  return std::make_shared<Linear>(in, out, LinearOptions{o.bias, o.dtype, o.device, o.generator});
}

}  // namespace

MLP::MLP(int64_t in_features, int64_t hidden_features, int64_t out_features, MLPOptions options)
    : MLP(dense(in_features, hidden_features, options), dense(hidden_features, out_features, options), options) {}

MLP::MLP(std::shared_ptr<StructuredLinear> fc1_in, std::shared_ptr<StructuredLinear> fc2_in, MLPOptions options) {
  if (!fc1_in || !fc2_in) fail("MLP", "fc1 and fc2 must be given");
  if (fc1_in->out_features() != fc2_in->in_features()) {
    fail("MLP", "fc1 gives {} features but fc2 takes {}", fc1_in->out_features(), fc2_in->in_features());
  }
  fc1 = register_module("fc1", std::move(fc1_in));
  act = register_module("act", std::make_shared<GELU>(options.approx));
  fc2 = register_module("fc2", std::move(fc2_in));
  drop = register_module("drop", std::make_shared<Dropout>(options.dropout, options.generator));
}

Tensor MLP::forward(const Tensor& x) { return drop->forward(fc2->forward(act->forward(fc1->forward(x)))); }

}  // namespace strata
