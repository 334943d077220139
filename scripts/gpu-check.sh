#!/usr/bin/env bash
# GPU check of the CUDA backend (docs/GPU_CHECK.md says when and why).
#
#   scripts/gpu-check.sh pack   here, after building build-gpu/: copies the
#                               non-CUDA shared libraries the binaries need
#                               into build-gpu/lib and prints the carry size
#   scripts/gpu-check.sh run    on the device machine (builds nothing): runs
#                               the CUDA tests, then the benchmarks beside
#                               PyTorch, writes logs to $OUT (or
#                               ./gpu-check-out) and prints a table
#   SKIP_BENCH=1 ... run        the tests alone
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-gpu}

pack() {
  mkdir -p "$BUILD/lib"
  for bin in "$BUILD/tests/strata_tests" "$BUILD/tools/strata" "$BUILD/bench/strata_bench_cuda"; do
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
  [[ -n ${SKIP_BENCH:-} ]] || bench "$out"
}

# Checked first, timed second: every figure beside PyTorch (the device's
# pip-installed python3) on the same GPU, in the same command.
bench() {
  local out=$1 strata="$BUILD/tools/strata"
  echo "== GEMM: ops::matmul vs a direct cublasGemmEx (TFLOP/s)"
  "$BUILD/bench/strata_bench_cuda" --benchmark_min_time=0.2s --benchmark_counters_tabular=true \
    2>&1 | tee "$out/gemm.log" | grep -E 'BM_|TFLOP' || true
  for precision in f32 bf16; do
    echo "== structured layers vs dense, $precision"
    "$strata" bench layers --device cuda --precision "$precision" --json --repeats 20 \
      >"$out/layers_$precision.jsonl" 2>&1 || true
    python3 bench/torch_layers.py "$out/layers_$precision.jsonl" 20 2>&1 | tee "$out/layers_$precision.md" || true
  done
  for precision in bf16 f32; do
    echo "== GPT-2 124M, B=16 T=1024, $precision"
    "$strata" bench gpt2 --device cuda --precision "$precision" --batch 16 --context 1024 --steps 10 \
      2>&1 | tee "$out/gpt2_$precision.log" || true
    python3 bench/torch_gpt2.py 16 1024 10 cuda "$precision" 2>&1 | tee -a "$out/gpt2_$precision.log" || true
  done
  echo "== ViT-S/4 CIFAR-10 step, batch 128, bf16"
  python3 scripts/random_cifar.py "$out/cifar" 2048
  "$strata" train configs/runs/vit_s_cifar10.yaml --out "$out/vit" --overwrite --set data.root="$out/cifar" \
    --set train.steps=40 --set schedule.warmup_steps=1 --set train.device=cuda --set train.precision=bf16 --set log.every_steps=10 \
    --set eval.at_end=false --set checkpoint.every_epochs=0 --set data.workers=8 2>&1 | tee "$out/vit.log" | tail -n 4 || true
  python3 bench/torch_vit.py 20 cuda bf16 2>&1 | tee -a "$out/vit.log" || true
}

case "${1:-}" in
  pack) pack ;;
  run) run ;;
  *) echo "usage: $0 pack|run   (see docs/GPU_CHECK.md)" >&2; exit 2 ;;
esac
