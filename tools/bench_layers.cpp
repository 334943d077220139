#include "tools/bench_layers.h"

#include <fmt/format.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <vector>

#include "autograd/functions.h"
#include "core/autocast.h"
#include "core/backend.h"
#include "layers/linear_spec.h"

namespace strata::tools {

namespace {

struct Shape2 {
  int64_t in, out;
};

// The structures and the extra spec keys each is benchmarked with (blocks
// as in the papers' ViT settings).
struct Structure {
  const char* type;
  int64_t blocks;
};
constexpr Structure kStructures[] = {
    {"low_rank", 0}, {"block_diagonal", 0}, {"monarch", 4}, {"gblr", 0}, {"blast", 3},
};
constexpr double kRatios[] = {1.0, 0.5, 0.25};

struct Timing {
  double fwd_ms = 0, fwd_bwd_ms = 0;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The median of `repeats` runs of f after one warm-up, each waiting for the
// device to finish (GPU work is queued asynchronously).
template <typename F>
double time_ms(Device device, int repeats, F f) {
  f();  // warm-up: fills the allocator cache and the caches
  synchronize(device);
  std::vector<double> runs;
  for (int i = 0; i < repeats; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    synchronize(device);
    runs.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return median(runs);
}

// Forward alone (no graph), then forward + backward with input and weight
// gradients, driven by a fixed upstream gradient.
Timing time_layer(StructuredLinear& layer, Device device, int64_t tokens, int repeats) {
  Generator gen(1);
  layer.to(device);
  Tensor x = randn({tokens, layer.in_features()}, {}, &gen).to(device);
  Tensor dy = randn({tokens, layer.out_features()}, {}, &gen).to(device);
  Timing t;
  t.fwd_ms = time_ms(device, repeats, [&] {
    NoGradGuard no_grad;
    layer.forward(x);
  });
  x.requires_grad_();
  t.fwd_bwd_ms = time_ms(device, repeats, [&] {
    layer.zero_grad();
    x.set_grad(Tensor());
    layer.forward(x).backward(dy);
  });
  return t;
}

struct Row {
  std::string structure, spec;
  Shape2 shape;
  double flops_ratio;
  int64_t params, flops;
  Timing timing;
  double dense_fwd_bwd_ms;
};

void print_json(const Row& r, int64_t tokens, Device device, Precision precision) {
  fmt::print(
      "{{\"device\": \"{}\", \"precision\": \"{}\", \"structure\": \"{}\", \"spec\": \"{}\", \"in\": {}, \"out\": {}, \"tokens\": {}, \"flops_ratio\": {}, "
      "\"params\": {}, \"gflops\": {:.4f}, \"fwd_ms\": {:.3f}, \"fwd_bwd_ms\": {:.3f}, \"dense_fwd_bwd_ms\": {:.3f}, "
      "\"fwd_bwd_gflops_per_s\": {:.1f}, \"time_ratio\": {:.3f}}}\n",
      device.str(), precision_name(precision), r.structure, r.spec, r.shape.in, r.shape.out, tokens, r.flops_ratio, r.params, double(r.flops) * 1e-9,
      r.timing.fwd_ms, r.timing.fwd_bwd_ms, r.dense_fwd_bwd_ms, 3.0 * double(r.flops) / r.timing.fwd_bwd_ms * 1e-6,
      r.timing.fwd_bwd_ms / r.dense_fwd_bwd_ms);
}

void print_table_row(const Row& r) {
  fmt::print("{:<15} {:>4}->{:<5} {:>5.2f} {:<22} {:>9} {:>7.3f} {:>8.2f} {:>10.2f} {:>9.0f} {:>7.2f}\n",
             r.structure, r.shape.in, r.shape.out, r.flops_ratio, r.spec, r.params, double(r.flops) * 1e-9,
             r.timing.fwd_ms, r.timing.fwd_bwd_ms, 3.0 * double(r.flops) / r.timing.fwd_bwd_ms * 1e-6,
             r.timing.fwd_bwd_ms / r.dense_fwd_bwd_ms);
}

// "b=3 r=190", leaving out what the structure does not use.
std::string describe(const LinearSpec& s) {
  std::vector<std::string> parts;
  if (s.blocks) parts.push_back(fmt::format("b={}", s.blocks));
  if (s.rank) parts.push_back(fmt::format("r={}", s.rank));
  return parts.empty() ? s.type : fmt::format("{}", fmt::join(parts, " "));
}

}  // namespace

int run_bench_layers(const BenchLayersOptions& o) {
  if (o.threads > 0) omp_set_num_threads(o.threads);
  const std::optional<Device> parsed_device = parse_device(o.device);
  if (!parsed_device) fail("bench layers", "--device {}: expected cpu, cuda or cuda:N", o.device);
  const Device device = *parsed_device;
  const std::optional<Precision> precision = parse_precision(o.precision);
  if (!precision) fail("bench layers", "--precision {}: expected f32 or bf16", o.precision);
  const Autocast autocast(*precision);
  if (!o.json) {
    fmt::print("strata bench layers: {} tokens on {} in {}, {} threads, median of {} runs\n", o.tokens, device.str(),
               precision_name(*precision), omp_get_max_threads(), o.repeats);
    fmt::print("{:<15} {:>10} {:>5} {:<22} {:>9} {:>7} {:>8} {:>10} {:>9} {:>7}\n", "structure", "shape", "ratio",
               "size", "params", "GFLOPs", "fwd ms", "fwd+bwd ms", "GFLOP/s", "vs dense");
  }
  for (Shape2 shape : {Shape2{768, 768}, Shape2{768, 3072}}) {
    Linear dense(shape.in, shape.out);
    Row base{"dense", "dense", shape, 1.0, dense.num_params(), dense.flops(o.tokens), time_layer(dense, device, o.tokens, o.repeats), 0};
    base.dense_fwd_bwd_ms = base.timing.fwd_bwd_ms;
    o.json ? print_json(base, o.tokens, device, *precision) : print_table_row(base);
    for (const Structure& st : kStructures) {
      for (double ratio : kRatios) {
        LinearSpec spec;
        spec.type = st.type;
        spec.blocks = st.blocks;
        spec.flops_ratio = ratio;
        LinearSpec resolved;
        std::unique_ptr<StructuredLinear> layer;
        try {
          resolved = resolve_linear_spec(spec, shape.in, shape.out);
          layer = make_linear(resolved, shape.in, shape.out);
        } catch (const Error& e) {
          if (!o.json) fmt::print("{:<15} {:>4}->{:<5} {:>5.2f} skipped: {}\n", st.type, shape.in, shape.out, ratio, e.what());
          continue;
        }
        Row r{st.type, describe(resolved), shape, ratio, layer->num_params(), layer->flops(o.tokens),
              time_layer(*layer, device, o.tokens, o.repeats), base.dense_fwd_bwd_ms};
        o.json ? print_json(r, o.tokens, device, *precision) : print_table_row(r);
      }
    }
  }
  return 0;
}

}  // namespace strata::tools
