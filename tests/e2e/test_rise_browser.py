"""Presenting a lesson live, as an instructor would: JupyterLab with the RISE extension in headless Chromium
renders the notebook as reveal.js slides from its own slide metadata."""

from __future__ import annotations

import json

import pytest
from browser import ROOT, SHOTS, lab_page, lesson_in_lab

NOTEBOOK = "00_setup_and_tour.ipynb"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with lesson_in_lab(tmp_path_factory.mktemp("rise"), NOTEBOOK, {"NSTLIB_SMOKE": "1"}) as address:
        yield address


def expected_sections() -> int:
    """reveal.js nests each slide's sub-slides: one outer and one inner section per slide, one per sub-slide."""
    kinds = [c["metadata"].get("slideshow", {}).get("slide_type")
             for c in json.loads((ROOT / "notebooks" / NOTEBOOK).read_text())["cells"]]
    return 2 * kinds.count("slide") + kinds.count("subslide")


def test_rise_renders_the_lesson_as_its_slides(lab):
    with lab_page(lab, "rise") as page:
        assert "RISE:preview" in page.evaluate("window.jupyterapp.commands.listCommands()"), \
            "the RISE extension is not installed in JupyterLab (pip install jupyterlab-rise)"
        page.evaluate("window.jupyterapp.commands.execute('RISE:preview')")
        page.wait_for_function(
            "() => [...document.querySelectorAll('iframe')].some(f => f.contentDocument"
            " && f.contentDocument.querySelectorAll('.reveal .slides section').length > 0)", timeout=60_000)
        frame = next(f for f in page.frames if "/rise/" in f.url)
        assert frame.evaluate("document.querySelectorAll('.reveal .slides section').length") == \
            expected_sections()
        assert "Lesson 0" in frame.evaluate("document.querySelector('.reveal .slides section').innerText")
        page.screenshot(path=str(SHOTS / "rise.png"))
