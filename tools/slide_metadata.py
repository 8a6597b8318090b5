"""Slide metadata for every lesson, derived from the notebook's own structure so slides never drift from it.

    python tools/slide_metadata.py notebooks/*.ipynb           # write it
    python tools/slide_metadata.py --check notebooks/*.ipynb   # exit 1 where a notebook is out of date

JupyterLab's RISE extension and `nbconvert --to slides` (`make slides`) both read ``slideshow.slide_type``:
- the title cell and every ``## `` section start a slide; the setup cell is skipped (it still runs live);
- a section heading followed by long narration is split into its own cell first;
- each figure (a code cell tagged ``figure``) gets a sub-slide, together with the short text that
  introduces it;
- long narration (more than NOTES_WORDS words of running text, not lists) goes to the speaker notes (S);
- everything else continues the slide it follows.
"""

from __future__ import annotations

import argparse
import sys

import nbformat

FIGURE_TAG = "figure"
NOTES_WORDS = 70
SETUP_CELL = 1


def is_heading(cell) -> bool:
    return cell.cell_type == "markdown" and cell.source.lstrip().startswith(("# ", "## "))


def is_figure(cell) -> bool:
    return cell.cell_type == "code" and FIGURE_TAG in cell.metadata.get("tags", [])


def prose_words(text: str) -> int:
    """Words of running text; lists and tables are slide material, not narration."""
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith(("- ", "* ", "|", "#", "1.", "2.", "3."))]
    return len(" ".join(lines).split())


def is_long(cell) -> bool:
    return cell.cell_type == "markdown" and prose_words(cell.source) > NOTES_WORDS


def split_long_sections(nb) -> bool:
    """Give a section heading its own cell when long narration follows it, so the narration can be notes.

    The title cell (the first) stays whole: it carries the badges. True when a cell was split."""
    changed = False
    cells = [nb.cells[0]]
    for cell in nb.cells[1:]:
        heading, _, body = cell.source.partition("\n")
        if is_heading(cell) and prose_words(body) > NOTES_WORDS:
            cell.source = heading
            cells += [cell, nbformat.v4.new_markdown_cell(body.strip("\n"))]
            changed = True
        else:
            cells.append(cell)
    nb.cells = cells
    return changed


def slide_types(nb) -> list[str]:
    """The slide type of each cell, by the rules above."""
    kinds = []
    for i, cell in enumerate(nb.cells):
        if i == 0 or is_heading(cell):
            kinds.append("slide")
        elif i == SETUP_CELL and cell.cell_type == "code":
            kinds.append("skip")
        elif is_long(cell):
            kinds.append("notes")
        else:
            kinds.append("-")
    for i, cell in enumerate(nb.cells):
        if not is_figure(cell) or kinds[i] != "-":
            continue
        before = i - 1
        if before > 0 and kinds[before] == "-" and nb.cells[before].cell_type == "markdown":
            kinds[before] = "subslide"  # the figure's introduction opens its slide
        elif kinds[before] not in ("slide", "subslide"):
            kinds[i] = "subslide"
    return kinds


def apply(nb) -> bool:
    """Split long sections and write the slide types into the notebook; True when something changed."""
    changed = split_long_sections(nb)
    for cell, kind in zip(nb.cells, slide_types(nb)):
        if cell.metadata.get("slideshow", {}).get("slide_type") != kind:
            cell.metadata["slideshow"] = {"slide_type": kind}
            changed = True
    return changed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if out of date")
    args = parser.parse_args(argv)
    stale = []
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        if apply(nb):
            stale.append(path)
            if not args.check:
                nbformat.write(nb, path)
    if args.check and stale:
        print("slide metadata out of date (run python tools/slide_metadata.py notebooks/*.ipynb):",
              *stale, sep="\n  ")
        return 1
    print("\n".join(f"{p}: {'updated' if p in stale else 'up to date'}" for p in args.notebooks))
    return 0


if __name__ == "__main__":
    sys.exit(main())
