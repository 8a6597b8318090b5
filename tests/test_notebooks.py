"""Static checks of the committed notebooks: they run under nbval separately (make notebooks)."""

import json
from pathlib import Path

import pytest

from nstlib import config

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))
CHECKED = "nbval-check-output"


def load(path):
    return json.loads(path.read_text())


def source(cell):
    return "".join(cell["source"])


def test_the_course_has_its_notebooks():
    assert NOTEBOOKS and NOTEBOOKS[0].name == "00_setup_and_tour.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_are_stripped_except_checked_cells(path):
    assert "widgets" not in load(path)["metadata"], f"{path.name} keeps saved widget state: strip it"
    for i, cell in enumerate(load(path)["cells"]):
        assert "execution" not in cell.get("metadata", {}), f"{path.name} cell {i} keeps run timestamps: strip them"
        if cell["cell_type"] != "code":
            continue
        if CHECKED in cell.get("metadata", {}).get("tags", []):
            assert cell["outputs"], f"{path.name} cell {i} is tagged {CHECKED} but has no output to compare"
            assert all(o["output_type"] in ("stream", "execute_result") and "image/png" not in o.get("data", {})
                       for o in cell["outputs"]), f"{path.name} cell {i}: only text outputs are compared"
        else:
            assert not cell["outputs"], f"{path.name} cell {i} has outputs: strip them (nbstripout)"
            assert cell.get("execution_count") is None, f"{path.name} cell {i} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_badge_and_colab_install_come_from_the_repository_constant(path):
    cells = load(path)["cells"]
    assert cells[0]["cell_type"] == "markdown"
    assert config.colab_badge(path.name) in source(cells[0])
    assert config.site_link(path.name) in source(cells[0]), "the title links to the lesson on the course website"
    setup = source(cells[1])
    assert f"git+https://github.com/{config.REPOSITORY}" in setup
    assert "--no-deps" in setup, "the Colab install must never upgrade Colab's torch or ipywidgets"


def test_every_notebook_has_the_same_setup_cell():
    setups = {path.name: source(load(path)["cells"][1]) for path in NOTEBOOKS}
    first = setups[NOTEBOOKS[0].name]
    assert all(text == first for text in setups.values()), [n for n, t in setups.items() if t != first]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_link_to_the_next_lesson(path):
    text = "\n".join(source(c) for c in load(path)["cells"] if c["cell_type"] == "markdown")
    later = [p.name for p in NOTEBOOKS if p.name > path.name]
    if later:
        assert later[0] in text, f"{path.name} should link to {later[0]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_exercise_has_a_hidden_solution_right_after_it(path):
    cells = load(path)["cells"]
    graded = [i for i, c in enumerate(cells) if c["cell_type"] == "code" and "exercises.grade_" in source(c)]
    for i in graded:
        after = next((c for c in cells[i + 1:] if c["cell_type"] == "markdown"), None)
        assert after is not None and source(after).startswith("<details><summary>Solution</summary>"), \
            f"{path.name} cell {i} is an exercise without a hidden solution in the markdown cell after it"


def test_every_lesson_with_exercises_grades_them_from_nstlib_exercises():
    for path in NOTEBOOKS:
        text = "\n".join(source(c) for c in load(path)["cells"] if c["cell_type"] == "code")
        if "## Exercise" in "\n".join(source(c) for c in load(path)["cells"] if c["cell_type"] == "markdown"):
            assert "exercises.grade_" in text, f"{path.name} has exercises but no grader from nstlib.exercises"
