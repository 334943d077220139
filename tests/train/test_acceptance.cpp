// Acceptance tests of the training stack (MLP + ParameterArena + AdamW +
// clip_grad_norm): it fits a fixed batch, allocates nothing new from the
// system after warm-up, and gives bit-identical weights with 1 and 2 threads.
#include <gtest/gtest.h>
#include <omp.h>

#include <cstring>

#include "autograd/functions.h"
#include "core/allocator.h"
#include "layers/mlp.h"
#include "layers/parameter_arena.h"
#include "train/adamw.h"
#include "train/clip.h"

namespace strata {
namespace {

// A seeded MLP classifier with its arena and optimizer, and a fixed batch.
struct Training {
  Generator gen;
  MLP model;
  ParameterArena arena;
  AdamW opt;
  Tensor x, y;

  Training(int64_t in, int64_t hidden, int64_t classes, int64_t batch, uint64_t seed, AdamWOptions o)
      : gen(seed), model(in, hidden, classes, {.generator = &gen}), arena(model), opt(arena, o) {
    x = randn({batch, in}, {}, &gen);
    std::vector<int64_t> labels(static_cast<size_t>(batch));
    for (int64_t i = 0; i < batch; ++i) labels[size_t(i)] = (i * 7 + 3) % classes;
    y = from_vector(labels, {batch});
  }

  double step() {
    opt.zero_grad();
    Tensor loss = cross_entropy(model.forward(x), y);
    loss.backward();
    clip_grad_norm(arena, 1.0);
    opt.step();
    return loss.item<double>();
  }
};

TEST(Acceptance, MlpFitsAFixedBatch) {
  Training s(8, 64, 4, 16, 1, {.lr = 1e-2, .weight_decay = 0.0});
  double first = s.step(), loss = first;
  for (int i = 0; i < 400 && loss >= 1e-3; ++i) loss = s.step();
  EXPECT_GT(first, 1.0);
  EXPECT_LT(loss, 1e-3);
}

TEST(Acceptance, NoSystemAllocationsAfterWarmup) {
  Training s(16, 64, 4, 32, 2, {.lr = 1e-3});
  s.step();
  s.step();
  const uint64_t before = cpu_allocator().stats().system_allocs;
  for (int i = 3; i <= 10; ++i) s.step();
  const uint64_t after = cpu_allocator().stats().system_allocs;
  EXPECT_EQ(after, before) << "training steps 3..10 took " << (after - before) << " new blocks from the system";
}

// Trains with `threads` OpenMP threads and returns the final parameters by
// name. Sizes are above the core's parallel grain, so loops really split.
std::vector<std::pair<std::string, std::vector<float>>> train_with_threads(int threads) {
  omp_set_num_threads(threads);
  Training s(64, 512, 10, 128, 3, {.lr = 1e-3, .weight_decay = 0.1});
  for (int i = 0; i < 5; ++i) s.step();
  std::vector<std::pair<std::string, std::vector<float>>> out;
  for (const auto& seg : s.arena.segments()) out.emplace_back(seg.name, seg.param.to_vector<float>());
  return out;
}

TEST(Acceptance, OneAndTwoThreadsGiveIdenticalWeights) {
  const int saved = omp_get_max_threads();
  auto one = train_with_threads(1);
  auto two = train_with_threads(2);
  omp_set_num_threads(saved);
  ASSERT_EQ(one.size(), two.size());
  for (size_t i = 0; i < one.size(); ++i) {
    const auto& a = one[i].second;
    const auto& b = two[i].second;
    ASSERT_EQ(a.size(), b.size());
    size_t differ = 0;
    for (size_t j = 0; j < a.size(); ++j) differ += std::memcmp(&a[j], &b[j], sizeof(float)) != 0;
    EXPECT_EQ(differ, 0u) << one[i].first << ": " << differ << " of " << a.size()
                          << " elements differ between 1 and 2 threads";
  }
}

}  // namespace
}  // namespace strata
