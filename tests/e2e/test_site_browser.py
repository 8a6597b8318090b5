"""The course website and slides as a student or instructor opens them: headless Chromium, no network.

Serves build/book/html (made by `make book`, or `make book-smoke` as in CI) on 127.0.0.1, blocks every
request that leaves the machine, opens each lesson's page and its slides, checks that every picture loaded
(natural width above zero) and that formulas were typeset, and saves a screenshot of each to out/e2e/.
"""

from __future__ import annotations

import functools
import json
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from browser import ROOT, SHOTS, launch

SITE = ROOT / "build" / "book" / "html"
LESSONS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
BROKEN_IMAGES = "[...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 80))"


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    if not (SITE / "index.html").exists():
        pytest.fail(f"No built site in {SITE}: run `make book-smoke` (seconds-long lessons) or `make book`")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(SITE)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        yield browser
        browser.close()


@pytest.fixture
def offline_page(chromium, site):
    """A page that may load only from the local site; what it tried to fetch elsewhere is in .outside."""
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    page.outside = []

    def route(r):
        if r.request.url.startswith(site) or r.request.url.startswith("data:"):
            r.continue_()
        else:
            page.outside.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    yield page
    page.close()


def test_the_home_page_lists_every_lesson_and_the_slides(offline_page, site):
    offline_page.goto(f"{site}/index.html")
    links = offline_page.eval_on_selector_all("a", "as => as.map(a => a.getAttribute('href'))")
    for lesson in LESSONS:
        assert f"lessons/{lesson}.html" in links, f"the home page does not link to {lesson}"
    assert "slides/index.html" in links
    assert "wall time" in offline_page.inner_text("body"), "the home page should show the timing table"
    assert offline_page.outside == []


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_picture_of_a_lesson_page_loads_offline(offline_page, site, lesson):
    SHOTS.mkdir(parents=True, exist_ok=True)
    offline_page.goto(f"{site}/lessons/{lesson}.html", wait_until="load")
    figures = offline_page.locator(".cell_output img")
    assert figures.count() > 0, f"{lesson}: the page shows no figure"
    assert offline_page.evaluate(BROKEN_IMAGES) == [], f"{lesson}: pictures that did not load"
    if offline_page.locator(".math").count():
        offline_page.wait_for_selector("mjx-container", timeout=20_000)  # MathJax, served by the site
    assert offline_page.outside == [], f"{lesson} tried to load from the network: {offline_page.outside[:3]}"
    figures.first.scroll_into_view_if_needed()
    offline_page.screenshot(path=str(SHOTS / f"site_{lesson}.png"))


@pytest.mark.parametrize("lesson", LESSONS)
def test_the_slides_of_a_lesson_open_offline_on_a_figure(offline_page, site, lesson):
    SHOTS.mkdir(parents=True, exist_ok=True)
    offline_page.goto(f"{site}/slides/{lesson}.slides.html", wait_until="load")
    offline_page.wait_for_function("window.Reveal && Reveal.isReady()", timeout=20_000)
    assert offline_page.evaluate("Reveal.getTotalSlides()") > 3, f"{lesson}: too few slides"
    assert offline_page.evaluate(BROKEN_IMAGES) == [], f"{lesson}: pictures that did not load"
    notes = sum(c.get("metadata", {}).get("slideshow", {}).get("slide_type") == "notes"
                for c in json.loads((ROOT / "notebooks" / f"{lesson}.ipynb").read_text())["cells"])
    assert offline_page.evaluate("document.querySelectorAll('aside.notes').length") == notes, \
        f"{lesson}: the slides should carry the notebook's {notes} speaker notes"
    # Go to the first slide that shows a figure, as an instructor would in class.
    found = offline_page.evaluate("""() => {
        const slides = Reveal.getSlides();
        for (const s of slides) {
            if (s.querySelector('.jp-OutputArea-output img')) {
                const i = Reveal.getIndices(s); Reveal.slide(i.h, i.v); return true;
            }
        }
        return false; }""")
    assert found, f"{lesson}: no slide shows a figure"
    offline_page.wait_for_timeout(800)  # the slide transition
    assert offline_page.outside == [], f"{lesson} slides tried to load from the network: {offline_page.outside[:3]}"
    offline_page.screenshot(path=str(SHOTS / f"slides_{lesson}.png"))
