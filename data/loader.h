#pragma once
// Loader: batches of a Dataset, prepared by background threads.
//
//   Batch.images   f32 (B, C, OH, OW)  normalised, augmented, possibly mixed
//   Batch.labels   i64 (B)             each sample's own label
//   Batch.targets  f32 (B, K)          soft targets, rows sum to 1 (augment.h):
//                                      one-hot, smoothed and/or mixed
//   Batch.indices  i64 (B)             dataset index of each sample
//
// Order and randomness: the Sampler fixes which samples a batch holds (per-
// epoch shuffle, sharding by rank); each sample's crop and flip come from a
// RandomStream keyed by (seed, epoch, its position in the epoch), each batch's
// mixing from one keyed by (seed, epoch, batch, rank). So the batches are the
// same for any number of worker threads, and a Loader started at a saved
// LoaderPosition produces exactly the batches that the original run went on to
// produce.
//
// The stream of batches is endless: after an epoch's last batch next() goes
// on with batch 0 of the next epoch; Batch.epoch / Batch.index say where each
// one came from, and batches_per_epoch() where epochs end.
//
// Threads: `workers` threads claim batches in order and put them in a bounded
// reorder buffer (at most `prefetch` batches ahead of the consumer); next()
// hands them out in order. Errors in a worker are rethrown by next() for the
// batch that failed. The destructor stops and joins the threads. With
// workers == 0 next() prepares each batch itself.
#include <compare>
#include <condition_variable>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "data/augment.h"
#include "data/dataset.h"
#include "data/sampler.h"

namespace strata::data {

struct LoaderOptions {
  int64_t batch_size = 128;
  bool shuffle = true;
  bool drop_last = false;
  uint64_t seed = 0;
  int64_t rank = 0, world_size = 1;
  int64_t workers = 2;   // background threads; 0: prepare in next()
  int64_t prefetch = 4;  // batches prepared ahead of the consumer, >= 1
  bool pin_memory = false;  // images and targets in pinned memory (training on a GPU)
  AugmentOptions augment;
};

// Where a stream of batches stands: the next batch next() returns. Saved in
// checkpoints; restoring it resumes the exact sequence of batches.
struct LoaderPosition {
  int64_t epoch = 0;
  int64_t batch = 0;
  auto operator<=>(const LoaderPosition&) const = default;
};

struct Batch {
  Tensor images, labels, targets, indices;
  int64_t epoch = 0, index = 0;  // this batch's position
  bool mixed = false;
  double lambda = 1.0;  // mixing weight of each sample's own image (1: not mixed)
};

class Loader {
 public:
  Loader(Dataset dataset, LoaderOptions options, LoaderPosition start = {});
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  Batch next();
  LoaderPosition position() const;
  void seek(LoaderPosition position);  // restarts the workers there

  int64_t batches_per_epoch() const { return sampler_.batches_per_epoch(); }
  int64_t samples_per_epoch() const { return sampler_.samples_per_epoch(); }
  const Dataset& dataset() const { return dataset_; }
  const LoaderOptions& options() const { return options_; }

  // The batch at a position, prepared on the calling thread, independent of
  // the stream (for tests and tools).
  Batch batch_at(LoaderPosition position) const;

 private:
  struct Slot {
    Batch batch;
    std::exception_ptr error;
  };

  Batch build(int64_t step) const;
  std::shared_ptr<const std::vector<int64_t>> permutation(int64_t epoch) const;
  void start_workers();
  void stop_workers();
  void work();

  Dataset dataset_;
  LoaderOptions options_;
  Sampler sampler_;
  Normalizer normalizer_;

  // Steps count batches from (0, 0): step = epoch * batches_per_epoch + batch.
  mutable std::mutex mutex_;
  std::condition_variable work_cv_, ready_cv_;
  int64_t next_claim_ = 0, next_deliver_ = 0;
  std::map<int64_t, Slot> ready_;
  bool stop_ = false;
  std::vector<std::thread> threads_;

  // A few recent epochs' permutations, shared by the workers.
  mutable std::mutex perm_mutex_;
  mutable std::map<int64_t, std::shared_ptr<const std::vector<int64_t>>> perms_;
};

}  // namespace strata::data
