"""Layer-by-layer reconstruction and the linear probe at the lesson's full settings: how long each takes.

Both run as the lesson runs them (the offline VGG16 pack unless --weights says otherwise, bf16 where the CPU
does it natively). The machine's fp32 matmul peak and the load average are printed beside the times: on a
shared machine the times alone say little, so the CPU seconds the process used are printed too: halved,
they estimate the wall time on a quiet two-core machine (a busy one inflates them a little). The last line
is the figure that matters: the five-layer figure's seconds against its budget of 40 s on a quiet
two-core laptop.

    python benchmarks/bench_reconstruct.py --figure /tmp/reconstructions.png
    python benchmarks/bench_reconstruct.py --weights random --steps 20     # quicker
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import matmul_peak_gflops  # noqa: E402

from nstlib import models, probe, reconstruct  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default="offline")
    parser.add_argument("--steps", type=int, default=reconstruct.STEPS)
    parser.add_argument("--size", type=int, default=reconstruct.SIZE)
    parser.add_argument("--scenes", type=int, default=probe.SCENES)
    parser.add_argument("--figure", help="also save the reconstructions and probe figures, e.g. /tmp/rec.png")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    peak = matmul_peak_gflops()
    model = models.vgg("vgg16", args.weights, last_layer=reconstruct.LAYERS[-1])
    start, cpu = time.perf_counter(), time.process_time()
    results = reconstruct.reconstruct_layers(model, "cat", steps=args.steps, size=args.size, progress=False)
    figure, figure_cpu = time.perf_counter() - start, time.process_time() - cpu
    print(reconstruct.errors_table(results))
    start, cpu = time.perf_counter(), time.process_time()
    found = probe.probe_layers(model, n=args.scenes, progress=False)
    probing, probing_cpu = time.perf_counter() - start, time.process_time() - cpu
    print("probe accuracy: " + ", ".join(f"{k} {v:.1%}" for k, v in found.accuracy.items()))
    print(found.sentence())
    if args.figure:
        reconstruct.show_reconstructions(results).savefig(args.figure, dpi=100)
        path = Path(args.figure)
        probe.show_probe(found, results).savefig(path.with_name(path.stem + "_probe" + path.suffix), dpi=100)
    print(f"load average {load:.1f} on {os.cpu_count()} cores, {torch.get_num_threads()} threads; "
          f"fp32 matmul peak {peak:.0f} GFLOP/s")
    print(f"probe: {probing:.1f} s ({probing_cpu:.1f} CPU s) for {args.scenes} scenes (budget 20 s)")
    print(f"reconstructions: {figure:.1f} s ({figure_cpu:.1f} CPU s) for {len(results)} layers x {args.steps} "
          f"steps at {args.size} px (budget 40 s)")


if __name__ == "__main__":
    main()
