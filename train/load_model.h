#pragma once
// A model back from a checkpoint: the checkpoint's stored run config (with
// --set style overrides applied), the model it describes built and its
// weights restored. What `strata eval`, `strata sample` and
// `strata compress` start from.
#include <memory>
#include <string>
#include <vector>

#include "core/random.h"
#include "models/model.h"
#include "train/checkpoint.h"
#include "train/run_config.h"

namespace strata {

struct CheckpointModel {
  CheckpointState state;
  RunConfig config;
  std::unique_ptr<Generator> generator;  // the model's dropout draws from it
  std::unique_ptr<Model> model;
};

// Errors (a damaged file, a stored config that no longer reads, weights
// that do not fit the model) are strata::Error naming the file.
CheckpointModel load_model(const std::string& checkpoint, const std::vector<std::string>& overrides = {});

}  // namespace strata
