#pragma once
// ClassificationTask: an image classifier (ViT) trained on an image dataset
// (data/data_config.h) with soft-target cross-entropy (train/classification.h),
// evaluated on the test split: loss and accuracy.
#include <memory>

#include "data/dataset.h"
#include "data/loader.h"
#include "models/image_classifier.h"
#include "train/task.h"

namespace strata {

class ClassificationTask : public Task {
 public:
  ClassificationTask(const RunConfig& config, Generator& generator, int64_t rank, int64_t world_size);

  Model& model() override { return *model_; }
  MicroBatchLoss next_loss() override;
  data::LoaderPosition position() const override { return loader_->position(); }
  void seek(data::LoaderPosition position) override { loader_->seek(position); }
  int64_t batches_per_epoch() const override { return loader_->batches_per_epoch(); }
  bool can_evaluate() const override { return test_set_.images.defined(); }
  std::optional<EvalResult> evaluate(Communicator& communicator, const std::function<bool()>& abort,
                                     bool final) override;
  std::string describe_data() const override;
  std::string eval_split() const override { return "test"; }
  std::string unit() const override { return "img"; }

 private:
  const RunConfig& config_;
  int64_t rank_, world_size_;
  data::Dataset train_set_, test_set_;
  std::unique_ptr<data::Loader> loader_;
  std::unique_ptr<ImageClassifier> model_;
};

}  // namespace strata
