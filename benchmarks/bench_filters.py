"""Filter visualisation: quality per unit of time, nstlib's default loop against the naive loop, side by side.

For each layer the same filters, the same image size and the same network (the offline VGG16 pack unless
--weights says otherwise):
  1. the naive loop (Adam on raw pixels, grey noisy start, fp32) runs --steps steps; its final objective is
     the mean activation of each filter (conv output, before the ReLU) on the final image in [0, 1];
  2. nstlib's ``filters.visualize`` with its defaults runs --max-steps steps; its image is kept every 10
     steps and scored afterwards, outside the timing, so the time at which it first reached the naive
     loop's objective is read off its own clock.
Two scores: "raw" is the objective above; "robust" is the same objective averaged over 8 random
jitter/scale/rotation copies of the image (seeded, the same copies for both loops), which tells a pattern
from pixel-exact noise. Then the per-image cost of a batch of 16 filters against one at a time. All numbers
come from one run, so a busy machine slows both sides alike. The last line is the issue's figure: the worst
time ratio to reach the naive loop's raw objective; the line before it, the same for the robust score.

    python benchmarks/bench_filters.py                      # 128 px, 2 filters per layer, about 3 min
    python benchmarks/bench_filters.py --size 96 --steps 100  # quicker
"""

from __future__ import annotations

import argparse
import time

import torch

from nstlib import env, filters, models
from nstlib.layers import layer_names
from nstlib.precision import amp_dtype

CHANNELS = {"conv3_1": [7, 33], "conv4_1": [12, 100], "conv5_1": [7, 12]}


def robust_score(model, images, layer, channels, n=8, seed=0):
    gen = torch.Generator(device=images.device).manual_seed(seed)
    scores = [filters.objective(model, filters.random_affine(images, generator=gen), layer, channels)
              for _ in range(n)]
    return torch.stack(scores).mean().item()


def per_image_seconds(model, layer, batch, size, steps):
    channels = [i % 8 for i in range(batch)]
    filters.visualize(model, layer, channels, size=size, steps=1, progress=False)  # warm-up
    t0 = time.perf_counter()
    filters.visualize(model, layer, channels, size=size, steps=steps, progress=False)
    return (time.perf_counter() - t0) / (steps * batch)


def first_time(times, scores, goal):
    """The time of the first snapshot whose score reaches ``goal``, or None."""
    return next((t for t, score in zip(times, scores) if score >= goal), None)


def ratio_text(seconds, naive_seconds):
    return f"{seconds / naive_seconds:.2f}x the naive time" if seconds is not None else "not reached"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=128, help="image side in pixels (default 128)")
    parser.add_argument("--steps", type=int, default=200, help="naive loop steps (default 200)")
    parser.add_argument("--max-steps", type=int, default=200, help="steps nstlib takes (default 200)")
    parser.add_argument("--layers", nargs="+", default=list(CHANNELS))
    parser.add_argument("--filters", type=int, default=2, help="filters per layer (default 2)")
    parser.add_argument("--batch-size", type=int, default=96, help="image side for the batch test")
    parser.add_argument("--weights", default="offline")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    env.seed(0)
    dev = env.device()
    print(f"device {dev}, {torch.get_num_threads()} threads, {args.size} px, naive {args.steps} steps, "
          f"nstlib {args.max_steps} steps (bf16 network: {amp_dtype(dev) is not None}), weights {args.weights}")
    print("objective: mean activation of each filter (conv output before the ReLU) on the final image in "
          "[0, 1], averaged over the filters; robust: the same over 8 random shifts, scales and rotations")
    deepest = max(args.layers, key=layer_names().index)
    model = models.vgg("vgg16", args.weights, last_layer=deepest, device=dev, verbose=False)
    filters.visualize(model, args.layers[0], [0], size=32, steps=2, progress=False)  # one-time costs, untimed
    raw_ratios, robust_ratios = [], []
    for layer in args.layers:
        channels = (CHANNELS.get(layer) or list(range(args.filters)))[: args.filters]
        naive = filters.naive_ascent(model, layer, channels, size=args.size, steps=args.steps, progress=False)
        naive_raw = filters.objective(model, naive.images, layer, channels).mean().item()
        naive_robust = robust_score(model, naive.images, layer, channels)

        snapshots = {}

        def keep(step, image, snapshots=snapshots):
            if (step + 1) % 10 == 0:
                snapshots[step] = image.clone()

        ours = filters.visualize(model, layer, channels, size=args.size, steps=args.max_steps, progress=False,
                                 callback=keep)
        times = [ours.times[step] for step in snapshots]
        raw = [filters.objective(model, im, layer, channels).mean().item() for im in snapshots.values()]
        robust = [robust_score(model, im, layer, channels) for im in snapshots.values()]
        t_raw, t_robust = first_time(times, raw, naive_raw), first_time(times, robust, naive_robust)
        raw_ratios.append(t_raw / naive.seconds if t_raw is not None else float("inf"))
        robust_ratios.append(t_robust / naive.seconds if t_robust is not None else float("inf"))
        print(f"{layer} filters {channels}: naive {args.steps} steps in {naive.seconds:.1f} s -> raw {naive_raw:.1f}, "
              f"robust {naive_robust:.1f} | nstlib {args.max_steps} steps in {ours.seconds:.1f} s (a step costs "
              f"{ours.seconds / args.max_steps / (naive.seconds / args.steps):.2f}x a naive step) -> raw "
              f"{raw[-1]:.1f}, robust {robust[-1]:.1f} | reached the naive raw objective: "
              f"{ratio_text(t_raw, naive.seconds)}; the naive robust objective: {ratio_text(t_robust, naive.seconds)}")
    one = per_image_seconds(model, "conv3_1", 1, args.batch_size, 3)
    sixteen = per_image_seconds(model, "conv3_1", 16, args.batch_size, 3)
    print(f"batch of 16 vs one at a time (conv3_1, {args.batch_size} px, {dev.type}): per image "
          f"{sixteen * 1e3:.0f} ms vs {one * 1e3:.0f} ms, ratio {sixteen / one:.2f}")

    def worst(ratios):
        value = max(ratios)
        return f"{value:.2f}" if value != float("inf") else "not reached in one of the layers"

    names = ", ".join(args.layers)
    print(f"worst time ratio nstlib/naive to reach the naive loop's robust {args.steps}-step objective ({names}): "
          f"{worst(robust_ratios)} (per layer {', '.join(f'{r:.2f}' for r in robust_ratios)})")
    print(f"worst time ratio nstlib/naive to reach the naive loop's {args.steps}-step objective ({names}): "
          f"{worst(raw_ratios)} (per layer {', '.join(f'{r:.2f}' for r in raw_ratios)}; target <= 0.33)")


if __name__ == "__main__":
    main()
