"""Student copies of the lessons: every cell kept, with its id, except the hidden solutions.

    python tools/student_notebooks.py            # make student-notebooks: build/student-notebooks/*.ipynb
    python tools/student_notebooks.py --out DIR

Each lesson hides its solutions and reference observations in ``<details>`` blocks of markdown; a course
that hands out notebooks for graded work gives students copies without them. A markdown cell that held
nothing else is left out; every other cell, its id and its metadata stay as they are.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "student-notebooks"
_TAG = re.compile(r"<details\b[^>]*>|</details\s*>", re.IGNORECASE)


def without_details(text: str) -> str:
    """The markdown with every ``<details>...</details>`` block (nested ones included) removed."""
    kept, depth, start = [], 0, 0
    for match in _TAG.finditer(text):
        opening = not match.group(0).startswith("</")
        if opening and depth == 0:
            kept.append(text[start:match.start()])
        depth = depth + 1 if opening else max(depth - 1, 0)
        if not opening and depth == 0:
            start = match.end()
    if depth == 0:
        kept.append(text[start:])
    return re.sub(r"\n{3,}", "\n\n", "".join(kept)).strip("\n")


def student_copy(nb):
    """The lesson without its ``<details>`` blocks (the notebook given is changed and returned)."""
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "markdown" and _TAG.search(cell.source):
            cell.source = without_details(cell.source)
            if not cell.source.strip():
                continue
        cells.append(cell)
    nb.cells = cells
    return nb


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"folder for the copies (default {OUT})")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        before = len(nb.cells)
        nbformat.write(student_copy(nb), args.out / path.name)
        print(f"{args.out / path.name}: {before - len(nb.cells)} solution cell(s) left out")
    return 0


if __name__ == "__main__":
    sys.exit(main())
