"""Measured figures belong in outputs, not in prose (tests/test_prose.py runs this over every lesson).

A number a lesson measured (a share of blank channels, a speed-up, a run's duration) depends on the weights
and the machine; typed into markdown it goes stale, or contradicts the output right under it when a student
runs the lesson on other weights. The cell that measures it prints it instead.

    python tools/prose_checks.py notebooks/*.ipynb     # list the measured figures typed into markdown

Flagged: percentages (``20%``, ``20 %``), speed-ups (``4.2x``, ``4.2×``, ``ten times faster``,
``a hundredfold``, ``100-fold``) and durations (``12 s``, ``3 minutes``, ``40 ms``). Ignored: inline code,
math (``$...$``, ``$$...$$``), fenced code, and the phrases of ALLOWED (definitions and settings, not
measurements).
"""

from __future__ import annotations

import re
import sys

#: Exact phrases (case-insensitive) that name a definition or a setting, not a measurement; one reason each.
ALLOWED = {
    '"10 % off"': "lesson 4 defines a relative error of 0.1 as ten per cent off",
    "brightest 1 % of values": "lesson 2's display setting: the percentile clipped to black and white",
}

_NUMBER = r"\d+(?:[.,]\d+)?"
_WORDS = (r"(?:a |one )?(?:two|three|four|five|six|seven|eight|nine|ten|twenty|thirty|fifty|hundred|"
          r"thousand|million)")
_COMPARATIVE = r"(?:faster|slower|quicker|cheaper|smaller|larger|bigger|more|less|fewer|as (?:fast|slow))"
PATTERNS = [
    ("percentage", rf"{_NUMBER}\s?%"),
    ("speed-up", rf"{_NUMBER}\s?[x×](?![\w×]|\s*[x×]?\s*\d)"),  # 4.2x, 4x less; not 3 x 3 or 224x224
    ("speed-up", rf"\b(?:{_NUMBER}|{_WORDS})(?:\s+or\s+more)?\s+times\s+{_COMPARATIVE}\b"),
    ("speed-up", rf"\b(?:{_NUMBER}[\s-]?|(?:two|three|four|five|ten|twenty|fifty|hundred|thousand))fold\b"),
    ("duration", rf"{_NUMBER}[\s-]?(?:ms|µs|us|min|mins|minutes?|sec|secs|seconds?|hours?|h)\b"),
    ("duration", rf"{_NUMBER} s\b"),
]
_FOUND = re.compile("|".join(f"(?:{p})" for _, p in PATTERNS), re.IGNORECASE)
_IGNORED = re.compile(r"```.*?```|~~~.*?~~~|\$\$.*?\$\$|\$[^$\n]+\$|`[^`\n]+`", re.DOTALL)


def blank(text: str, pattern: re.Pattern) -> str:
    """The text with every match of ``pattern`` replaced by spaces (positions kept, newlines kept)."""
    return pattern.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def measured_figures(markdown: str, allowed=ALLOWED) -> list[str]:
    """The measured figures typed into ``markdown``: each offending phrase, in order of appearance."""
    text = blank(markdown, _IGNORED)
    if allowed:
        text = blank(text, re.compile("|".join(re.escape(p) for p in allowed), re.IGNORECASE))
    return [m.group(0).strip() for m in _FOUND.finditer(text)]


def notebook_findings(path) -> list[tuple[str, str]]:
    """(cell id, phrase) for every measured figure in the markdown cells of one notebook."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    return [(cell.get("id", "?"), phrase) for cell in nb.cells if cell.cell_type == "markdown"
            for phrase in measured_figures(cell.source)]


HOW_TO_FIX = ("print it from the cell that measures it, or add it to the allow-list with a reason "
              "(ALLOWED in tools/prose_checks.py)")


#: Lessons whose main path (the markdown a class reads, outside asides and hidden solutions) must stay short
#: enough to teach in one class.
MAIN_PATH_WORDS = {"02_filter_visualization": 1200, "04_neural_style_transfer": 1200}
_DETAILS = re.compile(r"<details>.*?</details>", re.DOTALL)


def main_path_words(path) -> int:
    """Words of markdown on a lesson's main path: everything except the cells of a section whose heading
    starts with "Aside" (optional reading, up to the next heading of the same or a higher level) and
    ``<details>`` blocks (solutions, reference observations)."""
    import nbformat

    words, aside_level = 0, None
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "markdown":
            continue
        heading = re.match(r"(#+)\s+(.*)", cell.source.lstrip())
        if heading:
            level = len(heading.group(1))
            if heading.group(2).lower().startswith("aside"):
                aside_level = level
            elif aside_level is not None and level <= aside_level:
                aside_level = None
        if aside_level is None:
            words += len(blank(_DETAILS.sub("", cell.source), _IGNORED).split())
    return words


def main(argv=None) -> int:
    paths = (argv if argv is not None else sys.argv[1:]) or []
    found = [f"{path}, cell {cell}: {phrase!r}" for path in paths for cell, phrase in notebook_findings(path)]
    if found:
        print(f"measured figures typed into markdown ({HOW_TO_FIX}):", *found, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
