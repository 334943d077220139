#include "train/load_model.h"

namespace strata {

CheckpointModel load_model(const std::string& checkpoint, const std::vector<std::string>& overrides) {
  CheckpointModel out;
  out.state = load_checkpoint(checkpoint);
  config::Document doc = config::Document::parse(out.state.config_yaml, checkpoint + " (stored config)");
  for (const std::string& assignment : overrides) doc.apply_override(assignment);
  out.config = read_run_config(std::move(doc));
  out.generator = std::make_unique<Generator>(uint64_t(out.config.train.seed));
  // The stored config holds every size the data implied when it was written.
  out.model = build_model(out.config, out.config.image, out.generator.get());
  try {
    restore_model(*out.model, out.state);
  } catch (const Error& e) {
    fail("load_model", "{}: {}", checkpoint, e.what());
  }
  return out;
}

}  // namespace strata
