#pragma once
// Builds the model a run config's `model:` section describes, dispatching
// on `model.name`:
//
//   vit    ImageClassifier (models/vit.h; section: models/vit_config.h)
//   gpt2   Gpt2, a language model (models/gpt2.h; section: models/gpt2_config.h)
//
//   config::Section model = config::Section(doc).section("model");
//   auto net = make_model(model, {dataset.num_classes, dataset.channels(), dataset.height()});
//
// For image models, `data` supplies image_size, in_channels and num_classes
// where the model section leaves them out (0 where the data does not know);
// where both give one they must agree. Config errors are strata::Error
// naming file:line:column and the key; the section is finished (unknown
// keys refused).
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "models/image_classifier.h"

namespace strata {

enum class ModelKind { image_classifier, language_model };

const std::vector<std::string>& model_names();
ModelKind model_kind(const std::string& name);

// The section's model name (default vit), read without finishing the section.
std::string read_model_name(config::Section& model_section);

// Reads and checks the whole section as make_model will (finishes it).
void check_model_section(config::Section& model_section, const ImageShape& data = {});

std::unique_ptr<Model> make_model(config::Section& model_section, const ImageShape& data = {},
                                  ModelOptions options = {});

// make_model for a section that must describe an image classifier.
std::unique_ptr<ImageClassifier> make_image_model(config::Section& model_section, const ImageShape& data,
                                                  ModelOptions options = {});

}  // namespace strata
