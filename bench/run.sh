#!/usr/bin/env bash
# Builds strata_bench (Release) and runs it, then bench/torch_ops.py, with the
# same thread count and environment, and prints the tables of bench/README.md.
#
#   bench/run.sh                     # 2 threads, build/ , results in build/bench/results
#   OMP_NUM_THREADS=1 BUILD=build-bench bench/run.sh
#   WAIT_LOAD=0.7 bench/run.sh      # first wait (up to 20 min) for a 1-minute load below 0.7
#
# OPENBLAS_* variables are passed through unchanged to both runs (and recorded
# in their output). PYTHON must have Debian's python3-torch.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(realpath -m "${BUILD:-$ROOT/build}")
OUT=${OUT:-$BUILD/bench/results}
PYTHON=${PYTHON:-/usr/bin/python3}
REPS=${REPS:-5}          # Google Benchmark repetitions (the median is reported)
MIN_TIME=${MIN_TIME:-0.5}  # seconds per repetition (Strata) and per case (PyTorch)
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DSTRATA_BUILD_BENCH=ON >/dev/null
cmake --build "$BUILD" -j "$(nproc)" --target strata_bench
mkdir -p "$OUT"

if [[ -n "${WAIT_LOAD:-}" ]]; then
  for _ in $(seq 20); do
    awk -v limit="$WAIT_LOAD" '{ exit !($1 < limit) }' /proc/loadavg && break
    echo "load $(cut -d' ' -f1 /proc/loadavg) >= $WAIT_LOAD, waiting" >&2
    sleep 60
  done
fi

{
  lscpu | grep -E '^(Model name|CPU\(s\)|Thread|Core|L2|L3)'
  echo "OMP_NUM_THREADS=$OMP_NUM_THREADS"
  env | grep '^OPENBLAS' || true
  echo "strata commit: $(git -C "$ROOT" rev-parse --short HEAD)," \
    "uncommitted changes in: $(git -C "$ROOT" status --porcelain --untracked-files=no | awk '{print $2}' | tr '\n' ' ')"
  echo "uptime before: $(uptime)"
} | tee "$OUT/machine.txt"

"$BUILD/bench/strata_bench" --benchmark_repetitions="$REPS" --benchmark_min_time="$MIN_TIME" \
  --benchmark_report_aggregates_only=true \
  --benchmark_out="$OUT/strata.json" --benchmark_out_format=json | tee "$OUT/strata.txt"
"$PYTHON" "$ROOT/bench/torch_ops.py" --threads "$OMP_NUM_THREADS" --min-time "$MIN_TIME" --json "$OUT/torch.json" | tee "$OUT/torch.txt"
echo "uptime after: $(uptime)" | tee -a "$OUT/machine.txt"

"$PYTHON" "$ROOT/bench/report.py" "$OUT/strata.json" "$OUT/torch.json" | tee "$OUT/report.md"
