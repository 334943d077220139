#include "train/hf_gpt2.h"

#include <fmt/format.h>

#include <map>

#include "core/ops.h"
#include "models/gpt2.h"
#include "train/run_config.h"
#include "train/safetensors.h"

namespace strata {

namespace {

constexpr int64_t kHeadWidth = 64;

// HF name -> Strata name and whether the tensor is a Conv1D weight to transpose.
struct Mapped {
  std::string name;
  bool transpose = false;
};

// Empty name: a tensor to skip.
Mapped map_name(const std::string& path, std::string name) {
  if (name.rfind("transformer.", 0) == 0) name = name.substr(std::string("transformer.").size());
  if (name == "wte.weight" || name == "wpe.weight" || name == "ln_f.weight" || name == "ln_f.bias") return {name};
  if (name == "lm_head.weight") return {""};  // tied; checked by the caller
  // "h.<layer>.<rest>"
  const size_t layer_end = name.find('.', 2);
  const std::string layer = name.rfind("h.", 0) == 0 && layer_end != std::string::npos ? name.substr(2, layer_end - 2) : "";
  if (layer.empty() || layer.find_first_not_of("0123456789") != std::string::npos) {
    fail("import gpt2", "{}: unknown tensor '{}'", path, name);
  }
  const std::string prefix = "blocks." + layer + ".", rest = name.substr(layer_end + 1);
  if (rest == "attn.bias" || rest == "attn.masked_bias") return {""};  // causal-mask buffers
  static const std::map<std::string, std::string> parts = {
      {"ln_1", "norm1"}, {"attn.c_attn", "attn.qkv"}, {"attn.c_proj", "attn.proj"},
      {"ln_2", "norm2"}, {"mlp.c_fc", "mlp.fc1"},     {"mlp.c_proj", "mlp.fc2"}};
  const size_t dot = rest.rfind('.');
  const std::string module = rest.substr(0, dot), field = dot == std::string::npos ? "" : rest.substr(dot + 1);
  auto it = parts.find(module);
  if (it == parts.end() || (field != "weight" && field != "bias")) {
    fail("import gpt2", "{}: unknown tensor '{}'", path, name);
  }
  const bool conv1d = module.rfind("ln_", 0) != 0 && field == "weight";
  return {prefix + it->second + "." + field, conv1d};
}

std::string gpt2_config_yaml(int64_t vocab, int64_t context, int64_t width, int64_t depth, int64_t heads,
                             const std::string& vocab_path) {
  return fmt::format("model:\n  name: gpt2\n  vocab_size: {}\n  context: {}\n  width: {}\n  depth: {}\n  heads: {}\n"
                     "data:\n  vocab: {}\n",
                     vocab, context, width, depth, heads, vocab_path);
}

}  // namespace

CheckpointState import_hf_gpt2(const std::string& path, const HfGpt2ImportOptions& options) {
  const SafetensorsFile file = read_safetensors(path);
  StateDict weights;
  const Tensor* lm_head = nullptr;
  int64_t depth = 0;
  for (const auto& [hf_name, tensor] : file.tensors) {
    const Mapped mapped = map_name(path, hf_name);
    if (hf_name.find("lm_head.weight") != std::string::npos) lm_head = &tensor;
    if (mapped.name.empty()) continue;
    if (mapped.transpose && tensor.dim() != 2) {
      fail("import gpt2", "{}: '{}' should be a matrix, has shape {}", path, hf_name, shape_str(tensor.shape()));
    }
    Tensor value = mapped.transpose ? ops::contiguous(ops::transpose(tensor, 0, 1)) : tensor;
    weights.insert(mapped.name, value.to(DType::f32));
    if (mapped.name.rfind("blocks.", 0) == 0) {
      depth = std::max<int64_t>(depth, std::stoll(mapped.name.substr(7, mapped.name.find('.', 7) - 7)) + 1);
    }
  }
  for (const char* required : {"wte.weight", "wpe.weight"}) {
    if (!weights.contains(required)) fail("import gpt2", "{}: no '{}': not a GPT-2 checkpoint", path, required);
  }
  const Tensor& wte = weights.at("wte.weight");
  const int64_t vocab = wte.size(0), width = wte.size(1), context = weights.at("wpe.weight").size(0);
  if (lm_head && lm_head->to(DType::f32).to_vector<float>() != wte.to_vector<float>()) {
    fail("import gpt2", "{}: lm_head.weight differs from wte.weight; Strata's GPT-2 ties them", path);
  }
  const int64_t heads = options.heads > 0 ? options.heads : width / kHeadWidth;
  if (heads < 1 || width % heads != 0) fail("import gpt2", "{}: {} heads do not divide width {}", path, heads, width);

  CheckpointState state;
  RunConfig config = read_run_config(config::Document::parse(
      gpt2_config_yaml(vocab, context, width, depth, heads, options.vocab), path + " (imported GPT-2)"));
  state.config_yaml = resolved_yaml(config);
  // The model checks every name and shape (and that none is missing).
  std::unique_ptr<Model> model = build_model(config, {}, nullptr);
  try {
    model->load_state_dict(weights, /*strict=*/true);
  } catch (const Error& e) {
    fail("import gpt2", "{}: {}", path, e.what());
  }
  state.model = model->state_dict();
  return state;
}

}  // namespace strata
