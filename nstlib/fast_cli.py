"""Command line for lesson 5: train a fast style model, and ``stylize --model NAME`` with one.

    python -m nstlib train-fast --style mosaic --steps 1000 -o mosaic.pth
    python -m nstlib train-fast --style mosaic --content ~/coco/train2017 --crop 256 --batch-size 8 -o mosaic.pth
    torchrun --nproc_per_node=4 -m nstlib train-fast --content ~/coco/train2017 ... -o mosaic.pth   (4 GPUs)
    python -m nstlib train-fast --resume mosaic_run/checkpoint.pth -o mosaic.pth    (go on after a stop)
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


def settings_from_args(args):
    """The run's ``fast.TrainSettings``: the defaults (or, with --resume, the checkpoint's), then every
    option given on the command line on top (so ``--resume ... --steps 4000`` lengthens a run)."""
    from . import fast

    settings = fast.TrainSettings()
    if args.resume:
        saved = fast.read_checkpoint(args.resume)["settings"]
        for f in fields(settings):
            if f.name in saved:
                value = saved[f.name]
                setattr(settings, f.name, tuple(value) if isinstance(value, list) else value)
    for f in fields(settings):
        value = getattr(args, f.name, None)
        if value is not None:
            setattr(settings, f.name, tuple(value) if isinstance(value, list) else value)
    return settings


def run_dir_for(output) -> Path:
    """Where a run's checkpoint, losses.csv and previews go by default: beside the model, MODEL_run/."""
    output = Path(output)
    return output.with_name(f"{output.stem}_run")


def _cmd_train(args) -> int:
    from . import distributed, fast

    settings = settings_from_args(args)
    run_dir = Path(args.run_dir) if args.run_dir else run_dir_for(args.output)
    net, record = fast.train(settings, device=args.device, run_dir=run_dir, checkpoint=args.checkpoint,
                             checkpoint_every=args.checkpoint_every, resume=args.resume,
                             preview_every=args.preview_every, progress=not args.no_progress)
    if not distributed.is_main():
        return 0
    final = {k: round(v[-1], 4) for k, v in record.losses.items()}
    extra = {"command": command_for(settings, args.output), "loss_network": record.loss_network,
             "seconds": round(record.seconds, 1), "processes": record.world_size,
             "final_losses": final, "stopped": record.stopped, "steps_done": record.step,
             "skipped_files": len(record.skipped)}
    path = fast.export(net, args.output, record.settings, extra)
    print(f"wrote {path} after {record.step} steps in {record.seconds:.0f} s ({record.stopped}); final {final}")
    print(f"losses: {run_dir / 'losses.csv'}; checkpoint: {record.checkpoint}")
    if record.stopped == "interrupted" and record.checkpoint:
        print(f"continue with: python -m nstlib train-fast --resume {shlex.quote(record.checkpoint)} "
              f"-o {shlex.quote(str(args.output))}   (or torchrun ... -m nstlib train-fast with any number of "
              f"processes)")
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
    for name, kind in (("steps", int), ("crop", int), ("lr", float), ("style_size", int),
                       ("content_weight", float), ("style_weight", float), ("tv_weight", float), ("width", int),
                       ("n_residual", int), ("seed", int)):
        p.add_argument(f"--{name.replace('_', '-')}", dest=name, type=kind)
    p.add_argument("--batch-size", "--batch", dest="batch", type=int,
                   help="crops per step over all processes; torchrun's N processes take 1/N each (default 2)")
    p.add_argument("--style-layers", dest="style_layers", nargs="+")
    p.add_argument("--content-layers", dest="content_layers", nargs="+")
    p.add_argument("--weights", help="VGG weights for the loss: auto (default), imagenet, offline, or a path")
    p.add_argument("--content", help="train on the photos in this folder and its subfolders (JPEG, PNG, WebP; "
                                     "unreadable files are skipped); default: the bundled photos")
    p.add_argument("--workers", type=int,
                   help="DataLoader processes per training process (default: 0 on a CPU, else up to 8)")
    p.add_argument("--precision", choices=["auto", "fp32", "bf16", "fp16"],
                   help="auto (default): bf16 on a CUDA GPU that has it, else fp16 with a gradient scaler; "
                        "fp32 on a CPU or MPS")
    p.add_argument("--run-dir", help="folder for checkpoint.pth, losses.csv and previews/ (default: MODEL_run "
                                     "beside the -o model)")
    p.add_argument("--checkpoint", help="the checkpoint's path (default: RUN_DIR/checkpoint.pth)")
    p.add_argument("--checkpoint-every", type=int, default=200, help="steps between checkpoints (default 200)")
    p.add_argument("--preview-every", type=int, default=200,
                   help="steps between preview pictures in RUN_DIR/previews (default 200; 0: none)")
    p.add_argument("--resume", help="continue from a checkpoint, with its settings unless given again here, "
                                    "and any number of processes")
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
