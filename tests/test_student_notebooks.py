"""Student copies (tools/student_notebooks.py, `make student-notebooks`): the solutions are gone, every other
cell is kept with its id."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import student_notebooks  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SOLUTION = "<details><summary>Solution</summary>\n\n`my_answer = 8`: three poolings.\n</details>"
OBSERVED = "<details><summary>What we saw</summary>\n\n<details><summary>more</summary>deep</details> tail\n</details>"


def fake_lesson():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Lesson 9", id="title000"),
                nbformat.v4.new_code_cell("my_answer = 1", id="exercise", metadata={"tags": ["x"]}),
                nbformat.v4.new_markdown_cell(SOLUTION, id="solution"),
                nbformat.v4.new_markdown_cell(f"Read the plot.\n\n{OBSERVED}\n\n## Summary\n- one", id="mixed000")]
    return nb


def test_solutions_are_gone_and_everything_else_is_kept():
    copy = student_notebooks.student_copy(fake_lesson())
    text = nbformat.writes(copy)
    assert "my_answer = 8" not in text and "three poolings" not in text and "deep" not in text
    assert "<details" not in text and "</details>" not in text and "tail" not in text
    assert [c.id for c in copy.cells] == ["title000", "exercise", "mixed000"]
    assert copy.cells[1].source == "my_answer = 1" and copy.cells[1].metadata == {"tags": ["x"]}
    assert copy.cells[2].source == "Read the plot.\n\n## Summary\n- one"


def test_make_student_notebooks_writes_every_lesson(tmp_path):
    assert student_notebooks.main(["--out", str(tmp_path)]) == 0
    for path in NOTEBOOKS:
        original = nbformat.read(path, as_version=4)
        copy = nbformat.read(tmp_path / path.name, as_version=4)
        assert "<details" not in nbformat.writes(copy)
        kept = {c.id: c for c in copy.cells}
        for cell in original.cells:
            if cell.cell_type == "code" or "<details" not in cell.source:
                assert cell.id in kept and kept[cell.id].source == cell.source, \
                    f"{path.name}: cell {cell.id} should be kept as it is"
        assert len(copy.cells) == sum(c.cell_type == "code" or bool(student_notebooks.without_details(c.source))
                                      for c in original.cells)


@pytest.mark.parametrize("text, expected", [
    ("before\n\n<details><summary>Solution</summary>x</details>\n\nafter", "before\n\nafter"),
    ("<DETAILS open>x</DETAILS>", ""),
    ("no solution here", "no solution here"),
])
def test_without_details(text, expected):
    assert student_notebooks.without_details(text) == expected
