#include "models/vit_config.h"

#include <utility>

#include "layers/linear_spec.h"
#include "models/transformer_block.h"

namespace strata {

namespace {

// A size the data may also determine: 0 means "from the data".
void read_data_size(config::Section& s, const std::string& key, int64_t& value, int64_t from_data) {
  s.field(key, value, config::non_negative<int64_t>());
  if (value == 0) {
    if (from_data == 0) s.error(key, "required: the data section does not determine it");
    value = from_data;
    s.record(key, value);
  } else if (from_data != 0 && value != from_data) {
    s.error(key, fmt::format("is {} but the data gives {}", value, from_data));
  }
}

// The (in, out) of every role's layer.
std::vector<RoleShape> role_shapes(const ViTConfig& c) {
  const int64_t w = c.width;
  return {{"qkv", {w, c.qkv_split ? w : 3 * w}},
          {"attn_out", {w, w}},
          {"mlp_in", {w, c.mlp_hidden()}},
          {"mlp_out", {c.mlp_hidden(), w}},
          {"patch_embed", {c.in_channels * c.patch_size * c.patch_size, w}},
          {"head", {w, c.num_classes}}};
}

}  // namespace

const std::vector<std::string>& vit_linear_roles() {
  static const std::vector<std::string> roles = {"qkv", "attn_out", "mlp_in", "mlp_out", "patch_embed", "head"};
  return roles;
}

const std::vector<std::string>& vit_shared_linear_roles() {
  static const std::vector<std::string> roles = {"qkv", "attn_out", "mlp_in", "mlp_out"};
  return roles;
}

ViTConfig read_vit_config(config::Section& s, const ImageShape& data) {
  ViTConfig c;
  std::string name = "vit";
  s.choice("name", name, {"vit"});
  read_data_size(s, "image_size", c.image_size, data.image_size);
  read_data_size(s, "in_channels", c.in_channels, data.channels);
  read_data_size(s, "num_classes", c.num_classes, data.num_classes);
  s.field<int64_t>("patch_size", c.patch_size, [&](const int64_t& p) -> std::string {
    if (p < 1) return "must be > 0";
    return c.image_size % p == 0 ? "" : fmt::format("{} does not divide image_size {}", p, c.image_size);
  });
  s.field("width", c.width, config::positive<int64_t>());
  s.field("depth", c.depth, config::positive<int64_t>());
  read_block_shape(s, c.width, c.heads, c.mlp_ratio);
  s.choice("pool", c.pool, {"cls", "mean"});
  s.field("dropout", c.dropout, config::unit_interval_open());
  s.field("attn_dropout", c.attn_dropout, config::unit_interval_open());
  s.field("drop_path", c.drop_path, config::unit_interval_open());
  s.field("qkv_bias", c.qkv_bias);
  s.field("qkv_split", c.qkv_split);
  s.field("layer_norm_eps", c.layer_norm_eps, config::positive<double>());
  c.linear = read_linear_roles(s, "linear", vit_linear_roles(), vit_shared_linear_roles());
  check_linear_specs(s, c.linear, role_shapes(c));
  s.finish();
  return c;
}

}  // namespace strata
