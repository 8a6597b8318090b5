"""Measured figures stay out of the lessons' prose (tools/prose_checks.py): the cell that measures a number
prints it, so the text never contradicts what a student's own run shows."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import prose_checks  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("text, phrase", [
    ("conv2_1 is about 20% blank", "20%"),
    ("accuracy: 98.5 % on held-out scenes", "98.5 %"),
    ("a step costs 4x less", "4x"),
    ("the fast model is 4.2× quicker", "4.2×"),
    ("it is ten times faster than optimisation", "ten times faster"),
    ("it is a hundred or more times faster", "a hundred or more times faster"),
    ("it runs 12 times slower on a CPU", "12 times slower"),
    ("activations differ about a hundredfold", "hundredfold"),
    ("a 100-fold speed-up", "100-fold"),
    ("one epoch took 12 s here", "12 s"),
    ("training takes 3 minutes", "3 minutes"),
    ("a frame in 40 ms", "40 ms"),
    ("about 2 min on a laptop", "2 min"),
])
def test_measured_figures_are_flagged(text, phrase):
    assert prose_checks.measured_figures(text) == [phrase]


@pytest.mark.parametrize("text", [
    "`conv1_1` has 64 filters of 3 x 3 pixels x 3 colours",
    "One forward pass of a 224x224 image; 2 x 2 x 2 = 8",
    "shapes go from 64 x 224 x 149 to 512 x 7 x 4.",
    "the loss $\\alpha = 10\\%$ of the total, $$w = 5 s$$",
    "print it: `print(f'{share:.0%} blank')` and `4x`",
    "```python\nprint('took 3 s, 4x faster, 20%')\n```",
    "How many times faster than optimisation was the fast model?",
    "a 224 px photo, three poolings, layer relu4_1, 1e6 / 64",
    "0.1 means \"10 % off\", whatever the network",  # on the allow-list: a definition
    "since the 1990s, in five seconds of reading",
])
def test_definitions_settings_code_and_math_pass(text):
    assert prose_checks.measured_figures(text) == []


def test_the_allow_list_holds_exact_phrases_with_a_reason():
    assert prose_checks.measured_figures('"10 % off"', allowed={}) == ["10 %"]
    assert all(len(reason.split()) >= 4 for reason in prose_checks.ALLOWED.values())


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_measured_figure_is_typed_into_a_lesson(path):
    found = prose_checks.notebook_findings(path)
    assert not found, (f"{path.name}: measured figures typed into markdown ({prose_checks.HOW_TO_FIX}):\n"
                       + "\n".join(f"  cell {cell}: {phrase!r}" for cell, phrase in found))


def test_main_path_words_skip_asides_and_hidden_solutions(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(t) for t in [
        "## 1. Main\n\none two three", "<details><summary>Solution</summary>\nhidden words here\n</details>\nfour",
        "## Aside (optional): engineering", "many words that a class may skip", "### a sub-heading of the aside",
        "still aside", "## Summary\n\nfive six"]]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    assert prose_checks.main_path_words(path) == len("## 1. Main one two three four ## Summary five six".split())


@pytest.mark.parametrize("name, limit", sorted(prose_checks.MAIN_PATH_WORDS.items()))
def test_long_lessons_keep_their_main_path_short_enough_for_a_class(name, limit):
    words = prose_checks.main_path_words(ROOT / "notebooks" / f"{name}.ipynb")
    assert words <= limit, (f"{name}: {words} words of markdown on the main path (limit {limit}): move engineering "
                            "into a section headed 'Aside (optional): ...', or cut")
