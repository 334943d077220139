// The MLP demo. Data: K = 3 interleaved spirals (the CS231n toy problem),
//   r = i / (N-1),  t = 4k + 4r + 0.2 n,  x = (r sin t, r cos t),  label k,
// for i < N points per class k, with n ~ N(0, 1) drawn from the seed.
// Not linearly separable: a linear classifier gets about 50%, the MLP > 95%.
#include "tools/demo_mlp.h"

#include <fmt/format.h>
#include <omp.h>

#include <chrono>
#include <cmath>
#include <numeric>
#include <vector>

#include "autograd/functions.h"
#include "core/ops.h"
#include "core/random.h"
#include "layers/mlp.h"
#include "layers/parameter_arena.h"
#include "train/adamw.h"
#include "train/clip.h"
#include "train/schedule.h"

namespace strata::tools {

namespace {

constexpr int64_t kClasses = 3;

struct Dataset {
  Tensor x;  // (n, 2) f32
  Tensor y;  // (n) i64
};

Dataset make_spirals(int64_t per_class, Generator& gen) {
  const int64_t n = per_class * kClasses;
  std::vector<float> noise = randn({n}, {DType::f32}, &gen).to_vector<float>();
  std::vector<float> xs(static_cast<size_t>(n * 2));
  std::vector<int64_t> ys(static_cast<size_t>(n));
  for (int64_t k = 0; k < kClasses; ++k) {
    for (int64_t i = 0; i < per_class; ++i) {
      int64_t row = k * per_class + i;
      double r = per_class > 1 ? double(i) / double(per_class - 1) : 0.0;
      double t = 4.0 * double(k) + 4.0 * r + 0.2 * double(noise[size_t(row)]);
      xs[size_t(2 * row)] = float(r * std::sin(t));
      xs[size_t(2 * row + 1)] = float(r * std::cos(t));
      ys[size_t(row)] = k;
    }
  }
  return {from_vector(xs, {n, 2}), from_vector(ys, {n})};
}

// A seeded Fisher-Yates shuffle of 0..n-1 (Philox uniforms, so any platform agrees).
std::vector<int64_t> permutation(int64_t n, Generator& gen) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), 0);
  std::vector<float> u = rand({n}, {DType::f32}, &gen).to_vector<float>();
  for (int64_t i = n - 1; i > 0; --i) {
    int64_t j = std::min<int64_t>(i, int64_t(double(u[size_t(i)]) * double(i + 1)));
    std::swap(p[size_t(i)], p[size_t(j)]);
  }
  return p;
}

// Fraction of rows whose arg-max logit equals the label.
double accuracy(const Tensor& logits, const Tensor& y) {
  std::vector<int64_t> pred = ops::max(logits, 1).second.to_vector<int64_t>();
  std::vector<int64_t> label = y.to_vector<int64_t>();
  int64_t hits = 0;
  for (size_t i = 0; i < pred.size(); ++i) hits += pred[i] == label[i];
  return double(hits) / double(pred.size());
}

double full_accuracy(MLP& model, const Dataset& data) {
  NoGradGuard no_grad;
  model.eval();
  double acc = accuracy(model.forward(data.x), data.y);
  model.train();
  return acc;
}

// Cycles through seeded epoch permutations, one minibatch at a time.
class Batches {
 public:
  Batches(const Dataset& data, int64_t batch, Generator& gen) : data_(data), batch_(batch), gen_(gen) {}

  std::pair<Tensor, Tensor> next() {
    const int64_t n = data_.y.numel();
    std::vector<int64_t> idx(static_cast<size_t>(batch_));
    for (auto& i : idx) {
      if (pos_ == order_.size()) {
        order_ = permutation(n, gen_);
        pos_ = 0;
      }
      i = order_[pos_++];
    }
    Tensor index = from_vector(idx, {batch_});
    return {ops::index_select(data_.x, 0, index), ops::index_select(data_.y, 0, index)};
  }

 private:
  const Dataset& data_;
  int64_t batch_;
  Generator& gen_;
  std::vector<int64_t> order_;
  size_t pos_ = 0;
};

}  // namespace

int run_mlp_demo(const MlpDemoOptions& o) {
  if (o.threads > 0) omp_set_num_threads(o.threads);
  Generator gen(o.seed);
  Dataset data = make_spirals(o.points_per_class, gen);
  const int64_t n = data.y.numel();

  MLP model(2, o.hidden, kClasses, {.generator = &gen});
  ParameterArena arena(model);
  AdamW opt(arena, {.lr = o.lr, .weight_decay = 1e-4});
  LRSchedule schedule{ScheduleKind::cosine, o.lr, std::min<int64_t>(100, o.steps / 10), o.steps, 0.0};
  Batches batches(data, std::min(o.batch, n), gen);

  fmt::print("demo mlp: {} spiral points in {} classes, MLP 2-{}-{} ({} params), AdamW lr {:g} cosine "
             "(warmup {}), {} steps of batch {}, seed {}, {} threads\n",
             n, kClasses, o.hidden, kClasses, model.num_parameters(), o.lr, schedule.warmup_steps, o.steps,
             std::min(o.batch, n), o.seed, omp_get_max_threads());

  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  auto window_start = start;
  double loss_sum = 0.0;
  int64_t window = 0;
  for (int64_t step = 0; step < o.steps; ++step) {
    auto [x, y] = batches.next();
    opt.zero_grad();
    Tensor loss = cross_entropy(model.forward(x), y);
    loss.backward();
    clip_grad_norm(arena, 1.0);
    opt.set_lr(schedule.lr_at(step));
    opt.step();
    loss_sum += loss.item<double>();
    ++window;

    if ((step + 1) % o.log_every == 0 || step + 1 == o.steps) {
      const auto now = clock::now();
      double seconds = std::chrono::duration<double>(now - window_start).count();
      fmt::print("step {:5d}/{} | loss {:.4f} | lr {:.2e} | train acc {:5.1f}% | {:.0f} samples/s\n", step + 1,
                 o.steps, loss_sum / double(window), opt.lr(), 100.0 * full_accuracy(model, data),
                 double(window * std::min(o.batch, n)) / std::max(seconds, 1e-9));
      loss_sum = 0.0;
      window = 0;
      window_start = clock::now();
    }
  }
  double total = std::chrono::duration<double>(clock::now() - start).count();
  fmt::print("final train accuracy: {:.1f}% on {} points ({:.2f} s)\n", 100.0 * full_accuracy(model, data), n, total);
  return 0;
}

}  // namespace strata::tools
