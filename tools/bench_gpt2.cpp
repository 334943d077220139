#include "tools/bench_gpt2.h"

#include <fmt/format.h>
#include <omp.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

#include "config/config.h"
#include "core/allocator.h"
#include "core/autocast.h"
#include "core/backend.h"
#ifdef STRATA_HAS_CUDA
#include "core/cuda/cuda_api.h"
#endif
#include "models/gpt2.h"
#include "train/adamw.h"

namespace strata::tools {

namespace {

Gpt2Config gpt2_small(const BenchGpt2Options& o) {
  config::Document doc = config::Document::parse("model:\n  name: gpt2\n", "bench gpt2 (GPT-2 small)");
  for (const std::string& assignment : o.overrides) doc.apply_override(assignment);
  config::Section model = config::Section(doc).section("model");
  return read_gpt2_config(model);
}

// The dense bf16 tensor-core peak of the cards we know (SXM parts), in
// TFLOP/s; 0 when unknown. A PCIe H100 peaks lower (756): pass --peak-tflops.
double known_peak_tflops(Device device) {
#ifdef STRATA_HAS_CUDA
  if (device.type != DeviceType::cuda) return 0.0;
  for (const cuda::DeviceInfo& d : cuda::list_devices()) {
    if (d.index != device.index) continue;
    if (d.name.find("H100") != std::string::npos || d.name.find("H200") != std::string::npos) return 989.4;
    if (d.name.find("A100") != std::string::npos) return 312.0;
  }
#else
  (void)device;
#endif
  return 0.0;
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return double(usage.ru_maxrss) / 1024.0;
}

}  // namespace

int run_bench_gpt2(const BenchGpt2Options& o) {
  if (o.threads > 0) omp_set_num_threads(o.threads);
  const std::optional<Device> device = parse_device(o.device);
  if (!device) fail("bench gpt2", "--device {}: expected cpu, cuda or cuda:N", o.device);
  const std::optional<Precision> precision = parse_precision(o.precision);
  if (!precision) fail("bench gpt2", "--precision {}: expected f32 or bf16", o.precision);
  const Gpt2Config config = gpt2_small(o);
  if (o.context > config.context) fail("bench gpt2", "--context {} exceeds the model's {}", o.context, config.context);
  Generator gen(0);
  Gpt2 model(config, {.generator = &gen});
  model.to(*device);
  model.train();
  ParameterArena arena(model);
  AdamW optimizer(arena, {.lr = 6e-4, .weight_decay = 0.1});
  Tensor tokens = ops::mul_scalar(rand({o.batch, o.context + 1}, {DType::f64}, &gen), double(config.vocab_size) - 1e-6)
                      .to(DType::i64);
  const Tensor inputs = tokens.slice(1, 0, o.context).contiguous().to(*device);
  const Tensor targets = tokens.slice(1, 1, o.context + 1).contiguous().to(*device);

  // Initialisation temporaries (f64 draws) are not part of a training step.
  Allocator& allocator = backend_for(*device).allocator();
  allocator.empty_cache();
  allocator.reset_peak();
  const size_t model_bytes = allocator.stats().bytes_in_use;
  const Autocast autocast(*precision);
  std::vector<double> seconds;
  for (int step = 0; step <= o.steps; ++step) {
    const auto start = std::chrono::steady_clock::now();
    optimizer.zero_grad();
    model.loss(inputs, targets).backward();
    optimizer.step();
    synchronize(*device);
    if (step > 0) seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(seconds.begin(), seconds.end());
  const double step_s = seconds[seconds.size() / 2];
  const double tokens_per_s = double(o.batch * o.context) / step_s;
  // Forward FLOPs per token of a context-long sequence (strata info's
  // convention), x3 for the backward.
  const double per_token = 3.0 * double(model.flops_per_sample()) / double(config.context);
  const double tflops = tokens_per_s * per_token / 1e12;
  const double peak = o.peak_tflops > 0.0 ? o.peak_tflops : known_peak_tflops(*device);
  const double mfu = peak > 0.0 ? tflops / peak : std::nan("");
  const int threads = o.threads > 0 ? o.threads : omp_get_max_threads();
  const AllocatorStats memory = allocator.stats();
  fmt::print("tensors on {}: {:.0f} MiB after set-up (weights, gradients, AdamW state), {:.0f} MiB at the peak, "
             "{:.0f} MiB reserved\n",
             device->str(), double(model_bytes) / 1048576.0, double(memory.peak_bytes_in_use) / 1048576.0,
             double(memory.bytes_reserved) / 1048576.0);
  if (o.json) {
    fmt::print("{{\"device\": \"{}\", \"precision\": \"{}\", \"batch\": {}, \"context\": {}, \"threads\": {}, "
               "\"params\": {}, \"step_s\": {:.4f}, \"tok_per_s\": {:.1f}, \"gflops\": {:.1f}, \"mfu\": {}, "
               "\"peak_rss_mib\": {:.0f}, \"peak_tensor_mib\": {:.0f}}}\n",
               device->str(), precision_name(*precision), o.batch, o.context, threads, model.num_parameters(), step_s,
               tokens_per_s, tflops * 1e3, std::isnan(mfu) ? std::string("null") : fmt::format("{:.4f}", mfu),
               peak_rss_mib(), double(memory.peak_bytes_in_use) / 1048576.0);
  } else {
    fmt::print("strata, {} {}, {} threads, B={} T={}: {} params, median step {:.3f} s, {:.1f} tok/s, {:.1f} GFLOP/s{}, "
               "peak RSS {:.0f} MiB\n",
               device->str(), precision_name(*precision), threads, o.batch, o.context, model.num_parameters(), step_s,
               tokens_per_s, tflops * 1e3,
               std::isnan(mfu) ? std::string() : fmt::format(", MFU {:.1f}% of {:.0f} TFLOP/s", 100.0 * mfu, peak),
               peak_rss_mib());
  }
  return 0;
}

}  // namespace strata::tools
