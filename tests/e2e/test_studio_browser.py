"""The studio as a person uses it: JupyterLab in headless Chromium, run the notebook, move a slider,
press Run, and see the preview change; then switch to a trained fast model and run again. Saves a
screenshot to out/e2e/ for people to look at.

Needs Debian's ``chromium`` and the ``playwright`` Python package (driving that browser; no browser
download). ``make e2e`` installs both where it can and runs this file.
"""

from __future__ import annotations

import pytest
from browser import SHOTS, lab_page, lesson_in_lab

NOTEBOOK = "06_style_studio.ipynb"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    env = {"NSTLIB_SMOKE": "1", "NSTLIB_INTERACTIVE": "1", "NSTLIB_LANG": "en"}  # the test clicks English labels
    with lesson_in_lab(tmp_path_factory.mktemp("lab"), NOTEBOOK, env) as address:
        yield address


def test_move_a_slider_press_run_and_see_the_preview_change(lab):
    with lab_page(lab, "studio", width=1500) as page:
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        # The whole notebook has run when the kernel is idle and every code cell has a number.
        page.wait_for_function(
            "() => { const nb = window.jupyterapp.shell.currentWidget;"
            " const kernel = nb.sessionContext.session && nb.sessionContext.session.kernel;"
            " const prompts = [...document.querySelectorAll('.jp-InputPrompt')].map(p => p.textContent);"
            " const code = [...document.querySelectorAll('.jp-CodeCell')].length;"
            " return kernel && kernel.status === 'idle' && code > 0"
            " && prompts.filter(p => /\\[\\d+\\]/.test(p)).length >= code; }",
            timeout=300_000, polling=1000)

        run = page.locator(".widget-button", has_text="Run").first
        run.scroll_into_view_if_needed()
        preview = page.locator(".widget-image").first

        # Move the Size slider one notch with the keyboard, as a person would after clicking its handle.
        size_slider = page.locator(".widget-slider", has=page.locator(".widget-label", has_text="Size")).first
        readout = size_slider.locator(".widget-readout")
        old_size = readout.inner_text().strip()
        size_slider.locator(".noUi-handle").first.click()
        page.keyboard.press("ArrowRight")
        page.wait_for_function("([el, old]) => el.textContent.trim() !== old",
                               arg=[readout.element_handle(), old_size], timeout=10_000)

        def run_and_see_the_preview_change(status: str, timeout: int):
            old = preview.get_attribute("src")
            run.click()
            page.wait_for_function("([img, old]) => img.getAttribute('src') !== old",
                                   arg=[preview.element_handle(), old], timeout=timeout)
            page.wait_for_function("(text) => [...document.querySelectorAll('.widget-html-content')]"
                                   ".some(x => x.textContent.includes(text))", arg=status, timeout=timeout)

        run_and_see_the_preview_change("Done", 180_000)
        # Then the trained network: one click on "fast model", Run again, and the preview changes again.
        page.locator(".widget-toggle-button", has_text="fast model").first.click()
        run_and_see_the_preview_change("fast model", 120_000)
        page.screenshot(path=str(SHOTS / "studio.png"), full_page=False)
        assert int(readout.inner_text()) == int(old_size) + 32  # one notch of the 32 px step
