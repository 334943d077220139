#include "train/run_config.h"

#include <functional>
#include <sstream>

#include "models/gpt2_config.h"
#include "models/model_factory.h"

namespace strata {

namespace {

using config::Section;

// Reads a key that only one choice of a section takes (e.g. betas for adamw)
// and refuses it, by file:line, when the config chose otherwise. An
// inapplicable key is not recorded, so the resolved config reads back.
template <typename T>
void only_for(Section& s, const std::string& key, T& value, bool applies, const std::string& which,
              std::function<std::string(const T&)> check = {}) {
  if (applies) {
    s.field(key, value, check);
  } else if (s.has(key)) {
    s.error(key, fmt::format("only applies to {}", which));
  }
}

OptimConfig read_optim(Section s) {
  OptimConfig c;
  s.choice("name", c.name, {"adamw", "sgd"});
  const bool adamw = c.name == "adamw";
  c.weight_decay = adamw ? 0.05 : 0.0;
  s.field("lr", c.lr, config::positive<double>());
  s.field("weight_decay", c.weight_decay, config::non_negative<double>());
  std::vector<double> betas{c.beta1, c.beta2};
  only_for<std::vector<double>>(s, "betas", betas, adamw, "optim.name: adamw",
                                [](const std::vector<double>& b) -> std::string {
                                  if (b.size() != 2) return fmt::format("expected 2 values [beta1, beta2], got {}", b.size());
                                  for (double x : b) {
                                    if (!(x >= 0.0 && x < 1.0)) return fmt::format("{} is not in [0, 1)", x);
                                  }
                                  return {};
                                });
  c.beta1 = betas[0];
  c.beta2 = betas[1];
  only_for<double>(s, "eps", c.eps, adamw, "optim.name: adamw", config::positive<double>());
  only_for<double>(s, "momentum", c.momentum, !adamw, "optim.name: sgd", config::unit_interval_open());
  only_for<bool>(s, "nesterov", c.nesterov, !adamw, "optim.name: sgd");
  if (c.nesterov && c.momentum == 0.0) s.error("nesterov", "needs momentum > 0");
  s.finish();
  return c;
}

ScheduleConfig read_schedule(Section s, double peak_lr) {
  ScheduleConfig c;
  s.choice("kind", c.kind, {"constant", "cosine", "linear"});
  s.field("warmup_steps", c.warmup_steps, config::non_negative<int64_t>());
  s.field("warmup_epochs", c.warmup_epochs, config::non_negative<double>());
  s.field<double>("min_lr", c.min_lr, [&](const double& v) -> std::string {
    return v >= 0.0 && v <= peak_lr ? std::string() : fmt::format("must be in [0, optim.lr = {}]", peak_lr);
  });
  s.finish();
  return c;
}

GblrTrainConfig read_gblr(Section s) {
  GblrTrainConfig c;
  s.field("thres", c.thres, config::non_negative<double>());
  s.field("target_width", c.target_width, config::in_range(0.0, 1.0));
  s.field("sigma_epochs", c.sigma_epochs, config::non_negative<double>());
  s.finish();
  return c;
}

TrainConfig read_train(Section s) {
  TrainConfig c;
  s.field("steps", c.steps, config::non_negative<int64_t>());
  // epochs may be 0 only when steps gives the length.
  s.field<int64_t>("epochs", c.epochs, [&](const int64_t& v) -> std::string {
    if (v < 0) return "must be >= 0";
    return v == 0 && c.steps == 0 ? "must be > 0 (or give train.steps)" : "";
  });
  s.field("seed", c.seed, config::non_negative<int64_t>());
  s.field("grad_accum", c.grad_accum, config::positive<int64_t>());
  s.field("clip_grad_norm", c.clip_grad_norm, config::non_negative<double>());
  s.field("threads", c.threads, config::in_range<int64_t>(0, 4096));
  std::string device = c.device.str();
  s.field<std::string>("device", device, [](const std::string& v) -> std::string {
    return parse_device(v) ? "" : "expected cpu, cuda or cuda:N";
  });
  c.device = *parse_device(device);
  std::string precision = precision_name(c.precision);
  s.choice("precision", precision, {"f32", "bf16"});
  c.precision = *parse_precision(precision);
  c.gblr = read_gblr(s.section("gblr"));
  s.finish();
  return c;
}

EvalConfig read_eval(Section s) {
  EvalConfig c;
  s.field("every_steps", c.every_steps, config::non_negative<int64_t>());
  s.field("every_epochs", c.every_epochs, config::non_negative<int64_t>());
  s.field("at_end", c.at_end);
  s.finish();
  return c;
}

CheckpointConfig read_checkpoint(Section s) {
  CheckpointConfig c;
  s.field("every_steps", c.every_steps, config::non_negative<int64_t>());
  s.field("every_epochs", c.every_epochs, config::non_negative<int64_t>());
  s.field("keep_last", c.keep_last, config::positive<int64_t>());
  s.finish();
  return c;
}

LogConfig read_log(Section s) {
  LogConfig c;
  s.field("every_steps", c.every_steps, config::positive<int64_t>());
  s.choice("progress", c.progress, {"auto", "always", "never"});
  s.finish();
  return c;
}

}  // namespace

ImageShape implied_image_shape(const data::DataConfig& d) {
  ImageShape shape;
  shape.channels = d.channels;
  if (d.dataset == "cifar10" || d.dataset == "fashion_mnist" || d.dataset == "mnist") shape.num_classes = 10;
  if (d.dataset == "cifar100") shape.num_classes = d.label == "coarse" ? 20 : 100;
  int64_t side = 0;
  if (d.dataset == "cifar10" || d.dataset == "cifar100") side = 32;
  if (d.dataset == "fashion_mnist" || d.dataset == "mnist") side = 28;
  if (d.dataset == "image_folder") side = d.image_size;
  shape.image_size = d.augment.crop > 0 ? d.augment.crop : side;
  return shape;
}

RunConfig read_run_config(config::Document doc) {
  RunConfig c;
  c.document = std::make_shared<const config::Document>(std::move(doc));
  Section top(*c.document);
  // The model section comes first in config.yaml, but is read once the data
  // section says what images it will see.
  Section model = top.section("model");
  Section data = top.section("data");
  c.kind = model_kind(read_model_name(model));
  if (c.kind == ModelKind::language_model) {
    // The data's context is checked against the model's.
    const Gpt2Config gpt2 = read_gpt2_config(model);
    c.tokens = data::read_token_data_config(data, gpt2.context);
  } else {
    c.data = data::read_data_config(data);
    c.image = implied_image_shape(c.data);
    check_model_section(model, c.image);
  }
  c.optim = read_optim(top.section("optim"));
  c.schedule = read_schedule(top.section("schedule"), c.optim.lr);
  c.train = read_train(top.section("train"));
  c.eval = read_eval(top.section("eval"));
  c.checkpoint = read_checkpoint(top.section("checkpoint"));
  c.log = read_log(top.section("log"));
  top.finish();
  c.resolved = top.resolved();
  return c;
}

std::unique_ptr<Model> build_model(const RunConfig& config, const ImageShape& data, Generator* generator) {
  Section model = Section(*config.document).section("model");
  return make_model(model, data, ModelOptions{.generator = generator});
}

std::unique_ptr<ImageClassifier> build_image_model(const RunConfig& config, const ImageShape& data,
                                                   Generator* generator) {
  Section model = Section(*config.document).section("model");
  return make_image_model(model, data, ModelOptions{.generator = generator});
}

std::string resolved_yaml(const RunConfig& config) {
  std::stringstream out;
  out << config.resolved << "\n";
  return out.str();
}

}  // namespace strata
