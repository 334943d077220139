#pragma once
// Builds the image model a run config's `model:` section describes,
// dispatching on `model.name` (vit only, for now):
//
//   config::Section model = config::Section(doc).section("model");
//   auto net = make_image_model(model, {dataset.num_classes, dataset.channels(), dataset.height()});
//
// `data` supplies image_size, in_channels and num_classes where the model
// section leaves them out (0 where the data does not know); where both
// give one they must agree. Config errors are strata::Error naming
// file:line:column and the key; the section is finished (unknown keys refused).
#include <memory>

#include "config/config.h"
#include "models/image_classifier.h"
#include "models/vit_config.h"

namespace strata {

const std::vector<std::string>& image_model_names();

std::unique_ptr<ImageClassifier> make_image_model(config::Section& model_section, const ImageShape& data,
                                                  ModelOptions options = {});

}  // namespace strata
