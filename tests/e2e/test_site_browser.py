"""The course website and slides as a student or instructor opens them: headless Chromium, no network.

Serves build/book/html (made by `make book`, or `make book-smoke` as in CI) on 127.0.0.1, blocks every
request that leaves the machine, opens each lesson's page and its slides, checks that every picture loaded
(natural width above zero) and says what it shows (alt text that is neither empty, nor a file path, nor
nbconvert's placeholder), that formulas were typeset, and that on a 1280x720 projector every heading of the
lesson is on a slide and no code or output runs off its slide; saves screenshots to out/e2e/. The Korean
edition (build/book/html/ko/) is opened the same way.
"""

from __future__ import annotations

import functools
import json
import re
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import nbformat
import pytest
from browser import ROOT, SHOTS, launch

sys.path.insert(0, str(ROOT / "tools"))
import alt_text  # noqa: E402
import build_book  # noqa: E402
import slide_metadata  # noqa: E402

SITE = ROOT / "build" / "book" / "html"
LESSONS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
#: Each edition's pages: its folder on the site and its notebooks.
EDITIONS = {"en": "", "ko": "ko/"}
PAGES = [(language, lesson) for language in EDITIONS for lesson in LESSONS]
BROKEN_IMAGES = "[...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src.slice(0, 80))"
PROJECTOR = {"width": 1280, "height": 720}
#: Every slide in turn: its code and output blocks that scroll sideways, and how much code it shows.
WIDE_BLOCKS = """() => {
    const found = [];
    let most = {chars: -1};
    for (const s of Reveal.getSlides()) {
        const i = Reveal.getIndices(s);
        Reveal.slide(i.h, i.v);
        for (const pre of s.querySelectorAll('pre')) {
            if (pre.closest('aside.notes')) continue;
            if (pre.scrollWidth > pre.clientWidth + 1)
                found.push(`slide ${i.h}.${i.v || 0}: ${pre.scrollWidth} > ${pre.clientWidth} px: `
                           + pre.textContent.trim().split('\\n')[0].slice(0, 60));
        }
        const chars = [...s.querySelectorAll('.jp-InputArea pre')].reduce((n, p) => n + p.textContent.length, 0);
        if (chars > most.chars) most = {chars: chars, h: i.h, v: i.v};
    }
    return {found: found, most: most};
}"""
#: Whether the page drew its Hangul with the font the Korean edition serves (once the fonts have loaded).
HANGUL_FONT_LOADED = """async () => { await document.fonts.ready;
    return [...document.fonts].some(f => f.family.replace(/"/g, '') === 'NanumGothic' && f.status === 'loaded'); }"""
#: Headings shown on a slide, not in the speaker notes, as text.
SLIDE_HEADINGS = """() => [...document.querySelectorAll('.reveal .slides section :is(h1, h2, h3)')]
    .filter(h => !h.closest('aside.notes'))
    .map(h => h.textContent.replace('\u00b6', '').replace(/\\s+/g, ' ').trim())"""


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


def notebook(language: str, lesson: str):
    return ROOT / "notebooks" / EDITIONS[language] / f"{lesson}.ipynb"


def lesson_headings(lesson: str, language: str = "en") -> list[str]:
    """Every heading of a lesson's markdown, as its page shows it (no backticks or emphasis marks)."""
    nb = nbformat.read(notebook(language, lesson), as_version=4)
    return [" ".join(re.sub(r"[`*]", "", body.lstrip("#")).split()) for cell in nb.cells
            if cell.cell_type == "markdown" for kind, body in slide_metadata.blocks(cell.source) if kind == "heading"]


def undescribed(page, selector: str) -> list[str]:
    """The pictures under ``selector`` whose alt text does not say what they show."""
    alts = page.eval_on_selector_all(selector, "imgs => imgs.map(i => i.getAttribute('alt') || '')")
    return [alt[:80] or "(empty)" for alt in alts if alt_text.is_default(alt)]


@pytest.fixture
def offline_page(chromium, site, request):
    """A page that may load only from the local site; what it tried to fetch elsewhere is in .outside."""
    viewport = getattr(request, "param", {"width": 1400, "height": 1000})
    page = chromium.new_page(viewport=viewport)
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
    assert "ko/index.html" in links, "the home page links to the Korean edition"
    assert offline_page.outside == []


def test_the_korean_home_page_lists_every_lesson_in_korean(offline_page, site):
    offline_page.goto(f"{site}/ko/index.html")
    assert offline_page.evaluate("document.documentElement.lang").startswith("ko")
    links = offline_page.eval_on_selector_all("a", "as => as.map(a => a.getAttribute('href'))")
    for lesson in LESSONS:
        assert f"lessons/{lesson}.html" in links, f"the Korean home page does not link to {lesson}"
    assert "slides/index.html" in links and "../index.html" in links
    text = offline_page.inner_text("body")
    assert "걸린 시간" in text and "강의" in text, "the Korean home page shows its timing table in Korean"
    assert offline_page.outside == []


@pytest.mark.parametrize("language, lesson", PAGES)
def test_every_picture_of_a_lesson_page_loads_offline(offline_page, site, language, lesson):
    SHOTS.mkdir(parents=True, exist_ok=True)
    offline_page.goto(f"{site}/{EDITIONS[language]}lessons/{lesson}.html", wait_until="load")
    figures = offline_page.locator(".cell_output img")
    assert figures.count() > 0, f"{lesson}: the page shows no figure"
    assert offline_page.evaluate(BROKEN_IMAGES) == [], f"{lesson}: pictures that did not load"
    assert undescribed(offline_page, "article img") == [], \
        f"{lesson}: pictures without a description (add metadata 'alt' to their figure cells)"
    note = build_book.MEASURED_HERE[language]
    assert note in offline_page.inner_text("article"), f"{lesson}: the page lacks its '{note}' note"
    if language == "ko":
        first = offline_page.inner_text("article h1")
        assert re.search("[\uac00-\ud7a3]", first), f"{lesson}: the Korean page's title is not Korean: {first!r}"
        assert offline_page.evaluate(HANGUL_FONT_LOADED), f"{lesson}: the page did not load its Hangul font"
    if offline_page.locator(".math").count():
        offline_page.wait_for_selector("mjx-container", timeout=20_000)  # MathJax, served by the site
    assert offline_page.outside == [], f"{lesson} tried to load from the network: {offline_page.outside[:3]}"
    figures.first.scroll_into_view_if_needed()
    offline_page.screenshot(path=str(SHOTS / f"site_{language}_{lesson}.png"))


@pytest.mark.parametrize("offline_page", [PROJECTOR], indirect=True)
@pytest.mark.parametrize("language, lesson", PAGES)
def test_the_slides_of_a_lesson_open_offline_on_a_figure(offline_page, site, language, lesson):
    SHOTS.mkdir(parents=True, exist_ok=True)
    offline_page.goto(f"{site}/{EDITIONS[language]}slides/{lesson}.slides.html", wait_until="load")
    offline_page.wait_for_function("window.Reveal && Reveal.isReady()", timeout=20_000)
    assert offline_page.evaluate("Reveal.getTotalSlides()") > 3, f"{lesson}: too few slides"
    assert offline_page.evaluate(BROKEN_IMAGES) == [], f"{lesson}: pictures that did not load"
    assert undescribed(offline_page, ".reveal img") == [], \
        f"{lesson}: slide pictures without a description (add metadata 'alt' to their figure cells)"
    shown = offline_page.evaluate(SLIDE_HEADINGS)
    missing = [h for h in lesson_headings(lesson, language) if not any(h in text for text in shown)]
    assert missing == [], f"{lesson}: headings on no slide (in the notes, or lost): run tools/slide_metadata.py"
    if language == "ko":
        assert offline_page.evaluate(HANGUL_FONT_LOADED), f"{lesson}: the slides did not load their Hangul font"
    offline_page.evaluate("Reveal.configure({transition: 'none'})")
    wide = offline_page.evaluate(WIDE_BLOCKS)
    assert wide["found"] == [], f"{lesson}: code or output runs off its slide at 1280x720"
    most = wide["most"]  # the slide with the most code, as the projector shows it
    offline_page.evaluate(f"Reveal.slide({most['h']}, {most.get('v') or 0})")
    offline_page.wait_for_timeout(300)
    offline_page.screenshot(path=str(SHOTS / f"slides_{language}_{lesson}_code.png"))
    offline_page.evaluate("Reveal.slide(0, 0)")
    notes = sum(c.get("metadata", {}).get("slideshow", {}).get("slide_type") == "notes"
                for c in json.loads(notebook(language, lesson).read_text(encoding="utf-8"))["cells"])
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
    offline_page.screenshot(path=str(SHOTS / f"slides_{language}_{lesson}.png"))
