#include "tools/bench_factorize.h"

#include <fmt/format.h>

#include <chrono>
#include <vector>

#include "core/random.h"
#include "layers/blast_factorize.h"

namespace strata::tools {

namespace {

struct Run {
  const char* method;
  BlastFactorization result;
  double seconds;
};

Run factorize(const char* method, const Tensor& target, const BenchFactorizeOptions& o, bool precondition) {
  BlastFactorizeOptions f;
  f.iterations = o.iterations;
  f.precondition = precondition;
  f.lr = o.lr;
  f.delta = o.delta;
  f.seed = o.seed + 1;
  auto t0 = std::chrono::steady_clock::now();
  BlastFactorization result = blast_factorize(target, o.blocks, o.rank, f);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return {method, std::move(result), seconds};
}

}  // namespace

int run_bench_factorize(const BenchFactorizeOptions& o) {
  if (o.size % o.blocks != 0) fail("bench factorize", "{} blocks do not divide size {}", o.blocks, o.size);
  const int64_t b = o.blocks, p = o.size / b;
  Generator gen(o.seed);
  const TensorOptions f64{DType::f64};
  Tensor U = randn({b, p, o.true_rank}, f64, &gen), V = randn({b, p, o.true_rank}, f64, &gen),
         s = randn({b, b, o.true_rank}, f64, &gen);
  Tensor target = blast_dense(U, V, s);

  std::vector<Run> runs;
  runs.push_back(factorize("gd", target, o, /*precondition=*/false));
  runs.push_back(factorize("precgd", target, o, /*precondition=*/true));

  if (o.json) {
    for (const Run& r : runs) {
      for (size_t t = 0; t < r.result.rel_errors.size(); ++t) {
        fmt::print("{{\"method\": \"{}\", \"iter\": {}, \"rel_error\": {:.6e}}}\n", r.method, t + 1,
                   r.result.rel_errors[t]);
      }
    }
    return 0;
  }
  fmt::print("strata bench factorize: {0}x{0} BLAST target, b = {1}, true rank {2}, fitted rank {3}, {4} iterations\n",
             o.size, b, o.true_rank, o.rank, o.iterations);
  fmt::print("{:>6} {:>12} {:>12}\n", "iter", "gd", "precgd");
  const int64_t T = o.iterations;
  for (int64_t t = 1; t <= T; ++t) {
    if (t != 1 && t % o.print_every != 0 && t != T) continue;
    fmt::print("{:>6} {:>12.3e} {:>12.3e}\n", t, runs[0].result.rel_errors[size_t(t - 1)],
               runs[1].result.rel_errors[size_t(t - 1)]);
  }
  for (const Run& r : runs) {
    fmt::print("{:<7} final relative error {:.3e} ({:.2f} s)\n", r.method, r.result.rel_error, r.seconds);
  }
  return 0;
}

}  // namespace strata::tools
