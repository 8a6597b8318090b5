"""``python -m nstlib``: the command line lives in ``nstlib.cli``."""

from __future__ import annotations

import sys


def main(argv=None) -> int:
    try:
        from .cli import main as run
    except KeyboardInterrupt:  # Ctrl-C while Python is still loading
        print("\nnstlib: interrupted; nothing was written", file=sys.stderr)
        return 130
    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
