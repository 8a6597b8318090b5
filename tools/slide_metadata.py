"""Slide metadata for every lesson, derived from the notebook's own structure so slides never drift from it.

    python tools/slide_metadata.py notebooks/*.ipynb           # write it
    python tools/slide_metadata.py --check notebooks/*.ipynb   # exit 1 where a notebook is out of date

JupyterLab's RISE extension and `nbconvert --to slides` (`make slides`) both read ``slideshow.slide_type``,
and start a slide only at a cell. So the lesson's markdown is first cut into cells:
- every heading (``#``, ``##``, ``###``) begins its own cell, which holds its section's text up to the next
  heading (headings inside code blocks and ``<details>`` do not count);
- long running narration (a run of paragraphs of more than NOTES_WORDS words) becomes a cell of its own,
  in reading order, so that it can be speaker notes; lists, tables, formulas, code, ``<details>`` and the
  text of the Summary, Exercises and objectives sections stay on the slide. The title cell stays whole.
Then each cell gets its slide type:
- the title and every ``#``/``##`` heading start a slide, every ``###`` a sub-slide; the setup cell is
  skipped (it still runs live);
- each figure (a code cell tagged ``figure`` or ``figure-imagenet``) gets a sub-slide, together with the
  short text before it (unless that text is all its section's slide has after the heading);
- a cell of long running narration is speaker notes (S); everything else continues the slide it follows.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys

import nbformat

FIGURE_TAG = "figure"
#: A cell that draws its figure only with the ImageNet weights (else it prints that it skipped).
IMAGENET_FIGURE_TAG = "figure-imagenet"
NOTES_WORDS = 70
SETUP_CELL = 1
#: Sections whose text is the slide itself: never speaker notes.
ON_SLIDE = re.compile(r"summary|exercise|objective|what you will", re.IGNORECASE)

_HEADING = re.compile(r"^(#{1,3}) \S")
_MATERIAL = re.compile(r"^\s*(?:[-*+] |\d+[.)] |\||>|!\[|<|\$\$|```|~~~)")


def heading_level(line: str) -> int:
    match = _HEADING.match(line)
    return len(match.group(1)) if match else 0


def blocks(text: str) -> list[tuple[str, str]]:
    """The markdown as (kind, text) blocks in order; kind is 'heading', 'material' (stays on a slide) or
    'narration' (running text). Blank lines separate blocks, except inside code, ``$$`` and ``<details>``."""
    found, current, fence, details = [], [], None, 0

    def close():
        if current:
            body = "\n".join(current)
            lines = [ln for ln in current if ln.strip()]
            kind = "material" if any(_MATERIAL.match(ln) for ln in lines) else "narration"
            found.append((kind, body))
            current.clear()

    for line in text.splitlines():
        stripped = line.strip()
        if fence is None and not details:
            if heading_level(line):
                close()
                found.append(("heading", line))
                continue
            if not stripped:
                close()
                continue
        current.append(line)
        if fence is not None:
            if stripped.startswith(fence) or (fence == "$$" and stripped.endswith("$$") and stripped != "$$"):
                fence = None
        elif stripped.startswith(("```", "~~~")):
            fence = stripped[:3]
        elif stripped.startswith("$$") and not (stripped.endswith("$$") and len(stripped) > 2):
            fence = "$$"
        details += len(re.findall(r"<details", line)) - len(re.findall(r"</details>", line))
        details = max(details, 0)
    close()
    return found


def words(text: str) -> int:
    return len(text.split())


def split_markdown(text: str, on_slide: bool = False, whole: bool = False) -> list[str]:
    """A markdown cell cut as the module says: at every heading, and around each run of narration longer
    than NOTES_WORDS words unless its section stays on the slide (``on_slide``: the section the cell starts
    in; ``whole``: the title cell). Joining the pieces with blank lines gives the text back."""
    pieces: list[list[str]] = [[]]
    section_on_slide = on_slide or whole
    run: list[str] = []

    def flush_run():
        if run and not section_on_slide and sum(words(b) for b in run) > NOTES_WORDS:
            pieces.extend([list(run), []])
        else:
            pieces[-1].extend(run)
        run.clear()

    for kind, body in blocks(text):
        if kind == "narration":
            run.append(body)
            continue
        flush_run()
        if kind == "heading":
            section_on_slide = whole or bool(ON_SLIDE.search(body))
            pieces.append([])
        pieces[-1].append(body)
    flush_run()
    return ["\n\n".join(piece) for piece in pieces if piece]


def on_slide_sections(nb) -> list[bool]:
    """For each cell, whether the section it starts in keeps all its text on the slide (the title's, the
    Summary's, the Exercises', the objectives')."""
    flags, current = [], True  # before the first section: the title's
    for cell in nb.cells:
        found = blocks(cell.source) if cell.cell_type == "markdown" else []
        if found and found[0][0] == "heading":
            current = bool(ON_SLIDE.search(found[0][1]))
        flags.append(current)
        for kind, body in found:
            if kind == "heading":
                current = bool(ON_SLIDE.search(body))
    return flags


def is_heading(cell) -> bool:
    return cell.cell_type == "markdown" and heading_level(cell.source.lstrip()) > 0


def heading_only(cell) -> bool:
    """A heading with no text of its own: the text after it belongs on its slide."""
    return cell.cell_type == "markdown" and [k for k, _ in blocks(cell.source)] == ["heading"]


def is_figure(cell) -> bool:
    tags = cell.metadata.get("tags", [])
    return cell.cell_type == "code" and (FIGURE_TAG in tags or IMAGENET_FIGURE_TAG in tags)


def is_narration(cell) -> bool:
    """A markdown cell of long running narration alone: speaker notes."""
    found = blocks(cell.source) if cell.cell_type == "markdown" else []
    return bool(found) and all(k == "narration" for k, _ in found) and \
        sum(words(b) for _, b in found) > NOTES_WORDS


def piece_id(cell_id: str, index: int) -> str:
    """The id of the ``index``-th piece of a split cell: the first keeps the cell's id, the others get ids
    derived from it, so that splitting again gives the same ids."""
    if index == 0:
        return cell_id
    return hashlib.sha1(f"{cell_id}/{index}".encode()).hexdigest()[:8]


def split_cells(nb) -> bool:
    """Cut the markdown cells as the module says; True when a cell was split."""
    cells, changed = [], False
    for i, (cell, on_slide) in enumerate(zip(nb.cells, on_slide_sections(nb))):
        pieces = split_markdown(cell.source, on_slide, whole=i == 0) if cell.cell_type == "markdown" else []
        if len(pieces) <= 1:
            cells.append(cell)
            continue
        changed = True
        for k, text in enumerate(pieces):
            piece = nbformat.v4.new_markdown_cell(text, id=piece_id(cell.get("id", "cell"), k))
            if k == 0:
                piece.metadata = {key: v for key, v in cell.metadata.items() if key != "slideshow"}
                if cell.get("attachments"):
                    piece.attachments = cell.attachments
            cells.append(piece)
    nb.cells = cells
    return changed


def slide_types(nb) -> list[str]:
    """The slide type of each cell, by the rules above."""
    kinds = []
    for i, (cell, on_slide) in enumerate(zip(nb.cells, on_slide_sections(nb))):
        level = heading_level(cell.source.lstrip()) if cell.cell_type == "markdown" else 0
        if i == 0 or level in (1, 2):
            kinds.append("slide")
        elif level == 3:
            kinds.append("subslide")
        elif i == SETUP_CELL and cell.cell_type == "code":
            kinds.append("skip")
        elif is_narration(cell) and not on_slide:
            kinds.append("notes")
        else:
            kinds.append("-")
    for i, cell in enumerate(nb.cells):
        if not is_figure(cell) or kinds[i] != "-":
            continue
        before = i - 1
        if before > 0 and kinds[before] == "-" and nb.cells[before].cell_type == "markdown" \
                and not heading_only(nb.cells[before - 1]):
            kinds[before] = "subslide"  # the figure's introduction opens its slide
        elif kinds[before] not in ("slide", "subslide"):
            kinds[i] = "subslide"
    return kinds


def apply(nb) -> bool:
    """Cut the markdown and write the slide types into the notebook; True when something changed."""
    changed = split_cells(nb)
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
