#!/usr/bin/python3
"""GPT-2 small (124M: vocab 50257, context 1024, width 768, depth 12, 12
heads, tied LM head, GELU tanh) trained in PyTorch: tokens/s of full
training steps (forward, cross-entropy, backward, AdamW) and peak memory.
The same model and step as `strata bench gpt2` (random tokens, no dropout).
Attention is PyTorch's fused scaled_dot_product_attention where it exists
(PyTorch >= 2.0, as on a GPU), else written out as nanoGPT's non-flash path
(Debian's PyTorch 1.13). On a GPU, bf16 runs under torch.autocast with f32
weights, as `strata bench gpt2 --precision bf16` does; the fused AdamW is
used there.

  OMP_NUM_THREADS=2 /usr/bin/python3 bench/torch_gpt2.py BATCH CONTEXT [steps [cpu|cuda [f32|bf16]]]
"""
import math
import resource
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_steps import adamw, median_step_seconds


class Block(nn.Module):
    def __init__(self, width, heads, context):
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(width)
        self.c_attn = nn.Linear(width, 3 * width)
        self.c_proj = nn.Linear(width, width)
        self.ln_2 = nn.LayerNorm(width)
        self.c_fc = nn.Linear(width, 4 * width)
        self.mlp_proj = nn.Linear(4 * width, width)
        self.register_buffer("mask", torch.tril(torch.ones(context, context)).view(1, 1, context, context))

    def attention(self, x):
        b, t, c = x.shape
        q, k, v = self.c_attn(x).split(c, dim=2)
        q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2) for z in (q, k, v))
        if hasattr(F, "scaled_dot_product_attention"):
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.c_proj(y.transpose(1, 2).contiguous().view(b, t, c))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.mask[:, :, :t, :t] == 0, float("-inf"))
        y = F.softmax(att, dim=-1) @ v
        return self.c_proj(y.transpose(1, 2).contiguous().view(b, t, c))

    def forward(self, x):
        x = x + self.attention(self.ln_1(x))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT2(nn.Module):
    def __init__(self, vocab=50257, context=1024, width=768, depth=12, heads=12):
        super().__init__()
        self.wte = nn.Embedding(vocab, width)
        self.wpe = nn.Embedding(context, width)
        self.h = nn.ModuleList([Block(width, heads, context) for _ in range(depth)])
        self.ln_f = nn.LayerNorm(width)

    def forward(self, idx, targets):
        t = idx.size(1)
        x = self.wte(idx) + self.wpe(torch.arange(t, device=idx.device))
        for block in self.h:
            x = block(x)
        logits = F.linear(self.ln_f(x), self.wte.weight)  # tied head
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1))


def main():
    batch, context = int(sys.argv[1]), int(sys.argv[2])
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    device = sys.argv[4] if len(sys.argv) > 4 else "cpu"
    precision = sys.argv[5] if len(sys.argv) > 5 else "f32"
    on_gpu = device.startswith("cuda")
    torch.manual_seed(0)
    model = GPT2().to(device)
    opt = adamw(model, device, lr=6e-4, weight_decay=0.1)
    tokens = torch.randint(0, 50257, (batch, context + 1), device=device)
    x, y = tokens[:, :-1], tokens[:, 1:]
    step_s = median_step_seconds(lambda: model(x, y), opt, steps, device, precision)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    gpu = f", peak GPU tensors {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB" if on_gpu else ""
    print(f"torch {torch.__version__}, {device} {precision}, {torch.get_num_threads()} threads, B={batch} T={context}: "
          f"median step {step_s:.3f} s, {batch * context / step_s:.1f} tok/s, peak RSS {peak_mib:.0f} MiB{gpu}")


if __name__ == "__main__":
    main()
