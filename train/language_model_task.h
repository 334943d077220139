#pragma once
// LanguageModelTask: GPT-2 trained on token shards (data/token_data_config.h)
// to predict each next token (cross-entropy per token), evaluated on the
// validation shards as non-overlapping blocks of the context length:
// loss per token and perplexity.
#include <memory>

#include "data/token_loader.h"
#include "models/gpt2.h"
#include "train/task.h"

namespace strata {

class LanguageModelTask : public Task {
 public:
  LanguageModelTask(const RunConfig& config, Generator& generator, int64_t rank, int64_t world_size);

  Model& model() override { return *model_; }
  MicroBatchLoss next_loss() override;
  data::LoaderPosition position() const override { return loader_->position(); }
  void seek(data::LoaderPosition position) override { loader_->seek(position); }
  int64_t batches_per_epoch() const override { return loader_->batches_per_epoch(); }
  bool can_evaluate() const override { return !config_.tokens.val.empty(); }
  std::optional<EvalResult> evaluate(Communicator& communicator, const std::function<bool()>& abort,
                                     bool final) override;
  std::string describe_data() const override;
  std::string eval_split() const override { return "val"; }
  std::string unit() const override { return "tok"; }
  bool reports_perplexity() const override { return true; }

 private:
  const RunConfig& config_;
  int64_t rank_, world_size_;
  std::unique_ptr<data::TokenLoader> loader_;
  std::unique_ptr<Gpt2> model_;
};

// The sequential, every-token-once loader for evaluating a split's shards.
data::TokenLoader eval_token_loader(const data::TokenDataConfig& config, const std::vector<std::string>& shards,
                                    int64_t rank = 0, int64_t world_size = 1, bool pin_memory = false);

}  // namespace strata
