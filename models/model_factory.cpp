#include "models/model_factory.h"

#include "models/vit.h"

namespace strata {

const std::vector<std::string>& image_model_names() {
  static const std::vector<std::string> names = {"vit"};
  return names;
}

std::unique_ptr<ImageClassifier> make_image_model(config::Section& s, const ImageShape& data, ModelOptions options) {
  std::string name = "vit";
  s.choice("name", name, image_model_names());
  // One branch per architecture; each reader finishes the section.
  return std::make_unique<ViT>(read_vit_config(s, data), options);
}

}  // namespace strata
