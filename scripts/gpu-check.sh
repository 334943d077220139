#!/usr/bin/env bash
# GPU check of the CUDA backend (docs/GPU_CHECK.md says when and why).
#
#   scripts/gpu-check.sh pack   here, after building build-gpu/: copies the
#                               non-CUDA shared libraries the binaries need
#                               into build-gpu/lib and prints the carry size
#   scripts/gpu-check.sh run    on the device machine (builds nothing): runs
#                               the CUDA tests and benchmarks, writes logs to
#                               $OUT (or ./gpu-check-out) and prints a table
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-gpu}

pack() {
  mkdir -p "$BUILD/lib"
  for bin in "$BUILD/tests/strata_tests" "$BUILD/tools/strata" "$BUILD/bench/strata_bench"; do
    [[ -x $bin ]] || continue
    # Everything but the C runtime and the CUDA libraries (the device has those).
    ldd "$bin" | awk '/=> \// {print $3}' |
      grep -Ev '/(libc|libm|libdl|librt|libpthread|ld-linux[^/]*)\.so|libcud|libcublas|libnccl|libnvrtc' |
      while read -r lib; do cp -Lu "$lib" "$BUILD/lib/"; done
  done
  echo "== $BUILD/lib:"; ls "$BUILD/lib"
  echo "== carry size (limit 64 MiB): $(du -sh --exclude='CMakeFiles' "$BUILD" | cut -f1)"
}

run() {
  local out=${OUT:-gpu-check-out}
  mkdir -p "$out"
  # cuBLAS and the runtime live under /usr/local/cuda; cuDNN and NCCL may be
  # only in PyTorch's pip packages (nvidia/*/lib).
  local libs="$PWD/$BUILD/lib:/usr/local/cuda/lib64"
  local nvidia
  nvidia=$(python3 -c 'import nvidia, os; print(os.path.dirname(nvidia.__path__[0]))' 2>/dev/null || true)
  if [[ -n $nvidia ]]; then
    for d in "$nvidia"/nvidia/*/lib; do libs="$libs:$d"; done
  fi
  export LD_LIBRARY_PATH="$libs:${LD_LIBRARY_PATH:-}"

  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$out/nvidia-smi.txt" || true
  "$BUILD/tools/strata" info --devices | tee "$out/devices.txt"

  # Every CUDA test (they run against the CPU backend as the reference).
  "$BUILD/tests/strata_tests" --gtest_filter='Cuda*:*/CudaOps.*' --gtest_output="json:$out/cuda-tests.json" \
    >"$out/cuda-tests.log" 2>&1 || true
  # The whole suite with the GPU present, to catch a CPU path the GPU build broke.
  "$BUILD/tests/strata_tests" --gtest_brief=1 >"$out/all-tests.log" 2>&1 || true

  if [[ -x $BUILD/bench/strata_bench ]]; then
    "$BUILD/bench/strata_bench" --benchmark_filter="${BENCH_FILTER:-.}" --benchmark_min_time=0.2 \
      >"$out/bench.log" 2>&1 || true
  fi

  # The table: one line per CUDA test suite.
  python3 - "$out/cuda-tests.json" <<'EOF'
import json, sys
data = json.load(open(sys.argv[1]))
print(f"{'suite':<32}{'passed':>8}{'failed':>8}{'skipped':>9}")
totals = [0, 0, 0]
for suite in data["testsuites"]:
    counts = [0, 0, 0]
    for t in suite["testsuite"]:
        if t.get("result") == "SKIPPED": counts[2] += 1
        elif t.get("failures"): counts[1] += 1
        else: counts[0] += 1
    totals = [a + b for a, b in zip(totals, counts)]
    print(f"{suite['name']:<32}{counts[0]:>8}{counts[1]:>8}{counts[2]:>9}")
print(f"{'total':<32}{totals[0]:>8}{totals[1]:>8}{totals[2]:>9}")
EOF
  tail -n 3 "$out/all-tests.log"
}

case "${1:-}" in
  pack) pack ;;
  run) run ;;
  *) echo "usage: $0 pack|run   (see docs/GPU_CHECK.md)" >&2; exit 2 ;;
esac
