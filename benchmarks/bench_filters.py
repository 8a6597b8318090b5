"""Filter visualisation: time to a robust score, nstlib's default loop against the naive loop, side by side.

For each image size and layer, the same filters and the same network (the offline VGG16 pack unless
--weights says otherwise):
  1. the naive loop (Adam on raw pixels, grey noisy start, fp32) runs --steps steps;
  2. ``filters.visualize`` with its defaults runs up to --max-steps steps; its image is kept every 10 steps
     and scored afterwards, outside the timing, so the time at which it first reached the naive loop's
     score is read off its own clock.
The score is ``filters.robust_objective``: each filter's mean activation averaged over a fixed, seeded set
of small shifts, scales and rotations, the same for both loops. The raw objective (the image as it is) is
printed beside it: pixel-exact noise scores high on it and low on the robust one. Each row also gives the
share of pixel values within 2/255 of 0 or 1 (the colour rails) and the share of the image's contrast in
gratings of 2 to 3 pixels (``finest``) for both loops. All numbers come from one run, so a busy machine
slows both sides alike. The last line is the figure that matters: the worst time
ratio nstlib/naive to reach the naive loop's robust score (target: at most 0.33).

    python benchmarks/bench_filters.py                           # 128 and 224 px, 2 filters per layer
    python benchmarks/bench_filters.py --sizes 96 --steps 100    # quicker
"""

from __future__ import annotations

import argparse
import time

import torch

from nstlib import env, filters, models
from nstlib.core.layers import layer_names
from nstlib.core.precision import amp_dtype

CHANNELS = {"conv3_1": [7, 33], "conv4_1": [12, 100], "conv5_1": [7, 12]}


def per_image_seconds(model, layer, batch, size, steps):
    channels = [i % 8 for i in range(batch)]
    filters.visualize(model, layer, channels, size=size, steps=1, progress=False)  # warm-up
    t0 = time.perf_counter()
    filters.visualize(model, layer, channels, size=size, steps=steps, progress=False)
    return (time.perf_counter() - t0) / (steps * batch)


def first_time(snapshots, times, score, goal):
    """The clock time of the first snapshot whose score reaches ``goal`` (scored in order, lazily), or None."""
    return next((times[step] for step, image in snapshots.items() if score(image) >= goal), None)


def finest_share(images: torch.Tensor, above: float = 0.35) -> float:
    """Share of an image's contrast (spectral power, mean removed) at periods under 1 / ``above`` pixels: the
    2- and 3-pixel gratings and checkerboards that only a pixel-exact loop can draw."""
    x = images.detach().float()
    power = torch.fft.rfft2(x - x.mean(dim=(-2, -1), keepdim=True), norm="ortho").abs().pow(2)
    fy = torch.fft.fftfreq(x.shape[-2]).abs()[:, None]
    fx = torch.fft.rfftfreq(x.shape[-1])[None, :]
    fine = (torch.maximum(fy, fx) > above).to(power.dtype)
    return ((power * fine).sum() / power.sum().clamp(min=1e-12)).item()


def ratio_text(seconds, naive_seconds):
    return f"{seconds / naive_seconds:.2f}" if seconds is not None else "not reached"


def compare(model, layer, channels, size, steps, max_steps):
    """One row: both loops on the same filters at one size; returns the robust time ratio (inf if not reached)."""
    naive = filters.naive_ascent(model, layer, channels, size=size, steps=steps, progress=False)
    naive_raw = filters.objective(model, naive.images, layer, channels).mean().item()
    naive_robust = filters.robust_objective(model, naive.images, layer, channels).mean().item()
    snapshots = {}

    def keep(step, image):
        if (step + 1) % 10 == 0 and image.shape[-1] == naive.images.shape[-1]:
            snapshots[step] = image.clone()

    ours = filters.visualize(model, layer, channels, size=size, steps=max_steps, progress=False, callback=keep)
    ours_raw = filters.objective(model, ours.images, layer, channels).mean().item()
    ours_robust = filters.robust_objective(model, ours.images, layer, channels).mean().item()
    reached = first_time(snapshots, ours.times, lambda im: filters.robust_objective(
        model, im, layer, channels).mean().item(), naive_robust)
    print(f"{size:4d} px {layer} {channels}: naive {steps} steps {naive.seconds:6.1f} s, robust {naive_robust:6.1f} "
          f"(raw {naive_raw:6.1f}), rails {filters.rail_share(naive.images):4.0%}, finest "
          f"{finest_share(naive.images):4.0%} | nstlib {len(ours.history)} steps "
          f"{ours.seconds:6.1f} s, robust {ours_robust:6.1f} (raw {ours_raw:6.1f}), rails "
          f"{filters.rail_share(ours.images):4.0%}, finest {finest_share(ours.images):4.0%} | time to the naive "
          f"robust score: {ratio_text(reached, naive.seconds)}", flush=True)
    return reached / naive.seconds if reached is not None else float("inf")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 224], help="image sides (default 128 224)")
    parser.add_argument("--steps", type=int, default=200, help="naive loop steps (default 200)")
    parser.add_argument("--max-steps", type=int, default=None,
                        help="steps nstlib may take (default: visualize's default)")
    parser.add_argument("--layers", nargs="+", default=list(CHANNELS))
    parser.add_argument("--filters", type=int, default=2, help="filters per layer (default 2)")
    parser.add_argument("--batch-size", type=int, default=96, help="image side for the batch test")
    parser.add_argument("--weights", default="offline")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    max_steps = args.max_steps or filters.VisualizeSettings.steps
    env.seed(0)
    dev = env.device()
    print(f"device {dev}, {torch.get_num_threads()} threads, naive {args.steps} steps, nstlib up to {max_steps} "
          f"steps (bf16 network: {amp_dtype(dev) is not None}), weights {args.weights}")
    print("score: filters.robust_objective, each filter's mean activation (conv output before the ReLU) averaged "
          f"over {filters.ROBUST['n']} seeded shifts, scales and rotations; ratio: nstlib's time / naive time")
    deepest = max(args.layers, key=layer_names().index)
    model = models.vgg("vgg16", args.weights, last_layer=deepest, device=dev, verbose=False)
    filters.visualize(model, args.layers[0], [0], size=32, steps=2, progress=False)  # one-time costs, untimed
    ratios = {}
    for size in args.sizes:
        for layer in args.layers:
            channels = (CHANNELS.get(layer) or list(range(args.filters)))[: args.filters]
            ratios[(size, layer)] = compare(model, layer, channels, size, args.steps, max_steps)
    one = per_image_seconds(model, "conv3_1", 1, args.batch_size, 3)
    sixteen = per_image_seconds(model, "conv3_1", 16, args.batch_size, 3)
    print(f"batch of 16 vs one at a time (conv3_1, {args.batch_size} px, {dev.type}): per image "
          f"{sixteen * 1e3:.0f} ms vs {one * 1e3:.0f} ms, ratio {sixteen / one:.2f}")
    worst = max(ratios.values())
    per = ", ".join(f"{layer} {size}: {r:.2f}" for (size, layer), r in ratios.items())
    print(f"worst time ratio nstlib/naive to reach the naive loop's robust {args.steps}-step score "
          f"({', '.join(args.layers)} at {', '.join(map(str, args.sizes))} px): "
          f"{f'{worst:.2f}' if worst != float('inf') else 'not reached in one of them'} ({per}; target <= 0.33)")


if __name__ == "__main__":
    main()
