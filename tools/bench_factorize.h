#pragma once
// `strata bench factorize`: the BLAST paper's factorization experiment. A
// random BLAST target W* (256 x 256, b = 4 blocks, true rank r* = 8) is
// factorized with an over-specified rank (32) by plain GD and by PrecGD with
// the same iteration budget; prints the relative error ||W* - W_hat||/||W*||
// after every iteration (table, or JSON lines {method, iter, rel_error}).
#include <cstdint>

namespace strata::tools {

struct BenchFactorizeOptions {
  bool json = false;
  int64_t iterations = 300;
  int64_t size = 256;
  int64_t blocks = 4;
  int64_t true_rank = 8;
  int64_t rank = 32;
  double lr = 1.0;      // blast_factorize's defaults
  double delta = 0.1;
  uint64_t seed = 0;
  int64_t print_every = 10;  // table rows (JSON has every iteration)
};

int run_bench_factorize(const BenchFactorizeOptions& options);

}  // namespace strata::tools
