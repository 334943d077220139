#include "models/model_factory.h"

#include "models/gpt2.h"
#include "models/vit.h"

namespace strata {

const std::vector<std::string>& model_names() {
  static const std::vector<std::string> names = {"vit", "gpt2"};
  return names;
}

ModelKind model_kind(const std::string& name) {
  return name == "gpt2" ? ModelKind::language_model : ModelKind::image_classifier;
}

std::string read_model_name(config::Section& s) {
  std::string name = "vit";
  s.choice("name", name, model_names());
  return name;
}

void check_model_section(config::Section& s, const ImageShape& data) {
  // Each reader finishes the section.
  if (read_model_name(s) == "gpt2") {
    read_gpt2_config(s);
  } else {
    read_vit_config(s, data);
  }
}

std::unique_ptr<Model> make_model(config::Section& s, const ImageShape& data, ModelOptions options) {
  if (read_model_name(s) == "gpt2") return std::make_unique<Gpt2>(read_gpt2_config(s), options);
  return std::make_unique<ViT>(read_vit_config(s, data), options);
}

std::unique_ptr<ImageClassifier> make_image_model(config::Section& s, const ImageShape& data, ModelOptions options) {
  std::unique_ptr<Model> model = make_model(s, data, options);
  auto* classifier = dynamic_cast<ImageClassifier*>(model.get());
  if (!classifier) s.error("name", "is not an image classifier");
  model.release();
  return std::unique_ptr<ImageClassifier>(classifier);
}

}  // namespace strata
