#!/usr/bin/env python3
"""PyTorch CPU reference for bench/bench_ops.cpp: the same ops, shapes and units.

    python3 bench/torch_ops.py [--threads N] [--json OUT] [--min-time S]

Each case is warmed up, then called repeatedly (at least 5 times and at
least --min-time seconds); the figure is the median of the per-call
wall-clock times (time.perf_counter). Case names match strata_bench's
(without "BM_" and "/real_time") so that bench/report.py can pair them.

Units: GEMM in GFLOP/s (2MNK per call); row ops in GB/s (1e9 bytes) counting
the same bytes as strata_bench (the large tensors each pass reads and writes
once); attention in ms per forward + backward, plus peak memory.

Peak memory for attention: PyTorch 1.13's CPU allocator keeps no statistics,
so it is measured from the process's resident set: glibc is told to serve
every block above 64 KiB by mmap and to give it back on free (mallopt), the
kernel's peak-RSS mark is reset (/proc/self/clear_refs), one step runs, and
peak_MiB = VmHWM - VmRSS before the step. This runs after all the timings, so
it does not change them.

PyTorch 1.13 has no public F.scaled_dot_product_attention; "Attention" uses
the private F._scaled_dot_product_attention, which on CPU materialises the
(T x T) scores (the math path), not a fused kernel.
"""
import argparse
import ctypes
import json
import os
import re
import statistics
import sys
import time

import torch
import torch.nn.functional as F

HEADS, HEAD_DIM = 12, 64


def time_calls(fn, min_time, min_reps=5):
    """Median and minimum wall-clock seconds of fn() after two warm-up calls, and the call count."""
    fn()
    fn()
    times = []
    start = time.perf_counter()
    while len(times) < min_reps or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), len(times)


# ---- cases: name -> (fn, unit, amount per call) --------------------------------------------
# unit "GFLOP/s" and "GB/s" divide the amount by the time; "ms" reports the time.

def gemm_cases():
    for bt in (0, 1):
        for m, n, k in ((1024, 1024, 1024), (4096, 768, 768)):
            a = torch.randn(m, k)
            b = torch.randn(n, k).t() if bt else torch.randn(k, n)
            yield f"Matmul/M:{m}/N:{n}/K:{k}/Bt:{bt}", (lambda a=a, b=b: a @ b), "GFLOP/s", 2 * m * n * k


def row_cases():
    rows, cols = 4096, 768
    n = rows * cols
    tag = f"rows:{rows}/cols:{cols}"
    x = torch.randn(rows, cols)
    w, b, dy = torch.randn(cols), torch.randn(cols), torch.randn(rows, cols)
    yield f"Clone/{tag}", lambda: x.clone(), "GB/s", 2 * 4 * n
    yield f"Softmax/{tag}", lambda: torch.softmax(x, -1), "GB/s", 2 * 4 * n
    yield f"LayerNormFwd/{tag}", lambda: F.layer_norm(x, (cols,), w, b), "GB/s", 2 * 4 * n

    xg, wg, bg = (t.clone().requires_grad_() for t in (x, w, b))

    def layer_norm_fwd_bwd():
        for p in (xg, wg, bg):
            p.grad = None
        F.layer_norm(xg, (cols,), wg, bg).backward(dy)

    yield f"LayerNormFwdBwd/{tag}", layer_norm_fwd_bwd, "GB/s", 5 * 4 * n
    yield f"Gelu/{tag}/tanh:0", lambda: F.gelu(x), "GB/s", 2 * 4 * n
    yield f"Gelu/{tag}/tanh:1", lambda: F.gelu(x, approximate="tanh"), "GB/s", 2 * 4 * n

    for rows_ce, classes in ((4096, 1024), (256, 50257)):
        logits = torch.randn(rows_ce, classes, requires_grad=True)
        target = torch.randint(0, classes, (rows_ce,))

        def ce_fwd_bwd(logits=logits, target=target):
            logits.grad = None
            F.cross_entropy(logits, target).backward()

        yield (f"CrossEntropyFwdBwd/rows:{rows_ce}/classes:{classes}", ce_fwd_bwd, "GB/s",
               3 * 4 * rows_ce * classes)


def attention_inputs(t):
    q, k, v = (torch.randn(1, HEADS, t, HEAD_DIM, requires_grad=True) for _ in range(3))
    return q, k, v, torch.randn(1, HEADS, t, HEAD_DIM)


def attention_step(t, naive):
    q, k, v, dout = attention_inputs(t)
    mask = torch.ones(t, t, dtype=torch.bool).triu(1)
    scale = HEAD_DIM ** -0.5

    def step():
        if naive:
            s = ((q @ k.transpose(-2, -1)) * scale).masked_fill(mask, float("-inf"))
            out = torch.softmax(s, -1) @ v
        else:
            out = F._scaled_dot_product_attention(q, k, v, None, 0.0, False, True)[0]
        out.backward(dout)
        for p in (q, k, v):
            p.grad = None

    return step


def attention_cases():
    for naive in (False, True):
        for t in (256, 1024):
            name = f"{'AttentionNaive' if naive else 'Attention'}/T:{t}"
            yield name, attention_step(t, naive), "ms", None


# ---- peak memory from the resident set -----------------------------------------------------

def _status_bytes(key):
    with open("/proc/self/status") as f:
        return int(re.search(rf"^{key}:\s+(\d+) kB", f.read(), re.M).group(1)) * 1024


def peak_extra_mib(fn):
    libc = ctypes.CDLL("libc.so.6")
    m_trim_threshold, m_mmap_threshold = -1, -3
    libc.mallopt(m_mmap_threshold, 64 * 1024)
    libc.mallopt(m_trim_threshold, 64 * 1024)
    fn()
    libc.malloc_trim(0)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current RSS
    before = _status_bytes("VmRSS")
    fn()
    return (_status_bytes("VmHWM") - before) / 2**20


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", os.cpu_count())))
    parser.add_argument("--json", help="write the results here as JSON")
    parser.add_argument("--min-time", type=float, default=1.0, help="seconds of timed calls per case")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    context = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "env": {k: os.environ.get(k, "(unset)") for k in ("OMP_NUM_THREADS", "OPENBLAS_CORETYPE",
                                                           "OPENBLAS_L2_SIZE")},
        "blas": re.search(r"BLAS_INFO=(\w+)", torch.__config__.show()).group(1),
    }
    print(f"# PyTorch {context['torch']}, {context['threads']} threads, BLAS_INFO={context['blas']}, "
          f"env {context['env']}")

    results = {}
    print(f"{'case':58s} {'median':>12s} {'rate':>16s} {'calls':>6s}")
    for cases in (gemm_cases(), row_cases(), attention_cases()):
        for name, fn, unit, amount in cases:
            seconds, fastest, calls = time_calls(fn, args.min_time)
            entry = {"ms": seconds * 1e3, "min_ms": fastest * 1e3, "calls": calls}
            if unit in ("GFLOP/s", "GB/s"):
                entry[unit] = amount / seconds / 1e9
            results[name] = entry
            rate = f"{entry[unit]:.2f} {unit}" if unit != "ms" else ""
            print(f"{name:58s} {seconds * 1e3:9.3f} ms {rate:>16s} {calls:6d}", flush=True)

    # Memory last: mallopt changes how every later allocation is served.
    for name, fn, _, _ in attention_cases():
        results[name]["peak_MiB"] = peak_extra_mib(fn)
        print(f"{name:58s} peak {results[name]['peak_MiB']:.1f} MiB beyond q, k, v, dout")

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"context": context, "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
