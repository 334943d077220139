#include "train/classification_task.h"

#include <fmt/format.h>

#include "train/classification.h"

namespace strata {

ClassificationTask::ClassificationTask(const RunConfig& config, Generator& generator, int64_t rank, int64_t world_size)
    : config_(config), rank_(rank), world_size_(world_size) {
  train_set_ = data::load_dataset(config.data, data::Split::train);
  const bool evaluates = config.eval.at_end || config.eval.every_steps > 0 || config.eval.every_epochs > 0;
  if (evaluates) test_set_ = data::load_dataset(config.data, data::Split::test);
  data::LoaderOptions options = data::train_loader_options(config.data, uint64_t(config.train.seed), rank, world_size);
  options.pin_memory = trains_on_gpu(config);
  loader_ = std::make_unique<data::Loader>(train_set_, options);
  if (loader_->batches_per_epoch() == 0) {
    fail("train", "data.batch_size {} x {} ranks is larger than the {} training images of {} (with drop_last)",
         config.data.batch_size, world_size, train_set_.size(), train_set_.name);
  }
  ImageShape shape;
  shape.num_classes = train_set_.num_classes;
  shape.channels = train_set_.channels();
  shape.image_size = config.data.augment.crop > 0 ? config.data.augment.crop : train_set_.height();
  model_ = build_image_model(config, shape, &generator);
}

MicroBatchLoss ClassificationTask::next_loss() {
  data::Batch batch = loader_->next();
  const Device device = config_.train.device;
  const Tensor logits = model_->forward(batch.images.to(device));
  MicroBatchLoss out;
  out.loss = soft_cross_entropy(logits, batch.targets.to(device));
  out.items = batch.labels.numel();
  out.correct = count_correct(logits, batch.labels);
  out.position = {batch.epoch, batch.index};
  return out;
}

std::optional<EvalResult> ClassificationTask::evaluate(Communicator& communicator, const std::function<bool()>& abort,
                                                       bool /*final: always the whole test split*/) {
  if (!can_evaluate()) return std::nullopt;
  data::LoaderOptions options = data::eval_loader_options(config_.data, rank_, world_size_);
  options.pin_memory = trains_on_gpu(config_);
  data::Loader loader(test_set_, options);
  return strata::evaluate(*model_, loader, communicator, abort);
}

std::string ClassificationTask::describe_data() const {
  return fmt::format("{}: {} images, {} batches of {} per epoch{}", train_set_.name, train_set_.size(),
                     loader_->batches_per_epoch(), config_.data.batch_size,
                     world_size_ > 1 ? fmt::format(" on each of {} ranks", world_size_) : "");
}

}  // namespace strata
