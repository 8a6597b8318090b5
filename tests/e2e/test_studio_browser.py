"""The studio as a person uses it: JupyterLab in headless Chromium, run the notebook, move a slider,
press Run, and see the preview change; then switch to a trained fast model and run again. Saves a
screenshot to out/e2e/ for people to look at.

Needs Debian's ``chromium`` and the ``playwright`` Python package (driving that browser; no browser
download). ``make e2e`` installs both where it can and runs this file.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "06_style_studio.ipynb"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = ROOT / "out" / "e2e"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if CHROMIUM is None:
        pytest.fail("Chromium is not installed: run `make e2e` (it installs Debian's chromium) or "
                    "`apt-get install chromium`")
    workdir = tmp_path_factory.mktemp("lab")
    shutil.copy(ROOT / "notebooks" / NOTEBOOK, workdir / NOTEBOOK)
    port, token = _free_port(), "nstlib-e2e"
    env = {**os.environ, "NSTLIB_SMOKE": "1", "NSTLIB_INTERACTIVE": "1", "JUPYTER_PLATFORM_DIRS": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={workdir}", "--LabApp.expose_app_in_browser=True", "--allow-root",
         "--ServerApp.disable_check_xsrf=True"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if server.poll() is not None:
                pytest.fail(f"JupyterLab exited: {server.stdout.read()[-2000:]}")
            time.sleep(1)
    else:
        server.kill()
        pytest.fail("JupyterLab did not start within 120 s")
    yield f"{url}/lab/tree/{NOTEBOOK}?token={token}"
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


def test_move_a_slider_press_run_and_see_the_preview_change(lab):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1500, "height": 1000})
        try:
            page.goto(lab, timeout=120_000)
            page.wait_for_function("window.jupyterapp && window.jupyterapp.shell.currentWidget", timeout=120_000)
            page.evaluate("async () => { const nb = window.jupyterapp.shell.currentWidget;"
                          " await nb.context.ready; await nb.sessionContext.ready; }")
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
        except Exception:
            page.screenshot(path=str(SHOTS / "studio-failure.png"))
            raise
        finally:
            browser.close()
