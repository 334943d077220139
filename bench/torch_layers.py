#!/usr/bin/python3
"""The structured linears of `strata bench layers` written in PyTorch (CPU),
each in its efficient formulation, timed on the same shapes and sizes.

Usage:
  build/tools/strata bench layers --json --threads 2 > /tmp/strata_layers.jsonl
  OMP_NUM_THREADS=2 /usr/bin/python3 bench/torch_layers.py /tmp/strata_layers.jsonl

On a GPU (`strata bench layers --json --device cuda [--precision bf16]`) the
layers run on the device and precision recorded in the JSON lines.

Reads Strata's JSON lines (structure, in, out, tokens, spec "b=3 r=190"),
builds the same layer in PyTorch, times forward and forward+backward (input
and weight gradients, median of repeats after a warm-up) and prints a
markdown table of both side by side. Use Debian's python3-torch
(/usr/bin/python3) with libopenblas0-openmp installed.
"""
import json
import re
import statistics
import sys
import time

import torch

torch.manual_seed(0)


def parse_size(spec):
    blocks = re.search(r"b=(\d+)", spec)
    rank = re.search(r"r=(\d+)", spec)
    return (int(blocks.group(1)) if blocks else 0, int(rank.group(1)) if rank else 0)


def dense(n, m, b, r):
    w = torch.randn(m, n, requires_grad=True)
    bias = torch.zeros(m, requires_grad=True)
    return [w, bias], lambda x: torch.nn.functional.linear(x, w, bias)


def low_rank(n, m, b, r):
    u = torch.randn(m, r, requires_grad=True)
    v = torch.randn(n, r, requires_grad=True)
    bias = torch.zeros(m, requires_grad=True)
    return [u, v, bias], lambda x: torch.addmm(bias, x @ v, u.t())


def block_diagonal(n, m, b, r):
    w = torch.randn(b, m // b, n // b, requires_grad=True)
    bias = torch.zeros(m, requires_grad=True)

    def f(x):
        xb = x.view(-1, b, n // b).transpose(0, 1)          # (b, N, n/b)
        y = torch.bmm(xb, w.transpose(1, 2))                 # (b, N, m/b)
        return y.transpose(0, 1).reshape(-1, m) + bias

    return [w, bias], f


def monarch(n, m, b, r):
    # fly's blockdiag butterfly: a b x b grid of rank-(r/b) blocks, total rank r.
    rb = r // b
    w1 = torch.randn(b, r, n // b, requires_grad=True)       # input block j -> (output block i, r/b)
    w2 = torch.randn(b, m // b, r, requires_grad=True)       # (input block j, r/b) -> output block i
    bias = torch.zeros(m, requires_grad=True)

    def f(x):
        xb = x.view(-1, b, n // b).transpose(0, 1)            # (b_j, N, n/b)
        z = torch.bmm(xb, w1.transpose(1, 2))                 # (b_j, N, b_i * rb)
        z = z.view(b, -1, b, rb).permute(2, 1, 0, 3).reshape(b, -1, r)  # (b_i, N, b_j * rb)
        y = torch.bmm(z, w2.transpose(1, 2))                  # (b_i, N, m/b)
        return y.permute(1, 2, 0).reshape(-1, m) + bias       # interleaved output rows

    return [w1, w2, bias], f


def blast(n, m, b, r):
    p, q = m // b, n // b
    u = torch.randn(b, p, r, requires_grad=True)
    v = torch.randn(b, q, r, requires_grad=True)
    s = torch.randn(b, b, r, requires_grad=True)
    bias = torch.zeros(m, requires_grad=True)

    def f(x):
        xb = x.view(-1, b, q).transpose(0, 1)                # (b, N, q)
        z = torch.bmm(xb, v)                                 # (b, N, r)
        w = torch.einsum("ijr,jnr->inr", s, z)               # (b, N, r), no (b, b, N, r) temporary
        y = torch.bmm(w, u.transpose(1, 2))                  # (b, N, p)
        return y.transpose(0, 1).reshape(-1, m) + bias

    return [u, v, s, bias], f


def gblr(n, m, b, r):
    # Masked rank-1 components: y = x (M_in o V) (M_out o U)^T, masks precomputed.
    k = r if r else min(m, n)
    u = torch.randn(m, k, requires_grad=True)
    v = torch.randn(n, k, requires_grad=True)
    m_in = torch.rand(n, k, requires_grad=True)
    m_out = torch.rand(m, k, requires_grad=True)
    bias = torch.zeros(m, requires_grad=True)
    return [u, v, m_in, m_out, bias], lambda x: torch.addmm(bias, x @ (m_in * v), (m_out * u).t())


BUILDERS = {"dense": dense, "low_rank": low_rank, "block_diagonal": block_diagonal,
            "monarch": monarch, "blast": blast, "gblr": gblr}


def median_ms(fn, repeats):
    fn()
    sync()
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        runs.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(runs)


def sync():
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


def time_layer(row, repeats):
    params, f = BUILDERS[row["structure"]](row["in"], row["out"], *parse_size(row["spec"]))
    x = torch.randn(row["tokens"], row["in"])
    dy = torch.randn(row["tokens"], row["out"])
    with torch.no_grad():
        fwd = median_ms(lambda: f(x), repeats)
    x.requires_grad_(True)

    def step():
        for t in params + [x]:
            t.grad = None
        f(x).backward(dy)

    return fwd, median_ms(step, repeats)


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    # The device and precision Strata ran with (cpu f32 for older files).
    device, precision = rows[0].get("device", "cpu"), rows[0].get("precision", "f32")
    if device != "cpu":
        torch.set_default_device(device)  # PyTorch >= 2.0, as pip installs on a GPU machine
    autocast = torch.autocast(device_type="cuda" if device != "cpu" else "cpu", dtype=torch.bfloat16,
                              enabled=precision == "bf16")
    autocast.__enter__()
    print(f"torch {torch.__version__}, {device} {precision}, {torch.get_num_threads()} threads, median of {repeats}")
    print("| structure | shape | flops ratio | size | Strata fwd+bwd ms | PyTorch fwd+bwd ms | Strata vs dense | PyTorch vs dense | PyTorch / Strata |")
    print("|---|---|---|---|---|---|---|---|---|")
    torch_dense = {}
    for row in rows:
        fwd, fwd_bwd = time_layer(row, repeats)
        shape = f"{row['in']}->{row['out']}"
        if row["structure"] == "dense":
            torch_dense[shape] = fwd_bwd
        print(f"| {row['structure']} | {shape} | {row['flops_ratio']} | {row['spec']} | {row['fwd_bwd_ms']:.1f} | "
              f"{fwd_bwd:.1f} | {row['time_ratio']:.2f} | {fwd_bwd / torch_dense[shape]:.2f} | "
              f"{fwd_bwd / row['fwd_bwd_ms']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
