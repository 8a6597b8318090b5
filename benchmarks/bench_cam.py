"""Grad-CAM's cost on VGG16 at 224 px, measured side by side with plain autograd in one run.

1. Per image: nstlib.cam.grad_cam against (a) a bare forward plus backward to the same layer (the least
   any Grad-CAM must do: what the library adds is hooks, weighting, upsampling, normalising) and (b) a bare
   forward plus a full backward to the input. Target: overhead over (a) under 15 %.
2. Batched maps: images per second at batch 8 against batch 1.

Random weights (VGGClassifier, untrained): the same FLOPs as the ImageNet model. The rounds alternate the
contenders, so a busy machine slows both alike and the ratios hold; the medians are reported.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from nstlib import cam, hooks, models


def timed(fn, repeat):
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--layer", default="relu5_3")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = models.VGGClassifier("vgg16").eval().requires_grad_(False)
    x1 = torch.rand(1, 3, args.size, args.size)
    xb = torch.rand(args.batch, 3, args.size, args.size)
    target = 281

    def bare_to_layer():
        # The ten-line Grad-CAM's autograd work, nothing else: forward, gradient of the score at the layer.
        with hooks.capture(model, [args.layer]) as cap:
            score = model(x1.requires_grad_(True))[:, target].sum()
            torch.autograd.grad(score, cap[args.layer])

    def bare_full():
        score = model(x1.requires_grad_(True))[:, target].sum()
        torch.autograd.grad(score, x1)

    def library():
        cam.grad_cam(model, x1, target, args.layer)

    def batched():
        cam.grad_cam(model, xb, target, args.layer)

    print(f"VGG16 (random init, same FLOPs as ImageNet's) at {args.size} px, {args.threads} threads, "
          f"layer {args.layer}, medians of {args.rounds} alternating rounds")
    for fn in (bare_to_layer, bare_full, library, batched):  # warm-up
        fn()
    times = {"bare_to_layer": [], "bare_full": [], "library": [], "batched": []}
    for _ in range(args.rounds):
        times["bare_to_layer"] += timed(bare_to_layer, 1)
        times["library"] += timed(library, 1)
        times["bare_full"] += timed(bare_full, 1)
        times["batched"] += timed(batched, 1)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"bare forward + backward to {args.layer}: {med['bare_to_layer'] * 1000:8.1f} ms/image")
    print(f"bare forward + full backward to input:   {med['bare_full'] * 1000:8.1f} ms/image")
    print(f"nstlib.cam.grad_cam, batch 1:            {med['library'] * 1000:8.1f} ms/image")
    per_image_b = med["batched"] / args.batch
    print(f"nstlib.cam.grad_cam, batch {args.batch}:            {per_image_b * 1000:8.1f} ms/image")
    print(f"grad_cam / (forward + full backward): {med['library'] / med['bare_full']:.3f}")
    ips1, ipsb = 1 / med["library"], 1 / per_image_b
    print(f"batched maps: {ipsb:.2f} images/s at batch {args.batch} vs {ips1:.2f} at batch 1 "
          f"({ipsb / ips1:.2f}x)")
    overhead = med["library"] / med["bare_to_layer"] - 1
    print(f"Grad-CAM overhead over a bare forward+backward of the same model: {100 * overhead:+.1f}% "
          f"(target < 15%)")


if __name__ == "__main__":
    main()
