"""Command line for lesson 5: train a fast style model, and ``stylize --model NAME`` with one.

    python -m nstlib train-fast --style mosaic --steps 1000 -o mosaic.pth
    python -m nstlib stylize --model strokes photo.jpg -o out.png
    python -m nstlib stylize --model strokes animation.gif -o out.gif      (frame by frame)
    python -m nstlib stylize --model strokes frames/ -o styled_frames/     (a folder of frames)
"""

from __future__ import annotations

import shlex
import time
from dataclasses import fields
from pathlib import Path


def command_for(settings, output) -> str:
    """The train-fast command that reproduces ``settings`` (only what differs from the defaults)."""
    from . import fast

    defaults = fast.TrainSettings()
    parts = ["python -m nstlib train-fast"]
    for f in fields(settings):
        value = getattr(settings, f.name)
        if value != getattr(defaults, f.name) or f.name in ("style", "steps"):
            flag = "--" + f.name.replace("_", "-")
            parts.append(f"{flag} {' '.join(map(str, value))}" if isinstance(value, tuple) else f"{flag} {value}")
    return " ".join(parts + ["-o", shlex.quote(str(output))])


def _cmd_train(args) -> int:
    from . import fast

    settings = fast.TrainSettings()
    for f in fields(settings):
        value = getattr(args, f.name, None)
        if value is not None:
            setattr(settings, f.name, tuple(value) if isinstance(value, list) else value)
    net, record = fast.train(settings, device=args.device, checkpoint=args.checkpoint, resume=args.resume,
                             progress=not args.no_progress)
    final = {k: round(v[-1], 4) for k, v in record.losses.items()}
    extra = {"command": command_for(settings, args.output), "loss_network": record.loss_network,
             "seconds": round(record.seconds, 1),
             "final_losses": final, "stopped": record.stopped, "steps_done": record.step}
    path = fast.export(net, args.output, record.settings, extra)
    print(f"wrote {path} after {record.step} steps in {record.seconds:.0f} s ({record.stopped}); final {final}")
    return 0


def _cmd_stylize_fast(args) -> int:
    from . import fast, images

    net = fast.load(args.model, device=args.device)
    src = Path(args.content) if args.content else None
    start = time.perf_counter()
    if src is not None and (src.is_dir() or src.suffix.lower() == ".gif"):
        out = fast.stylize_animation(net, src, args.output, size=args.size)
    else:
        from .style_cli import _image

        out = images.save(fast.stylize(net, _image(args.content, "content"), size=args.size), args.output)
    print(f"wrote {out} with the '{args.model}' model in {time.perf_counter() - start:.2f} s")
    return 0


def register(subparsers) -> None:
    from . import fast

    p = subparsers.add_parser("train-fast", help="train a fast feed-forward style model (lesson 5)",
                              description=__doc__.splitlines()[0])
    p.add_argument("--style", help="texture name, sample name or image path (default: strokes)")
    for name, kind in (("steps", int), ("crop", int), ("batch", int), ("lr", float), ("style_size", int),
                       ("content_weight", float), ("style_weight", float), ("tv_weight", float), ("width", int),
                       ("n_residual", int), ("seed", int)):
        p.add_argument(f"--{name.replace('_', '-')}", dest=name, type=kind)
    p.add_argument("--style-layers", dest="style_layers", nargs="+")
    p.add_argument("--content-layers", dest="content_layers", nargs="+")
    p.add_argument("--weights", help="VGG weights for the loss: auto (default), imagenet, offline, or a path")
    p.add_argument("--folder", help="also train on every image in this folder")
    p.add_argument("--checkpoint", help="write a checkpoint here every 200 steps (resume with --resume)")
    p.add_argument("--resume", help="continue from a checkpoint")
    p.add_argument("--device")
    p.add_argument("-o", "--output", required=True, help="the trained model (.pth, with a .json beside it)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_cmd_train)

    stylize = subparsers.choices.get("stylize")
    if stylize is None:
        return
    stylize.add_argument("--model", choices=fast.available() or None,
                         help="use a trained fast model instead of optimisation (CONTENT may be a .gif or a "
                              "folder of frames); no STYLE is needed")
    optimise = stylize.get_default("func")

    def dispatch(args):
        if args.model:
            if args.style:
                raise ValueError("--model already holds its style: give only CONTENT with --model")
            return _cmd_stylize_fast(args)
        return optimise(args)

    stylize.set_defaults(func=dispatch)
