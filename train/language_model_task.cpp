#include "train/language_model_task.h"

#include <fmt/format.h>

#include "autograd/functions.h"
#include "train/classification.h"

namespace strata {

namespace {

data::TokenLoaderOptions loader_options(const data::TokenDataConfig& config, int64_t batch_size,
                                        data::TokenOrder order, uint64_t seed, int64_t rank, int64_t world_size,
                                        bool pin_memory) {
  data::TokenLoaderOptions o;
  o.pin_memory = pin_memory;
  o.batch_size = batch_size;
  o.context = config.context;
  o.order = order;
  o.seed = seed;
  o.rank = rank;
  o.world_size = world_size;
  return o;
}

}  // namespace

data::TokenLoader eval_token_loader(const data::TokenDataConfig& config, const std::vector<std::string>& shards,
                                    int64_t rank, int64_t world_size, bool pin_memory) {
  return data::TokenLoader(shards, loader_options(config, config.eval_batch(), data::TokenOrder::sequential, 0, rank,
                                                  world_size, pin_memory));
}

LanguageModelTask::LanguageModelTask(const RunConfig& config, Generator& generator, int64_t rank, int64_t world_size)
    : config_(config), rank_(rank), world_size_(world_size) {
  const data::TokenDataConfig& d = config.tokens;
  if (d.train.empty()) fail("train", "data.train: no training shards (give the files `strata tokenize` wrote)");
  const data::TokenOrder order = d.sampling == "sequential" ? data::TokenOrder::sequential : data::TokenOrder::random;
  loader_ = std::make_unique<data::TokenLoader>(
      d.train, loader_options(d, d.batch_size, order, uint64_t(config.train.seed), rank, world_size,
                              trains_on_gpu(config)));
  if (loader_->batches_per_epoch() == 0) {
    fail("train", "data.batch_size {} x {} ranks windows of {} tokens do not fit the {} training tokens of {}",
         d.batch_size, world_size, d.context, loader_->num_tokens(), d.train.front());
  }
  std::unique_ptr<Model> model = build_model(config, {}, &generator);
  model_.reset(static_cast<Gpt2*>(model.release()));
}

MicroBatchLoss LanguageModelTask::next_loss() {
  data::TokenBatch batch = loader_->next();
  const int64_t n = batch.targets.numel();
  const Device device = config_.train.device;
  const Tensor logits = model_->forward(batch.inputs.to(device)).reshape({n, model_->config().vocab_size});
  const Tensor targets = batch.targets.to(device).reshape({n});
  MicroBatchLoss out;
  out.loss = cross_entropy(logits, targets);
  out.items = n;
  {
    NoGradGuard no_grad;
    out.correct = count_correct(logits, targets);
  }
  out.position = {batch.epoch, batch.index};
  return out;
}

std::optional<EvalResult> LanguageModelTask::evaluate(Communicator& communicator, const std::function<bool()>& abort,
                                                      bool final) {
  if (!can_evaluate()) return std::nullopt;
  data::TokenLoader loader =
      eval_token_loader(config_.tokens, config_.tokens.val, rank_, world_size_, trains_on_gpu(config_));
  return strata::evaluate(*model_, loader, communicator, abort, final ? 0 : config_.tokens.eval_batches);
}

std::string LanguageModelTask::describe_data() const {
  const data::TokenDataConfig& d = config_.tokens;
  return fmt::format("{}{}: {} tokens, {} batches of {} x {} tokens per epoch{}", d.train.front(),
                     d.train.size() > 1 ? fmt::format(" (+{} shards)", d.train.size() - 1) : "",
                     loader_->num_tokens(), loader_->batches_per_epoch(), d.batch_size, d.context,
                     world_size_ > 1 ? fmt::format(" on each of {} ranks", world_size_) : "");
}

}  // namespace strata
