"""Filter visualisation: quality per unit of time, nstlib's default loop against the naive loop, side by side.

For each layer the same filters, the same image size and the same network (the offline VGG16 pack unless
--weights says otherwise):
  1. the naive loop (Adam on raw pixels, grey noisy start) runs --steps steps; its final objective is the
     mean activation of each filter (conv output, before the ReLU) on the final image in [0, 1];
  2. nstlib's ``filters.visualize`` with its defaults runs until it reaches that same objective, measured the
     same way on its own image in [0, 1], or until --max-steps; we report the time it needed.
Both sides also get a "robust" score: the same objective averaged over 8 random jitter/scale/rotation copies
of the final image, which tells a pattern from pixel-exact noise. Then the per-image cost of a batch of 16
filters against one at a time. All numbers come from one run, so a busy machine slows both sides alike.

    python benchmarks/bench_filters.py                      # 128 px, 2 filters per layer, about 5-10 min
    python benchmarks/bench_filters.py --size 96 --steps 100  # quicker
"""

from __future__ import annotations

import argparse
import time

import torch

from nstlib import env, filters, models
from nstlib.layers import layer_names

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


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=128, help="image side in pixels (default 128)")
    parser.add_argument("--steps", type=int, default=200, help="naive loop steps (default 200)")
    parser.add_argument("--max-steps", type=int, default=200, help="most steps nstlib may take (default 200)")
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
          f"nstlib at most {args.max_steps} steps, weights {args.weights}")
    print("objective: mean activation of each filter (conv output before the ReLU) on the final image in "
          "[0, 1], averaged over the filters")
    deepest = max(args.layers, key=layer_names().index)
    model = models.vgg("vgg16", args.weights, last_layer=deepest, device=dev, verbose=False)
    ratios = []
    for layer in args.layers:
        channels = (CHANNELS.get(layer) or list(range(args.filters)))[: args.filters]
        naive = filters.naive_ascent(model, layer, channels, size=args.size, steps=args.steps, progress=False)
        naive_score = filters.objective(model, naive.images, layer, channels).mean().item()
        ours = filters.visualize(model, layer, channels, size=args.size, steps=args.max_steps, progress=False,
                                 target=naive_score)
        ours_score = filters.objective(model, ours.images, layer, channels).mean().item()
        reached = ours_score >= naive_score
        ratio = ours.seconds / naive.seconds if reached else float("inf")
        ratios.append(ratio)
        print(f"{layer} filters {channels}: naive {args.steps} steps {naive.seconds:.1f} s -> objective "
              f"{naive_score:.1f} (robust {robust_score(model, naive.images, layer, channels):.1f}); nstlib "
              f"{len(ours.history)} steps {ours.seconds:.1f} s -> {ours_score:.1f} (robust "
              f"{robust_score(model, ours.images, layer, channels):.1f}); "
              + (f"reached the naive objective in {ratio:.2f}x the naive time" if reached
                 else f"did not reach it in {args.max_steps} steps"))
    one = per_image_seconds(model, "conv3_1", 1, args.batch_size, 3)
    sixteen = per_image_seconds(model, "conv3_1", 16, args.batch_size, 3)
    print(f"batch of 16 vs one at a time (conv3_1, {args.batch_size} px, {dev.type}): per image "
          f"{sixteen * 1e3:.0f} ms vs {one * 1e3:.0f} ms, ratio {sixteen / one:.2f}")
    worst = max(ratios)
    print(f"worst time ratio nstlib/naive to reach the naive loop's {args.steps}-step objective "
          f"({', '.join(args.layers)}): " + (f"{worst:.2f} (target <= 0.33)" if worst != float("inf")
                                             else "not reached within the step limit (target <= 0.33)"))


if __name__ == "__main__":
    main()
