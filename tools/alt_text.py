"""Alt text for every figure, on the website and on the slides (tools/build_book.py).

A figure cell (a code cell tagged ``figure``) carries ``metadata["alt"]``: a list of strings, one per picture
the cell shows, in order (a plain string for a one-picture cell). Each says what the picture shows, for a
student who cannot see it; the build fails on a figure without such a description. A picture that carries its
own description in its output's metadata (nstlib's live preview, ``plotting.LivePicture``) needs none.

    python tools/alt_text.py build/book/executed/*.ipynb   # after a build: each figure cell, its pictures,
                                                           # and what its alt text lacks
"""

from __future__ import annotations

import base64
import hashlib
import re
import sys

IMAGE_TYPES = ("image/png", "image/jpeg")
MIN_WORDS = 6
#: Words that describe nothing on their own.
GENERIC = {"figure", "image", "plot", "picture", "graph", "chart", "output", "img", "photo", "screenshot",
           "result", "results", "visualisation", "visualization", "todo", "alt", "description"}
_PATH = re.compile(r"(^|\s)[\w./\\-]*\.(png|jpe?g|gif|svg|webp)\b|^[\w./\\-]*[/\\][\w./\\-]*$", re.IGNORECASE)
HOW_TO_FIX = ('add metadata "alt" to the cell: a list with one description of at least '
              f'{MIN_WORDS} words per picture, in order, saying what it shows')


def descriptions(cell) -> list:
    """The cell's alt texts as a list (a plain string counts as a one-picture list)."""
    alt = cell.metadata.get("alt")
    if alt is None:
        return []
    return [alt] if isinstance(alt, str) else list(alt)


def problem(text) -> str | None:
    """None for a real description, else why it is not one."""
    if not isinstance(text, str) or not text.strip():
        return "is empty"
    if _PATH.search(text.strip()):
        return f"{text!r} looks like a file path"
    kept = [w for w in re.findall(r"[\w'-]+", text.lower()) if w not in {"a", "an", "the", "of"}]
    if kept and all(w in GENERIC or w.isdigit() for w in kept):
        return f"{text!r} is generic: say what the picture shows"
    if len(text.split()) < MIN_WORDS:
        return f"{text!r} is shorter than {MIN_WORDS} words"
    return None


def cell_problems(cell, pictures: int | None = None) -> list[str]:
    """What is wrong with the alt text of one figure cell; ``pictures``: how many it showed when run."""
    texts = descriptions(cell)
    if not texts:
        return [f"no alt text: {HOW_TO_FIX}"]
    found = [f"alt text {i + 1} {reason}" for i, text in enumerate(texts) if (reason := problem(text))]
    if pictures is not None and len(texts) < pictures:
        found.append(f"{pictures} pictures but {len(texts)} alt text(s): one per picture, in order")
    return found


def pictures(cell) -> list[tuple[dict, list[str]]]:
    """(output, its base64 data in each image format) of every picture a code cell shows, in order: one output
    that carries a PNG and a JPEG of the same picture (an IPython display of a PIL image) is one picture."""
    found = [(out, [out["data"][kind] for kind in IMAGE_TYPES if kind in out.get("data", {})])
             for out in cell.get("outputs", [])]
    return [(out, datas) for out, datas in found if datas]


def own_alt(output) -> str | None:
    """The description a picture output carries itself (``plotting.LivePicture`` writes one), if it is real."""
    alt = output.get("metadata", {}).get("alt")
    return alt if problem(alt) is None else None


def undescribed(cell) -> list[tuple[dict, list[str]]]:
    """The pictures of a code cell that need a description from the cell's metadata, in order."""
    return [(out, datas) for out, datas in pictures(cell) if own_alt(out) is None]


def digest(data: str) -> str:
    """The sha256 of a picture's bytes: the name MyST-NB gives its file on the website."""
    return hashlib.sha256(base64.b64decode(data)).hexdigest()


def attach(nb) -> dict[str, str]:
    """Write each figure's alt text into the metadata of its picture output (the slides' template reads it
    there) and return {sha256 of the picture: alt text} for the website's pages."""
    table = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for (output, _), text in zip(undescribed(cell), descriptions(cell)):
            output.setdefault("metadata", {})["alt"] = text
        for output, datas in pictures(cell):
            if text := output.get("metadata", {}).get("alt"):
                table.update({digest(data): text for data in datas})
    return table


def is_default(alt: str) -> bool:
    """True for what the page shows when no one wrote a description (a file path, nbconvert's sentence)."""
    return not alt.strip() or alt.startswith("No description has been provided") or bool(_PATH.search(alt))


def main(argv=None) -> int:
    """List the figure cells of executed lessons whose alt text is missing or short of their pictures."""
    import nbformat

    bad = 0
    for path in argv if argv is not None else sys.argv[1:]:
        for cell in nbformat.read(path, as_version=4).cells:
            tags = cell.metadata.get("tags", []) if cell.cell_type == "code" else []
            if not {"figure", "figure-imagenet"} & set(tags):
                continue
            found = cell_problems(cell, len(undescribed(cell)))
            bad += bool(found)
            print(f"{path}, cell {cell.get('id', '?')}: {len(pictures(cell))} picture(s)"
                  + (f": {'; '.join(found)}" if found else ", described"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
