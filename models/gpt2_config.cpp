#include "models/gpt2_config.h"

#include "models/transformer_block.h"

namespace strata {

namespace {

std::vector<RoleShape> role_shapes(const Gpt2Config& c) {
  const int64_t w = c.width;
  return {{"qkv", {w, 3 * w}}, {"attn_out", {w, w}}, {"mlp_in", {w, c.mlp_hidden()}}, {"mlp_out", {c.mlp_hidden(), w}}};
}

}  // namespace

const std::vector<std::string>& gpt2_linear_roles() {
  static const std::vector<std::string> roles = {"qkv", "attn_out", "mlp_in", "mlp_out"};
  return roles;
}

const std::vector<std::string>& gpt2_shared_linear_roles() {
  static const std::vector<std::string> roles = {"qkv", "mlp_in", "mlp_out"};
  return roles;
}

Gpt2Config read_gpt2_config(config::Section& s) {
  Gpt2Config c;
  std::string name = "gpt2";
  s.choice("name", name, {"gpt2"});
  s.field("vocab_size", c.vocab_size, config::in_range<int64_t>(1, 1 << 20));
  s.field("context", c.context, config::positive<int64_t>());
  s.field("width", c.width, config::positive<int64_t>());
  s.field("depth", c.depth, config::positive<int64_t>());
  read_block_shape(s, c.width, c.heads, c.mlp_ratio);
  s.field("dropout", c.dropout, config::unit_interval_open());
  s.field("attn_dropout", c.attn_dropout, config::unit_interval_open());
  s.field("bias", c.bias);
  s.field("layer_norm_eps", c.layer_norm_eps, config::positive<double>());
  c.linear = read_linear_roles(s, "linear", gpt2_linear_roles(), gpt2_shared_linear_roles());
  check_linear_specs(s, c.linear, role_shapes(c));
  s.finish();
  return c;
}

}  // namespace strata
