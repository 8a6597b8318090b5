"""Filter patterns against lucent's ``render_vis``, side by side in one process: saturation, scores, cross-size
scores and time per filter-step.

For each image size and layer, the same filters of the same network (the offline VGG16 pack unless --weights
says otherwise), the same number of steps, each library with its own defaults:
  * lucent: ``render_vis`` with ``param.image(size)`` (Fourier, decorrelated colour, sigmoid), its standard
    transforms, Adam at 0.05, and its own rule that an image under 224 px is upsampled to 224 before the
    network. The network is nstlib's VGG seen through ``LucentView``, whose children are named like nstlib's
    layers and which stops at the layer asked for, so lucent's ``layer:channel`` objective reads the same
    activations nstlib's objective reads (the conv output before its ReLU) and does no extra work.
  * nstlib: ``filters.visualize`` with its defaults.
  * the naive loop (``filters.naive_ascent``, Adam on raw pixels) at --naive-layers, for its robust score.
Each image is scored by ``filters.objective`` (raw), ``filters.robust_objective`` (the lesson's judge) and the
robust objective of the same image resized (bilinear) to the other size: a feature visualisation should not
depend on the pixel grid it was made on. ``rails``: the share of values within 0.02 of 0 or 1.

Targets (issue #24), each as a ratio that meets its target at 1 or more:
  cross-size: nstlib's robust score at the other size / lucent's, at every layer and size;
  saturation: lucent's rails share / nstlib's (shares under 0.5 % count as 0.5 %: both clean is a tie);
  speed: (lucent's seconds per filter-step / nstlib's) / 5;
  naive: nstlib's robust score / the naive loop's, at --naive-layers.
The last line is the worst of them.

    pip install -e ".[bench]"                                       # lucent, for this benchmark only
    python benchmarks/bench_filters_lucent.py                       # 128 and 224 px, 200 steps (long on a CPU)
    python benchmarks/bench_filters_lucent.py --sizes 128 --steps 100 --channels 12
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch

from nstlib import env, filters, models
from nstlib.core.layers import layer_names

RAIL_MARGIN = 0.02
RAIL_FLOOR = 0.005
SPEED_TARGET = 5.0


def import_lucent():
    """lucent's render, param and objectives modules, or a clear exit saying how to install them."""
    try:
        from lucent.optvis import objectives, param, render
    except ImportError as exc:
        sys.exit(f"bench_filters_lucent: torch-lucent is not installed ({exc}). It is a benchmark-only extra: "
                 f"run `pip install -e \".[bench]\"` in the repository (or `make bench`), then run this again.")
    return objectives, param, render


class LucentView(torch.nn.Module):
    """nstlib's VGG as lucent hooks it: children named ``preprocess``, ``conv1_1``, ... up to ``layer``."""

    def __init__(self, model, layer: str):
        super().__init__()
        self.preprocess = model.preprocess
        names = list(model.features._modules)
        for name in names[: names.index(layer) + 1]:
            self.add_module(name, model.features._modules[name])

    def forward(self, x):
        for module in self.children():
            x = module(x)
        return x


def lucent_patterns(lucent, model, layer, channels, size, steps, seed=0):
    """lucent's ``render_vis`` with its defaults, one image per channel; (N, 3, H, W) on the model's device."""
    objectives, param, render = lucent
    torch.manual_seed(seed)
    np.random.seed(seed)  # lucent draws its transforms with numpy
    view = LucentView(model, layer).eval()
    objective = sum(objectives.channel(layer, c, batch=i) for i, c in enumerate(channels))
    out = render.render_vis(view, objective, lambda: param.image(size, batch=len(channels)), thresholds=(steps,),
                            preprocess=False, progress=False, show_image=False)
    return torch.from_numpy(out[-1]).permute(0, 3, 1, 2).contiguous().to(next(model.parameters()).device)


def measure(model, layer, channels, images, seconds, steps, other):
    """The numbers of one library's images: rails, raw, robust, robust at the other size, s per filter-step."""
    return {
        "rails": filters.rail_share(images, RAIL_MARGIN),
        "raw": filters.objective(model, images, layer, channels).mean().item(),
        "robust": filters.robust_objective(model, images, layer, channels).mean().item(),
        "cross": filters.robust_objective(model, filters.seen_at(images, other), layer, channels).mean().item(),
        "step": seconds / (steps * len(channels)),
    }


def row_text(name, m, other):
    return (f"{name} {m['step'] * 1e3:6.0f} ms/filter-step, rails {m['rails']:5.1%}, raw {m['raw']:6.1f}, "
            f"robust {m['robust']:6.1f}, at {other} px {m['cross']:6.1f} ({m['cross'] / m['robust']:4.0%})")


def compare(lucent, model, layer, channels, size, steps, other, naive: bool):
    """One row: lucent, nstlib (and the naive loop) on the same filters at one size; returns the target ratios."""
    t0 = time.perf_counter()
    theirs = lucent_patterns(lucent, model, layer, channels, size, steps)
    lucent_seconds = time.perf_counter() - t0
    ours = filters.visualize(model, layer, channels, size=size, steps=steps, progress=False)
    lm = measure(model, layer, channels, theirs, lucent_seconds, steps, other)
    nm = measure(model, layer, channels, ours.images, ours.seconds, steps, other)
    print(f"{size:4d} px {layer} {channels} | {row_text('lucent', lm, other)} | {row_text('nstlib', nm, other)}",
          flush=True)
    key = f"{layer} {size}->{other}"
    ratios = {
        f"cross-size {key}": nm["cross"] / lm["cross"],
        f"saturation {layer} {size}": max(lm["rails"], RAIL_FLOOR) / max(nm["rails"], RAIL_FLOOR),
        f"speed {layer} {size}": lm["step"] / nm["step"] / SPEED_TARGET,
    }
    if naive:
        plain = filters.naive_ascent(model, layer, channels, size=size, steps=steps, progress=False)
        plain_robust = filters.robust_objective(model, plain.images, layer, channels).mean().item()
        print(f"{size:4d} px {layer} {channels} | naive {plain.seconds / (steps * len(channels)) * 1e3:6.0f} "
              f"ms/filter-step, robust {plain_robust:6.1f}, rails {filters.rail_share(plain.images, RAIL_MARGIN):5.1%}",
              flush=True)
        ratios[f"naive {layer} {size}"] = nm["robust"] / plain_robust
    return ratios


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 224], help="image sides (default 128 224)")
    parser.add_argument("--steps", type=int, default=200, help="steps for every loop (default 200)")
    parser.add_argument("--layers", nargs="+", default=["conv3_1", "conv4_1", "conv5_1"])
    parser.add_argument("--channels", type=int, nargs="+", default=[7, 12], help="filters per layer (default 7 12)")
    parser.add_argument("--naive-layers", nargs="*", default=["conv4_1", "conv5_1"],
                        help="layers where nstlib must beat the naive loop's robust score (default conv4_1 conv5_1)")
    parser.add_argument("--weights", default="offline")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    lucent = import_lucent()
    if args.threads:
        torch.set_num_threads(args.threads)
    # lucent puts its images on cuda:0 whenever CUDA exists, else on the CPU: the network goes there too.
    dev = env.device("cuda:0" if torch.cuda.is_available() else "cpu")
    env.seed(0)
    print(f"device {dev}, {torch.get_num_threads()} threads, {args.steps} steps each, weights {args.weights}; "
          f"nstlib {filters.VisualizeSettings()}")
    deepest = max(args.layers, key=layer_names().index)
    model = models.vgg("vgg16", args.weights, last_layer=deepest, device=dev, verbose=False)
    filters.visualize(model, args.layers[0], [0], size=32, steps=2, progress=False)  # one-time costs, untimed
    lucent_patterns(lucent, model, args.layers[0], [0], 32, 2)
    ratios = {}
    for size in args.sizes:
        other = 224 if size != 224 else 128
        for layer in args.layers:
            ratios.update(compare(lucent, model, layer, args.channels, size, args.steps, other,
                                  layer in args.naive_layers))
    print("ratios against the targets (>= 1 meets it): " + ", ".join(f"{k} {v:.2f}" for k, v in ratios.items()))
    kinds = {}
    for key, value in ratios.items():
        kind = key.split()[0]
        kinds[kind] = min(kinds.get(kind, value), value)
    worst = min(ratios, key=ratios.get)
    print(f"worst ratio against the targets (>= 1 meets it): {ratios[worst]:.2f} ({worst}); worst of each: "
          + ", ".join(f"{kind} {value:.2f}" for kind, value in kinds.items()))


if __name__ == "__main__":
    main()
