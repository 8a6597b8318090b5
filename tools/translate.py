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
    python tools/translate.py build ko      # write notebooks/ko/NN_*.ipynb from the English lessons

``build`` writes each lesson of the edition from its English lesson: every markdown cell is its translation
(with its links one folder deeper), every code cell is copied byte for byte, except that the setup cell gains one
line after ``import nstlib`` choosing the language; cell ids, tags and slide metadata are the English cells'.
The few cells whose committed output nbval compares keep it only in English (their output is English).
It refuses while any translation is missing or stale. ``tests/test_translations.py`` fails when the committed
notebooks/ko/ differs from what ``build`` writes, so the editions never drift.

The class plans are translated whole: ``docs/<lang>/instructor/<plan>.md`` opens with
``<!-- en_sha256: ... -->``, the hash of the English plan it translates, and ``check`` fails when they differ.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import re
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


#: The tag of the cells whose committed output nbval compares (the English lessons keep them).
CHECKED = "nbval-check-output"
#: The line the setup cell of an edition gains after ``import nstlib``.
LANGUAGE_LINE = 'nstlib.i18n.set_language("{language}")  # this edition\'s language for figures, messages and feedback'


def edition_path(language: str, lesson: Path) -> Path:
    return NOTEBOOKS / language / lesson.name


def one_folder_deeper(text: str) -> str:
    """Relative links of a markdown cell, for a notebook one folder below the English one (siblings stay)."""
    return re.sub(r"\]\((\.\./)", r"](../\1", text)


def edition(nb, catalogue: dict, language: str):
    """The lesson ``nb`` in ``language``: translated markdown, the same code, the setup cell choosing the
    language. Raises SystemExit naming the cells whose translation is missing or stale."""
    found = problems(nb, catalogue)
    if found:
        raise SystemExit(f"{catalogue['lesson']}: cannot write the {language} edition:\n  " + "\n  ".join(found)
                         + f"\n(python tools/translate.py check {language} lists them all)")
    out = copy.deepcopy(nb)
    for cell in out.cells:
        if cell.cell_type == "markdown":
            cell.source = one_folder_deeper(catalogue["cells"][cell.id]["text"])
    for cell in out.cells:
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "code" and CHECKED in tags:
            # The English run's output, which nbval compares, is English; the English lesson checks it.
            cell.outputs, cell.execution_count = [], None
            cell.metadata["tags"] = [t for t in tags if t != CHECKED]
            if not cell.metadata["tags"]:
                del cell.metadata["tags"]
    setup = next(c for c in out.cells if c.cell_type == "code")
    lines = setup.source.split("\n")
    if "import nstlib" not in lines:
        raise SystemExit(f"{catalogue['lesson']}: the setup cell (the first code cell) has no line "
                         "'import nstlib' to choose the language after")
    at = lines.index("import nstlib") + 1
    lines.insert(at, LANGUAGE_LINE.format(language=language))
    setup.source = "\n".join(lines)
    return out


def written(language: str, lesson: Path) -> str:
    """The text of the edition's notebook for ``lesson``, exactly as ``build`` writes it."""
    import nbformat

    nb = nbformat.read(lesson, as_version=4)
    return nbformat.writes(edition(nb, load_catalogue(language, lesson), language)) + "\n"


def build(language: str, only=None) -> None:
    """Write notebooks/<language>/NN_*.ipynb from the English lessons and the catalogues."""
    for lesson in lessons():
        if only and not any(lesson.stem.startswith(o) for o in only):
            continue
        path = edition_path(language, lesson)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(written(language, lesson), encoding="utf-8")
        print(f"{path.relative_to(ROOT)}")


def plan_digest_line(text: str) -> str | None:
    """The ``en_sha256`` a translated plan says it was made from (its first line), or None."""
    match = re.match(r"<!-- en_sha256: ([0-9a-f]+) -->", text)
    return match.group(1) if match else None


def plan_problems(language: str) -> list[str]:
    """Class plans whose translation is missing or was made from another version of the English plan."""
    found = []
    for english in sorted((ROOT / "docs" / "instructor").glob("*.md")):
        path = ROOT / "docs" / language / "instructor" / english.name
        if not path.exists():
            found.append(f"{path.relative_to(ROOT)} is missing: translate {english.relative_to(ROOT)}")
            continue
        made_from = plan_digest_line(path.read_text(encoding="utf-8"))
        if made_from != digest(english.read_text(encoding="utf-8")):
            found.append(f"{path.relative_to(ROOT)} was not made from the English plan as it is now: update it, "
                         f"then its first line to <!-- en_sha256: {digest(english.read_text(encoding='utf-8'))} -->")
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["extract", "check", "accept", "build"])
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
    if args.command == "build":
        build(args.language, args.only)
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
        edition_file = edition_path(args.language, lesson)
        if not found and (not edition_file.exists() or edition_file.read_text(encoding="utf-8")
                          != written(args.language, lesson)):
            print(f"{edition_file.relative_to(ROOT)} is not what its catalogue makes: "
                  f"python tools/translate.py build {args.language}")
            bad += 1
    if not args.only:
        for problem in plan_problems(args.language):
            print(problem)
            bad += 1
    print(f"{bad} problem(s)" if bad else "every translation is current")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
