"""Shared measuring helpers for the benchmarks: a robust timer and the machine's matmul peak.

Benchmarks run on shared, noisy machines, so they compare things measured side by side in one run and
report ratios; the peak tells what fraction of the hardware a workload reaches.
"""

from __future__ import annotations

import statistics
import time

import torch


def best_time(fn, repeat: int = 5, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in seconds, after warm-up runs (the median resists a noisy neighbour)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def matmul_peak_gflops(dtype=torch.float32, n: int = 1024, device="cpu") -> float:
    """What this machine's matrix multiply reaches, in GFLOP/s: the practical ceiling for a convnet."""
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    seconds = best_time(lambda: torch.mm(a, b), repeat=7, warmup=2)
    return 2 * n**3 / seconds / 1e9


def conv_gflop(model, x) -> float:
    """Forward GFLOP of the convolutions in ``model`` for input ``x`` (2 * MACs), counted with hooks."""
    total = 0

    def count(module, inputs, output):
        nonlocal total
        kh, kw = module.kernel_size
        total += 2 * output.numel() * module.in_channels // module.groups * kh * kw

    handles = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return total / 1e9
