#pragma once
// TokenLoader: language-modelling batches from token shards (data/token_shard.h).
//
//   TokenBatch.inputs   i64 (B, T)  tokens [s, s + T) of each window
//   TokenBatch.targets  i64 (B, T)  tokens [s + 1, s + T + 1): inputs shifted by one
//
// The shards are read as one stream of N tokens, in the order given (a window
// may run from one shard into the next, as documents inside a shard are
// already separated by <|endoftext|>).
//
// An epoch is W = floor((N - 1) / T) windows of T + 1 tokens, cut into
// batches like data::Sampler cuts samples: global batches of B * world_size
// windows, rank r taking the r-th slice of B.
//
//   sequential  window w starts at w * T: non-overlapping blocks in order, so
//               every token from the second to the (W * T + 1)-th is a target
//               exactly once per epoch over all ranks. The tokens after the
//               last whole block are not predicted (the partial block is
//               dropped): perplexity is over non-overlapping blocks of full
//               context length. The short last global batch is split over
//               the ranks (Sampler without drop_last), so a rank's last batch
//               may hold fewer than B rows. For evaluation.
//   random      every window starts at a uniform position in [0, N - T - 1],
//               drawn from a RandomStream keyed by (seed, epoch, batch, rank)
//               (the image Loader's batch keying); every batch has B rows and
//               each rank floor(W / (B * world_size)) batches per epoch.
//               For training.
//
// Position and resume: next() returns the batch at position() and moves on
// (after an epoch's last batch to batch 0 of the next epoch); a batch depends
// only on (options, epoch, batch), so seek() to a saved LoaderPosition gives
// exactly the batches the original run went on to get. Building a batch is a
// copy of B * (T + 1) tokens: no background threads.
#include <cstdint>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "data/loader.h"
#include "data/sampler.h"
#include "data/token_shard.h"

namespace strata::data {

enum class TokenOrder { random, sequential };

struct TokenLoaderOptions {
  int64_t batch_size = 8;  // B, windows per batch on each rank
  int64_t context = 256;   // T
  TokenOrder order = TokenOrder::random;
  uint64_t seed = 0;
  int64_t rank = 0, world_size = 1;
  bool pin_memory = false;  // batches in pinned memory (training on a GPU)
};

struct TokenBatch {
  Tensor inputs, targets;        // i64 (rows, T); rows == B except a sequential epoch's last batch
  int64_t epoch = 0, index = 0;  // this batch's position
};

class TokenLoader {
 public:
  TokenLoader(const std::vector<std::string>& shard_paths, TokenLoaderOptions options, LoaderPosition start = {});

  TokenBatch next();
  LoaderPosition position() const { return position_; }
  void seek(LoaderPosition position);
  // The batch at a position, independent of the stream.
  TokenBatch batch_at(LoaderPosition position) const;

  int64_t batches_per_epoch() const { return sampler_.batches_per_epoch(); }
  int64_t windows_per_epoch() const { return windows_; }  // W, over all ranks
  int64_t num_tokens() const { return total_; }           // N
  const TokenLoaderOptions& options() const { return options_; }

 private:
  void check(LoaderPosition position) const;
  // Copies tokens [start, start + count) of the stream into out.
  void copy_tokens(int64_t start, int64_t count, int64_t* out) const;
  static Sampler make_sampler(int64_t windows, const TokenLoaderOptions& options);

  std::vector<TokenShard> shards_;
  std::vector<int64_t> shard_begin_;  // stream index of each shard's first token
  int64_t total_ = 0, windows_ = 0;
  TokenLoaderOptions options_;
  Sampler sampler_;
  LoaderPosition position_;
};

}  // namespace strata::data
