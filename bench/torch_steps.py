"""The training-step timer the PyTorch benchmark scripts share
(bench/torch_gpt2.py, bench/torch_vit.py): AdamW (fused on a GPU), bf16
torch.autocast when asked, one warm-up step, then the median of `steps`
timed steps, each waited for on a GPU."""
import statistics
import time

import torch


def adamw(model, device, lr, weight_decay):
    fused = {"fused": True} if device.startswith("cuda") else {}
    return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay, **fused)


def median_step_seconds(loss_fn, opt, steps, device, precision):
    """loss_fn() computes the loss of the fixed batch; returns the median seconds of a full step."""
    on_gpu = device.startswith("cuda")
    times = []
    for step in range(steps + 1):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device_type="cuda" if on_gpu else "cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss = loss_fn()
        loss.backward()
        opt.step()
        if on_gpu:
            torch.cuda.synchronize()
        if step:  # the first step warms up
            times.append(time.perf_counter() - t0)
    return statistics.median(times)
