#!/usr/bin/python3
"""ViT-S/4 for 32x32 images (width 384, depth 12, 6 heads, MLP 1536, class
token, 10 classes) trained in PyTorch CPU: images/s of full training steps
(forward, cross-entropy, backward, AdamW) at batch 128, and peak resident
memory. The same model as configs/runs/vit_s_cifar10.yaml in Strata, without
drop-path, mixup or data augmentation (both sides are timed on the model step).

  OMP_NUM_THREADS=2 /usr/bin/python3 bench/torch_vit.py [steps [cpu|cuda [f32|bf16]]]
"""
import resource
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_steps import adamw, median_step_seconds


class Block(nn.Module):
    def __init__(self, width, heads, hidden):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(width, eps=1e-6)
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.norm2 = nn.LayerNorm(width, eps=1e-6)
        self.fc1 = nn.Linear(width, hidden)
        self.fc2 = nn.Linear(hidden, width)

    def attention(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        a = torch.softmax(q @ k.transpose(-2, -1) * (c // self.heads) ** -0.5, dim=-1)
        return self.proj((a @ v).transpose(1, 2).reshape(b, t, c))

    def forward(self, x):
        x = x + self.attention(self.norm1(x))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class ViT(nn.Module):
    def __init__(self, image=32, patch=4, width=384, depth=12, heads=6, mlp=1536, classes=10):
        super().__init__()
        self.patch = nn.Conv2d(3, width, patch, patch)
        tokens = (image // patch) ** 2 + 1
        self.cls = nn.Parameter(torch.zeros(1, 1, width))
        self.pos = nn.Parameter(torch.randn(1, tokens, width) * 0.02)
        self.blocks = nn.ModuleList([Block(width, heads, mlp) for _ in range(depth)])
        self.norm = nn.LayerNorm(width, eps=1e-6)
        self.head = nn.Linear(width, classes)

    def forward(self, images):
        x = self.patch(images).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x[:, 0]))


def main():
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    device = sys.argv[2] if len(sys.argv) > 2 else "cpu"
    precision = sys.argv[3] if len(sys.argv) > 3 else "f32"
    torch.manual_seed(0)
    model = ViT().to(device)
    opt = adamw(model, device, lr=1e-3, weight_decay=0.05)
    images = torch.randn(128, 3, 32, 32, device=device)
    labels = torch.randint(0, 10, (128,), device=device)
    step_s = median_step_seconds(lambda: F.cross_entropy(model(images), labels), opt, steps, device, precision)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"torch {torch.__version__}, {device} {precision}, {torch.get_num_threads()} threads: median step "
          f"{step_s:.3f} s, {128 / step_s:.1f} img/s, peak RSS {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
