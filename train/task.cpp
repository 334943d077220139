#include "train/task.h"

#include "train/classification_task.h"
#include "train/language_model_task.h"

namespace strata {

std::unique_ptr<Task> make_task(const RunConfig& config, Generator& generator, int64_t rank, int64_t world_size) {
  if (config.kind == ModelKind::language_model) {
    return std::make_unique<LanguageModelTask>(config, generator, rank, world_size);
  }
  return std::make_unique<ClassificationTask>(config, generator, rank, world_size);
}

}  // namespace strata
