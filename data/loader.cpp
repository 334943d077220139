#include "data/loader.h"

#include <algorithm>

#include "data/random_stream.h"

namespace strata::data {

namespace {

constexpr const char* kWho = "Loader";

SamplerOptions sampler_options(const LoaderOptions& o) {
  return {o.batch_size, o.shuffle, o.drop_last, o.seed, o.rank, o.world_size};
}

// Checks the options against the dataset before anything is built from them.
const LoaderOptions& checked(const LoaderOptions& options, const Dataset& dataset) {
  dataset.validate();
  if (dataset.size() == 0) fail(kWho, "dataset {} is empty", dataset.name);
  if (options.workers < 0) fail(kWho, "workers must be >= 0, got {}", options.workers);
  if (options.prefetch < 1) fail(kWho, "prefetch must be >= 1, got {}", options.prefetch);
  options.augment.validate(dataset.channels(), dataset.height(), dataset.width());
  return options;
}

// Stream ids: the epoch in the high bits, so (epoch, position) pairs never collide.
uint64_t sample_stream(int64_t epoch, int64_t position) { return (uint64_t(epoch) << 40) | uint64_t(position); }
uint64_t batch_stream(int64_t epoch, int64_t batch, const LoaderOptions& o) {
  return (uint64_t(epoch) << 32) | uint64_t(batch * o.world_size + o.rank);
}

}  // namespace

Loader::Loader(Dataset dataset, LoaderOptions options, LoaderPosition start)
    : dataset_(std::move(dataset)),
      options_(checked(options, dataset_)),
      sampler_(dataset_.size(), sampler_options(options_)),
      normalizer_(options_.augment, dataset_.channels()) {
  seek(start);
}

Loader::~Loader() { stop_workers(); }

LoaderPosition Loader::position() const {
  std::lock_guard lock(mutex_);
  return {next_deliver_ / batches_per_epoch(), next_deliver_ % batches_per_epoch()};
}

void Loader::seek(LoaderPosition position) {
  if (position.epoch < 0 || position.batch < 0 || position.batch >= batches_per_epoch()) {
    fail(kWho, "position (epoch {}, batch {}) out of range: an epoch has {} batches", position.epoch, position.batch,
         batches_per_epoch());
  }
  stop_workers();
  ready_.clear();
  next_claim_ = next_deliver_ = position.epoch * batches_per_epoch() + position.batch;
  start_workers();
}

Batch Loader::next() {
  if (threads_.empty()) return build(next_deliver_++);
  Slot slot;
  {
    std::unique_lock lock(mutex_);
    ready_cv_.wait(lock, [&] { return ready_.count(next_deliver_) > 0; });
    slot = std::move(ready_.extract(next_deliver_).mapped());
    ++next_deliver_;
  }
  work_cv_.notify_all();
  if (slot.error) std::rethrow_exception(slot.error);
  return std::move(slot.batch);
}

Batch Loader::batch_at(LoaderPosition position) const {
  if (position.epoch < 0 || position.batch < 0 || position.batch >= batches_per_epoch()) {
    fail(kWho, "position (epoch {}, batch {}) out of range", position.epoch, position.batch);
  }
  return build(position.epoch * batches_per_epoch() + position.batch);
}

void Loader::start_workers() {
  for (int64_t w = 0; w < options_.workers; ++w) threads_.emplace_back([this] { work(); });
}

void Loader::stop_workers() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  stop_ = false;
}

void Loader::work() {
  while (true) {
    int64_t step;
    {
      std::unique_lock lock(mutex_);
      // Bounded: never more than `prefetch` batches ahead of the consumer.
      work_cv_.wait(lock, [&] { return stop_ || next_claim_ < next_deliver_ + options_.prefetch; });
      if (stop_) return;
      step = next_claim_++;
    }
    Slot slot;
    try {
      slot.batch = build(step);
    } catch (...) {
      slot.error = std::current_exception();
    }
    {
      std::lock_guard lock(mutex_);
      ready_.emplace(step, std::move(slot));
    }
    ready_cv_.notify_all();
  }
}

std::shared_ptr<const std::vector<int64_t>> Loader::permutation(int64_t epoch) const {
  std::lock_guard lock(perm_mutex_);
  if (auto it = perms_.find(epoch); it != perms_.end()) return it->second;
  auto perm = std::make_shared<const std::vector<int64_t>>(sampler_.permutation(epoch));
  perms_[epoch] = perm;
  // Workers run at most `prefetch` batches ahead, so only the current and
  // next epochs are in use; drop older ones first (a dropped one is simply
  // recomputed, identically, if asked for again).
  while (perms_.size() > 3) perms_.erase(perms_.begin()->first < epoch ? perms_.begin() : std::prev(perms_.end()));
  return perm;
}

Batch Loader::build(int64_t step) const {
  const int64_t epoch = step / batches_per_epoch(), index = step % batches_per_epoch();
  const std::shared_ptr<const std::vector<int64_t>> perm = permutation(epoch);
  const Sampler::Range range = sampler_.positions(index);
  const AugmentOptions& aug = options_.augment;
  const int64_t n = range.end - range.begin, c = dataset_.channels(), h = dataset_.height(), w = dataset_.width();
  const int64_t oh = output_height(aug, h), ow = output_width(aug, w), k = dataset_.num_classes;

  Batch batch;
  batch.epoch = epoch;
  batch.index = index;
  batch.images = empty({n, c, oh, ow}, {DType::f32, Device::cpu(), options_.pin_memory});
  batch.labels = empty({n}, {DType::i64});
  batch.targets = empty({n, k}, {DType::f32, Device::cpu(), options_.pin_memory});
  batch.indices = empty({n}, {DType::i64});
  const uint8_t* src = dataset_.images.data<uint8_t>();
  const int64_t* all_labels = dataset_.labels.data<int64_t>();
  float* images = batch.images.data<float>();
  int64_t* labels = batch.labels.data<int64_t>();
  int64_t* indices = batch.indices.data<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t position = range.begin + i, sample = (*perm)[size_t(position)];
    indices[i] = sample;
    labels[i] = all_labels[sample];
    RandomStream rng(options_.seed, RandomPurpose::sample, sample_stream(epoch, position));
    const SampleTransform t = draw_transform(aug, h, w, rng);
    transform_sample(src + sample * c * h * w, c, h, w, aug, t, normalizer_, images + i * c * oh * ow);
  }
  MixResult mix;
  if (aug.mixing()) {
    RandomStream rng(options_.seed, RandomPurpose::batch, batch_stream(epoch, index, options_));
    mix = mix_batch(aug, images, n, c, oh, ow, rng);
  }
  batch.mixed = mix.mixed;
  batch.lambda = mix.lambda;
  write_targets(labels, n, k, mix, aug.label_smoothing, batch.targets.data<float>());
  return batch;
}

}  // namespace strata::data
