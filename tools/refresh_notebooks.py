"""Run notebooks in smoke mode and keep only the outputs that nbval compares.

    python tools/refresh_notebooks.py notebooks/00_setup_and_tour.ipynb [...]
    python tools/refresh_notebooks.py --strip-only notebooks/*.ipynb

Cells tagged ``nbval-check-output`` keep their (text) outputs and execution counts; every other output
and execution count is removed, as docs/design.md asks. Run it after editing a notebook, before committing.
"""

from __future__ import annotations

import argparse
import os
import sys

import nbformat

CHECKED = "nbval-check-output"


def strip(nb) -> None:
    nb.metadata.pop("widgets", None)  # saved widget state is output too
    for cell in nb.cells:
        cell.metadata.pop("execution", None)  # when each cell ran: a timestamp in every diff
        if cell.cell_type != "code":
            continue
        if CHECKED in cell.metadata.get("tags", []):
            # nbval treats a cell without an execution count as unrun, so checked cells keep theirs.
            cell.outputs = [o for o in cell.outputs if o.output_type in ("stream", "execute_result")]
        else:
            cell.outputs = []
            cell.execution_count = None


def run(nb, path: str) -> None:
    from nbclient import NotebookClient

    os.environ["NSTLIB_SMOKE"] = "1"
    os.environ.setdefault("MPLBACKEND", "Agg")
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}}).execute()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+")
    parser.add_argument("--strip-only", action="store_true", help="do not run, only strip outputs")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        if not args.strip_only:
            run(nb, path)
        strip(nb)
        nbformat.write(nb, path)
        print(f"{path}: {'stripped' if args.strip_only else 'refreshed'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
