"""Lessons in another language, generated from the English ones, never forked.

Each lesson's translations live in a catalogue, ``docs/<lang>/lessons/NN_<lesson>.json``, keyed by the id of
the markdown cell they translate, with a hash of the English text each was made from:

    {"lesson": "04_neural_style_transfer", "language": "ko",
     "cells": {"c01ef2cd": {"en_sha256": "3f2a...", "en": "# Lesson 4: ...", "text": "# 4강: ..."}}}

``en`` is there for the translator and for review (what the text was made from); ``en_sha256`` is what the check
compares. When an English cell changes, its hash no longer matches and ``check`` fails until the translation is
updated: stale text never ships silently.

    python tools/translate.py extract ko    # add entries for new or changed English cells (text left empty)
    python tools/translate.py check ko      # exit 1 on a missing, empty or stale translation
    python tools/translate.py accept ko 04 c01ef2cd   # after updating a cell's text: it now translates the
                                                      # English as it is

The Korean notebooks, notebooks/ko/NN_*.ipynb, are to be written from these catalogues (code cells copied byte
for byte, the setup cell choosing the language) once nstlib's own strings speak Korean.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def digest(text: str) -> str:
    """The hash that ties a translation to the English text it was made from."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def lessons() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def catalogue_path(language: str, lesson: Path) -> Path:
    return ROOT / "docs" / language / "lessons" / f"{lesson.stem}.json"


def load_catalogue(language: str, lesson: Path) -> dict:
    path = catalogue_path(language, lesson)
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    return {"lesson": lesson.stem, "language": language, "cells": {}}


def markdown_cells(nb) -> list:
    return [cell for cell in nb.cells if cell.cell_type == "markdown"]


def problems(nb, catalogue: dict) -> list[str]:
    """What keeps a lesson's translation from shipping: missing, empty or stale entries."""
    found = []
    for cell in markdown_cells(nb):
        entry = catalogue["cells"].get(cell.id)
        first = cell.source.strip().splitlines()[0][:60] if cell.source.strip() else ""
        if entry is None:
            found.append(f"cell {cell.id} has no translation ({first!r})")
        elif not entry.get("text", "").strip():
            found.append(f"cell {cell.id} is not translated yet ({first!r})")
        elif entry.get("en_sha256") != digest(cell.source):
            found.append(f"cell {cell.id} changed in English since it was translated ({first!r}): update its text, "
                         "then its en and en_sha256 (python tools/translate.py extract refreshes en)")
    return found


def extract(language: str, only=None) -> None:
    """Add an entry for every English markdown cell that has none; for a changed cell, refresh ``en`` but keep
    the old text and hash, so the check keeps failing until someone updates the translation."""
    import nbformat

    for lesson in lessons():
        if only and not any(lesson.stem.startswith(o) for o in only):
            continue
        nb = nbformat.read(lesson, as_version=4)
        catalogue = load_catalogue(language, lesson)
        cells = {}
        for cell in markdown_cells(nb):
            entry = dict(catalogue["cells"].get(cell.id) or {"en_sha256": digest(cell.source), "text": ""})
            if not entry.get("text"):
                entry["en_sha256"] = digest(cell.source)
            entry["en"] = cell.source
            cells[cell.id] = {"en_sha256": entry["en_sha256"], "en": entry["en"], "text": entry.get("text", "")}
        catalogue["cells"] = cells  # in the lesson's order; cells gone from the lesson are dropped
        path = catalogue_path(language, lesson)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(catalogue, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"{path.relative_to(ROOT)}: {len(cells)} cells, "
              f"{sum(1 for e in cells.values() if not e['text'])} to translate")


def accept(language: str, lesson_prefix: str, cell_ids) -> None:
    """Mark the given cells' translations as made from the English text as it is now (after updating them)."""
    import nbformat

    (lesson,) = [p for p in lessons() if p.stem.startswith(lesson_prefix)]
    sources = {c.id: c.source for c in markdown_cells(nbformat.read(lesson, as_version=4))}
    catalogue = load_catalogue(language, lesson)
    for cell_id in cell_ids:
        if cell_id not in sources or cell_id not in catalogue["cells"]:
            raise SystemExit(f"{lesson.name} has no markdown cell {cell_id} in its catalogue: run extract first")
        entry = catalogue["cells"][cell_id]
        entry["en"], entry["en_sha256"] = sources[cell_id], digest(sources[cell_id])
    catalogue_path(language, lesson).write_text(json.dumps(catalogue, ensure_ascii=False, indent=1) + "\n",
                                                encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["extract", "check", "accept"])
    parser.add_argument("language")
    parser.add_argument("cells", nargs="*", help="accept: the lesson number, then the cell ids")
    parser.add_argument("--only", nargs="+", help="lesson numbers, e.g. 02 04")
    args = parser.parse_args(argv)
    if args.command == "accept":
        if len(args.cells) < 2:
            parser.error("accept needs a lesson number and at least one cell id, e.g. accept ko 04 c01ef2cd")
        accept(args.language, args.cells[0], args.cells[1:])
        return 0
    if args.command == "extract":
        extract(args.language, args.only)
        return 0
    import nbformat

    bad = 0
    for lesson in lessons():
        if args.only and not any(lesson.stem.startswith(o) for o in args.only):
            continue
        found = problems(nbformat.read(lesson, as_version=4), load_catalogue(args.language, lesson))
        for problem in found:
            print(f"{lesson.name}: {problem}")
        bad += len(found)
    print(f"{bad} problem(s)" if bad else "every translation is current")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
