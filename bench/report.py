#!/usr/bin/env python3
"""Pairs strata_bench's JSON with torch_ops.py's and prints the Markdown tables of bench/README.md.

    python3 bench/report.py STRATA.json TORCH.json

Strata figures are the medians over strata_bench's repetitions
(--benchmark_repetitions with aggregates), PyTorch's the medians of its calls.
Ratios are Strata / reference for rates (higher is better for Strata) and
reference / Strata for times, so that > 1 always means Strata is faster.
"""
import json
import sys

TIME_TO_MS = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}


def load_strata(path):
    """name (without BM_ and /real_time) -> median entry with 'ms' added."""
    with open(path) as f:
        data = json.load(f)
    out = {}
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        name = b["run_name"].removeprefix("BM_").removesuffix("/real_time")
        entry = dict(b)
        entry["ms"] = b["real_time"] * TIME_TO_MS[b["time_unit"]]
        if "bytes_per_second" in b:
            entry["GB/s"] = b["bytes_per_second"] / 1e9
        out[name] = entry
    return data["context"], out


def ratio(a, b):
    return f"{a / b:.2f}" if a and b else "n/a"


def percent(a, b):
    return f"{100 * a / b:.0f}%" if a and b else "n/a"


def fmt(x, digits=1):
    return f"{x:.{digits}f}" if x is not None else "n/a"


def main(strata_path, torch_path):
    context, strata = load_strata(strata_path)
    with open(torch_path) as f:
        torch_data = json.load(f)
    torch = torch_data["results"]

    print(f"Strata: {context.get('omp_max_threads')} OpenMP threads, {context.get('openblas_config')}; "
          f"load average at start {context.get('load_avg')}")
    tc = torch_data["context"]
    print(f"PyTorch {tc['torch']}: {tc['threads']} threads, BLAS_INFO={tc['blas']}; env {tc['env']}\n")

    print("### GEMM (f32, GFLOP/s; Bt = x @ W^T through a transposed view)\n")
    print("| M x N x K | Bt | cblas_sgemm | Strata matmul | Strata / cblas | PyTorch | Strata / PyTorch "
          "| bytes copied |")
    print("|---|---|---|---|---|---|---|---|")
    for name, s in strata.items():
        if not name.startswith("StrataMatmul/"):
            continue
        shape = name.removeprefix("StrataMatmul/")
        c = strata.get("CblasSgemm/" + shape, {}).get("GFLOP/s")
        t = torch.get("Matmul/" + shape, {}).get("GFLOP/s")
        dims = dict(kv.split(":") for kv in shape.split("/"))
        print(f"| {dims['M']} x {dims['N']} x {dims['K']} | {dims['Bt']} | {fmt(c)} | {fmt(s['GFLOP/s'])} | "
              f"{ratio(s['GFLOP/s'], c)} | {fmt(t)} | {ratio(s['GFLOP/s'], t)} | {s['copy_MiB']:.0f} |")

    memcpy = strata.get("Memcpy/rows:4096/cols:768", {}).get("GB/s")
    copy = strata.get("Clone/rows:4096/cols:768", {}).get("GB/s")
    torch_copy = torch.get("Clone/rows:4096/cols:768", {}).get("GB/s")
    print("\n### Row ops (f32, GB/s of the large tensors read + written once)\n")
    print(f"Copy of the same bytes: Strata clone (all threads) {fmt(copy)} GB/s, memcpy (one thread) "
          f"{fmt(memcpy)} GB/s, PyTorch clone {fmt(torch_copy)} GB/s. \"% of copy\" is against the "
          "clone of the same library.\n")
    print("| op | shape | Strata GB/s | Strata ms | Strata % of copy | PyTorch GB/s | PyTorch ms | "
          "PyTorch % of copy | Strata / PyTorch |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, s in strata.items():
        if "GB/s" not in s or name.startswith("Memcpy"):
            continue
        op, shape = name.split("/", 1)
        t = torch.get(name, {})
        print(f"| {op} | {shape} | {fmt(s['GB/s'])} | {fmt(s['ms'], 2)} | {percent(s['GB/s'], copy)} | "
              f"{fmt(t.get('GB/s'))} | {fmt(t.get('ms'), 2)} | {percent(t.get('GB/s'), torch_copy)} | "
              f"{ratio(s['GB/s'], t.get('GB/s'))} |")

    print("\n### Attention forward + backward (causal, B = 1, H = 12, D = 64, f32)\n")
    print("| case | T | Strata ms | Strata peak MiB | PyTorch ms | PyTorch peak MiB | "
          "PyTorch ms / Strata ms |")
    print("|---|---|---|---|---|---|---|")
    for name, s in strata.items():
        if not name.startswith("Attention"):
            continue
        case, t_arg = name.split("/")
        t = torch.get(name, {})
        print(f"| {case} | {t_arg.removeprefix('T:')} | {fmt(s['ms'])} | {fmt(s['peak_MiB'])} | "
              f"{fmt(t.get('ms'))} | {fmt(t.get('peak_MiB'))} | {ratio(t.get('ms'), s['ms'])} |")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
