#include "data/token_data_config.h"

namespace strata::data {

namespace {

// A shard list given as one path or a list of paths.
std::vector<std::string> read_paths(config::Section& s, const std::string& key) {
  const YAML::Node node = s.raw(key);
  std::vector<std::string> paths;
  if (!node || node.IsNull()) {
    return paths;
  }
  if (node.IsScalar()) {
    paths.push_back(node.as<std::string>());
  } else if (node.IsSequence() && node.size() > 0) {
    for (const YAML::Node& item : node) {
      if (!item.IsScalar()) s.error(key, "expected a path or a list of paths");
      paths.push_back(item.as<std::string>());
    }
  } else {
    s.error(key, "expected a path or a non-empty list of paths");
  }
  s.record(key, paths);
  return paths;
}

}  // namespace

TokenDataConfig read_token_data_config(config::Section& s, int64_t model_context) {
  TokenDataConfig c;
  c.train = read_paths(s, "train");
  c.val = read_paths(s, "val");
  c.test = read_paths(s, "test");
  s.field("vocab", c.vocab);
  s.field("batch_size", c.batch_size, config::positive<int64_t>());
  s.field("eval_batch_size", c.eval_batch_size, config::non_negative<int64_t>());
  s.field<int64_t>("context", c.context, [&](const int64_t& v) -> std::string {
    if (v < 0) return "must be >= 0";
    return v <= model_context ? "" : fmt::format("longer than model.context ({})", model_context);
  });
  if (c.context == 0) {
    c.context = model_context;
    s.record("context", c.context);
  }
  s.choice("sampling", c.sampling, {"random", "sequential"});
  s.field("eval_batches", c.eval_batches, config::non_negative<int64_t>());
  s.finish();
  return c;
}

}  // namespace strata::data
