#include "data/token_loader.h"

#include <algorithm>

#include "core/error.h"
#include "data/random_stream.h"

namespace strata::data {

namespace {

constexpr const char* kWho = "TokenLoader";

std::vector<TokenShard> open_shards(const std::vector<std::string>& paths) {
  if (paths.empty()) fail(kWho, "no token shards given");
  std::vector<TokenShard> shards;
  for (const std::string& path : paths) shards.emplace_back(path);
  return shards;
}

// Stream index of each shard's first token, and the total at the end.
std::vector<int64_t> shard_offsets(const std::vector<TokenShard>& shards) {
  std::vector<int64_t> begin{0};
  for (const TokenShard& shard : shards) begin.push_back(begin.back() + shard.size());
  return begin;
}

int64_t count_windows(int64_t tokens, const TokenLoaderOptions& o) {
  if (o.context <= 0) fail(kWho, "context must be > 0, got {}", o.context);
  if (o.batch_size <= 0) fail(kWho, "batch_size must be > 0, got {}", o.batch_size);
  const int64_t windows = tokens > 0 ? (tokens - 1) / o.context : 0;
  if (windows == 0) fail(kWho, "{} tokens hold no window of context {} + 1 tokens", tokens, o.context);
  return windows;
}

// Same stream id as the image Loader's per-batch randomness.
uint64_t batch_stream(int64_t epoch, int64_t batch, const TokenLoaderOptions& o) {
  return (uint64_t(epoch) << 32) | uint64_t(batch * o.world_size + o.rank);
}

}  // namespace

Sampler TokenLoader::make_sampler(int64_t windows, const TokenLoaderOptions& o) {
  const bool random = o.order == TokenOrder::random;
  if (random && windows < o.batch_size * o.world_size) {
    fail(kWho, "{} windows of {} tokens make no batch of {} on each of {} ranks", windows, o.context + 1,
         o.batch_size, o.world_size);
  }
  return Sampler(windows, SamplerOptions{.batch_size = o.batch_size,
                                         .shuffle = false,
                                         .drop_last = random,
                                         .seed = o.seed,
                                         .rank = o.rank,
                                         .world_size = o.world_size});
}

TokenLoader::TokenLoader(const std::vector<std::string>& shard_paths, TokenLoaderOptions options,
                         LoaderPosition start)
    : shards_(open_shards(shard_paths)),
      shard_begin_(shard_offsets(shards_)),
      total_(shard_begin_.back()),
      windows_(count_windows(total_, options)),
      options_(options),
      sampler_(make_sampler(windows_, options)) {
  seek(start);
}

void TokenLoader::check(LoaderPosition p) const {
  if (p.epoch < 0 || p.batch < 0 || p.batch >= batches_per_epoch()) {
    fail(kWho, "position (epoch {}, batch {}) out of range: {} batches per epoch", p.epoch, p.batch,
         batches_per_epoch());
  }
}

void TokenLoader::seek(LoaderPosition position) {
  check(position);
  position_ = position;
}

TokenBatch TokenLoader::next() {
  TokenBatch batch = batch_at(position_);
  if (++position_.batch == batches_per_epoch()) position_ = {position_.epoch + 1, 0};
  return batch;
}

TokenBatch TokenLoader::batch_at(LoaderPosition p) const {
  check(p);
  const int64_t t = options_.context;
  std::vector<int64_t> starts;
  if (options_.order == TokenOrder::sequential) {
    const Sampler::Range range = sampler_.positions(p.batch);
    for (int64_t w = range.begin; w < range.end; ++w) starts.push_back(w * t);
  } else {
    RandomStream rng(options_.seed, RandomPurpose::batch, batch_stream(p.epoch, p.batch, options_));
    for (int64_t i = 0; i < options_.batch_size; ++i) starts.push_back(rng.below(total_ - t));
  }

  const auto rows = int64_t(starts.size());
  const TensorOptions options{DType::i64, Device::cpu(), options_.pin_memory};
  TokenBatch batch{empty({rows, t}, options), empty({rows, t}, options), p.epoch, p.batch};
  int64_t* inputs = batch.inputs.data<int64_t>();
  int64_t* targets = batch.targets.data<int64_t>();
  std::vector<int64_t> window(size_t(t + 1));
  for (int64_t i = 0; i < rows; ++i) {
    copy_tokens(starts[size_t(i)], t + 1, window.data());
    std::copy(window.begin(), window.end() - 1, inputs + i * t);
    std::copy(window.begin() + 1, window.end(), targets + i * t);
  }
  return batch;
}

void TokenLoader::copy_tokens(int64_t start, int64_t count, int64_t* out) const {
  // The shard holding `start`: the last one beginning at or before it.
  auto shard = size_t(std::upper_bound(shard_begin_.begin(), shard_begin_.end(), start) - shard_begin_.begin() - 1);
  while (count > 0) {
    const std::span<const uint16_t> tokens = shards_[shard].tokens();
    const int64_t offset = start - shard_begin_[shard];
    const int64_t n = std::min(count, int64_t(tokens.size()) - offset);
    std::copy(tokens.begin() + offset, tokens.begin() + offset + n, out);
    out += n, start += n, count -= n;
    ++shard;
  }
}

}  // namespace strata::data
