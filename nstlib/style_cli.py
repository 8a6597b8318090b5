"""``python -m nstlib stylize [CONTENT] [STYLE ...] -o OUT.png``: style transfer from the command line.

CONTENT and STYLE are image files, or names of the bundled samples (``cat``, ``astronaut`` ...) and of the
project's textures (``strokes``, ``mosaic`` ...); with none given it paints the cat in the default
texture, so it works on a fresh machine with no network. Presets set size and steps; flags override them.
Other lessons extend the same parser (``add_stylize_arguments`` keeps the options in one place).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

PRESETS = {
    "fast": {"size": 256, "steps": 120},
    "default": {"size": 384, "steps": 200},
    "quality": {"size": 512, "steps": 400},
}


def _image(spec, kind):
    """A path, a sample photo name or a texture name -> something ``images.load`` reads."""
    from . import images, textures

    if spec is None:
        return images.sample("cat") if kind == "content" else textures.draw(textures.DEFAULT)
    if Path(spec).exists():
        return spec
    if spec in textures.names():
        return textures.draw(spec)
    if spec in images.sample_names():
        return images.sample(spec)
    raise FileNotFoundError(
        f"{kind} image {spec!r} is neither a file nor a bundled name. Bundled photos: "
        f"{', '.join(images.sample_names())}; textures: {', '.join(textures.names())}"
    )


def add_stylize_arguments(p: argparse.ArgumentParser) -> None:
    from . import style

    p.add_argument("content", nargs="?", help="content image file or sample name (default: cat)")
    p.add_argument("style", nargs="*", help="style image file(s) or texture name(s) (default: strokes)")
    p.add_argument("-o", "--output", default="stylized.png", help="where to write the result (PNG, JPEG)")
    p.add_argument("--preset", choices=list(PRESETS), default="default",
                   help="size and steps: fast (256 px), default (384 px), quality (512 px)")
    p.add_argument("--size", type=int, help="longest side of the result in pixels")
    p.add_argument("--steps", type=int, help="optimiser steps over all scales")
    p.add_argument("--scales", type=int,
                   help="coarse-to-fine levels (1: one scale, like the tutorials; default: two from 512 px up)")
    p.add_argument("--content-weight", type=float, default=style.CONTENT_WEIGHT)
    p.add_argument("--style-weight", type=float, default=style.STYLE_WEIGHT)
    p.add_argument("--tv-weight", type=float, default=style.TV_WEIGHT)
    p.add_argument("--blend", type=float, nargs="+", help="one weight per style image")
    p.add_argument("--optimizer", choices=["lbfgs", "adam"], default="lbfgs")
    p.add_argument("--init", choices=["content", "style", "noise"], default="content")
    p.add_argument("--preserve-colors", action="store_true", help="keep the content's colours")
    p.add_argument("--pool", choices=["max", "avg"], default="max")
    p.add_argument("--weights", help="auto (default), imagenet, offline, random, or a .pth path")
    p.add_argument("--device", help="cpu, cuda, cuda:1, mps (default: the best available)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _cmd_stylize(args) -> int:
    from . import images, style
    from .env import device

    try:
        dev = device(args.device)
    except RuntimeError as error:
        raise ValueError(str(error)) from None
    preset = PRESETS[args.preset]
    size = args.size or preset["size"]
    steps = args.steps or preset["steps"]
    styles = [_image(s, "style") for s in args.style] or [_image(None, "style")]
    start = time.perf_counter()
    result = style.stylize(
        _image(args.content, "content"), styles, size=size, steps=steps, scales=args.scales or "auto",
        optimizer=args.optimizer, content_weight=args.content_weight, style_weight=args.style_weight,
        tv_weight=args.tv_weight, style_blend=args.blend, init=args.init, preserve_colors=args.preserve_colors,
        pool=args.pool, weights=args.weights, device=dev, seed=args.seed, progress=not args.no_progress,
    )
    path = images.save(result.image, args.output)
    rec = result.record
    final = ", ".join(f"{k} {v:.3g}" for k, v in rec.final().items())
    print(f"wrote {path} ({result.image.shape[-1]}x{result.image.shape[-2]} px, {rec.steps} steps, "
          f"{rec.evals} loss evaluations, {time.perf_counter() - start:.1f} s; {final})")
    if rec.stopped not in ("finished",):
        print(f"note: {rec.message}")
    return 0 if rec.stopped in ("finished", "interrupted") else 1


def register(subparsers) -> argparse.ArgumentParser:
    """Add ``stylize`` to the ``python -m nstlib`` parser; returns the sub-parser so others can extend it."""
    p = subparsers.add_parser("stylize", help="paint an image in the style of another (neural style transfer)",
                              description=__doc__.splitlines()[0])
    add_stylize_arguments(p)
    p.set_defaults(func=_cmd_stylize)
    return p
