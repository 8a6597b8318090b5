"""Build the course as students see it: run every lesson, check its figures, make the website and slides.

    python tools/build_book.py                 # full settings: what `make book` runs before a release
    python tools/build_book.py --smoke         # NSTLIB_SMOKE=1: the seconds-long build CI runs
    python tools/build_book.py --only 04       # one lesson (the site then holds just that lesson)
    python tools/build_book.py --slides-only   # slides alone (reuses the last full run when current)
    python tools/build_book.py --tag-figures   # mark the cells that draw figures (after editing a lesson)
    python tools/build_book.py --standin --smoke --only 01   # on the ImageNet stand-in, into build/book-standin
    python tools/build_book.py --language ko   # the Korean edition only (notebooks/ko/, into the site's ko/)

Steps, all offline:
1. Execute each notebook of notebooks/ cell by cell in a fresh kernel (widgets show their static fallback)
   and write the executed copy to build/book/executed/. notebooks/ is never written to.
2. Check the output: no cell error; no figure that is blank, one colour, or mostly at the colour rails;
   every cell tagged ``figure`` drew at least one figure, and every cell that drew one is tagged; every
   figure has alt text (tools/alt_text.py). Problems name the lesson and the cell; any problem fails the
   build after the table is printed.
3. Print the table of wall times and figures per lesson (also build/book/timings.md, shown on the site).
4. Build the website with Sphinx + MyST-NB from the executed copies (build/book/html) and export every
   lesson as reveal.js slides into build/book/html/slides/, with reveal.js and MathJax served from the
   site itself (``make book-assets`` installs them once). Each figure carries its alt text on both; each
   lesson page opens with a note naming the weights, the machine and the date of the run it shows.

Both editions are built, English first: the Korean lessons (notebooks/ko/, written by tools/translate.py) run
and are checked the same way into build/book/ko/, and their site and slides go to build/book/html/ko/. In every
lesson, a "Glyph ... missing from font" warning is a problem: a figure drew empty boxes instead of letters.

``--standin`` runs the lessons on nstlib.testing's ImageNet stand-in (a checkpoint in torchvision's format
that is NOT ImageNet, as tests/notebooks_imagenet does) and writes everything to build/book-standin/, so the
text of the ImageNet branches can be read against their outputs without the real weights.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from nstlib import config

sys.path.insert(0, str(Path(__file__).parent))
import alt_text  # noqa: E402
import figure_checks  # noqa: E402
from figure_checks import Problem  # noqa: E402
from slide_metadata import FIGURE_TAG, IMAGENET_FIGURE_TAG  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SOURCE = ROOT / "docs" / "book"
BUILD = ROOT / "build" / "book"
STANDIN_BUILD = ROOT / "build" / "book-standin"
ASSETS = ROOT / "build" / "book-assets"
COLAB_BADGE_PICTURE = "https://colab.research.google.com/assets/colab-badge.svg"
SLOW_CELL_S = 20
#: Per-lesson budget at full settings on a 2-core CPU (a 50-minute class on a student laptop).
BUDGET_S = 4 * 60
#: The whole book's budget: a teacher rebuilds it before class.
BOOK_BUDGET_S = 8 * 60


#: The editions of the course, English first (its site is the root the Korean one sits in).
LANGUAGES = ("en", "ko")
#: What matplotlib says when a figure's font lacks a character: the figure shows an empty box instead.
MISSING_GLYPH = re.compile(r"Glyph \d+ .{0,40}missing from (?:current )?font")


def notebooks_of(language: str = "en") -> Path:
    return NOTEBOOKS if language == "en" else NOTEBOOKS / language


def lessons(only=None, language: str = "en") -> list[Path]:
    folder = notebooks_of(language)
    paths = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    if only:
        paths = [p for p in paths if any(p.name.startswith(o) or p.stem == o for o in only)]
        if not paths:
            raise SystemExit(f"--only {' '.join(only)} matches no notebook in {folder}")
    if language != "en" and not paths:
        raise SystemExit(f"no lessons in {folder}: run python tools/translate.py build {language}")
    return paths


def edition(build: Path, language: str) -> tuple[Path, Path]:
    """Where an edition's run goes and where its site goes: English at ``build``, another language below it."""
    if language == "en":
        return build, build / "html"
    return build / language, build / "html" / language


IMAGE_TYPES = ("image/png", "image/jpeg")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def images_in(cell) -> list[str]:
    """The pictures a code cell displayed (figures, static widget fallbacks, previews), base64-encoded: one per
    output, the first of IMAGE_TYPES it carries (a PIL image is displayed as a PNG and a JPEG of itself)."""
    return [next(o["data"][kind] for kind in IMAGE_TYPES if kind in o.get("data", {}))
            for o in cell.get("outputs", []) if any(kind in o.get("data", {}) for kind in IMAGE_TYPES)]


def drop_widget_views(cell) -> None:
    """Live widgets (progress bars) need a kernel; a static page keeps the text around them."""
    cell.outputs = [o for o in cell.get("outputs", []) if WIDGET_VIEW not in o.get("data", {})]


def first_line(cell) -> str:
    lines = [ln for ln in cell.source.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    return (lines[0][:60] + ("..." if len(lines[0]) > 60 else "")) if lines else ""


def kernel_env(smoke: bool) -> dict:
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)  # inline figures, as in JupyterLab
    env["NSTLIB_STATIC"] = "1"  # widgets draw their static fallback: a site has no kernel behind it
    env.pop("NSTLIB_INTERACTIVE", None)
    if smoke:
        env["NSTLIB_SMOKE"] = "1"
    else:
        env.pop("NSTLIB_SMOKE", None)
    return env


def execute(path: Path, smoke: bool, timeout: int) -> tuple[nbformat.NotebookNode, list[Problem], dict]:
    """Run one lesson in a fresh kernel; return the executed notebook, its problems and its figures."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    lesson = path.stem if path.parent == NOTEBOOKS else f"{path.parent.name}/{path.stem}"
    problems: list[Problem] = []
    stats = {"figures": 0, "flat_panels": 0, "max_rails": 0.0}
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "figures.jsonl"
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                                extra_arguments=["--IPKernelApp.log_level=ERROR"],  # no start-up chatter
                                resources={"metadata": {"path": str(path.parent)}})
        with client.setup_kernel(cwd=str(path.parent), env=kernel_env(smoke)):
            info = client.wait_for_reply(client.kc.kernel_info())
            nb.metadata["language_info"] = info["content"]["language_info"]  # ipython3 highlighting
            probe = (f"import sys\nsys.path.insert(0, {str(Path(__file__).parent)!r})\n"
                     "from figure_checks import PROBE as _p, describe_figure as _d\nsys.path.pop(0)\n"
                     f"exec(_p)\n_nstlib_install_figure_probe({str(log)!r}, _d)\n"
                     "del _p, _d, _nstlib_install_figure_probe")
            reply = client.wait_for_reply(client.kc.execute(probe, silent=True, store_history=False))
            if reply["content"]["status"] != "ok":  # the probe is not part of the lesson: run it aside
                raise RuntimeError(f"the figure probe failed in {lesson}: {reply['content']}")
            count = 0
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                seen = len(figure_checks.read_log(log))
                count += 1
                started = time.perf_counter()
                client.execute_cell(cell, index, execution_count=count)
                seconds = time.perf_counter() - started
                if seconds > SLOW_CELL_S:  # where the time goes, for a lesson over budget
                    print(f"  cell {index} took {fmt_time(seconds)}: {first_line(cell)}", flush=True)
                drop_widget_views(cell)
                problems += check_cell(lesson, index, cell, figure_checks.read_log(log)[seen:], stats)
    nb.metadata.pop("widgets", None)  # the state of live widgets, which a static page cannot use
    nb.metadata["nstlib_run"] = {"date": time.strftime("%Y-%m-%d"), "machine": machine(),
                                 "smoke": smoke}
    return nb, problems, stats


def check_cell(lesson: str, index: int, cell, records: list[dict], stats: dict) -> list[Problem]:
    """Errors, bad figures and figure tags of one executed code cell."""
    where = f"`{first_line(cell)}`"
    problems = []
    for out in cell.outputs:
        if out.get("output_type") == "error":
            problems.append(Problem(lesson, index, f"{out['ename']}: {out['evalue']} in {where}"))
        glyph = MISSING_GLYPH.search(out.get("text", "")) if out.get("output_type") == "stream" else None
        if glyph:
            problems.append(Problem(lesson, index, f"a figure lacks letters ('{glyph.group(0)}'): its font has "
                                                   f"no such character, in {where}"))
    for record in records:
        stats["flat_panels"] += sum(p["flat"] for p in record["panels"])
        total = sum(p["size"] for p in record["panels"])
        if total:
            share = sum(p["rails"] * p["size"] for p in record["panels"]) / total
            stats["max_rails"] = max(stats["max_rails"], share)
        reason = figure_checks.verdict(record)
        if reason:
            title = f" '{record['title']}'" if record["title"] else ""
            problems.append(Problem(lesson, index, f"figure{title} is {reason}, in {where}"))
    pngs = images_in(cell)
    stats["figures"] += len(pngs)
    for png in pngs:
        reason = figure_checks.picture_verdict(png)
        if reason:
            problems.append(Problem(lesson, index, f"picture is {reason}, in {where}"))
    tags = cell.metadata.get("tags", [])
    tagged = FIGURE_TAG in tags
    imagenet_only = IMAGENET_FIGURE_TAG in tags  # draws only where the ImageNet weights (or the stand-in) are
    if tagged and not pngs:
        problems.append(Problem(lesson, index, f"the text expects a figure here (tag '{FIGURE_TAG}') but "
                                               f"{where} drew none"))
    if pngs and not tagged and not imagenet_only:
        problems.append(Problem(lesson, index, f"{where} drew a figure but is not tagged '{FIGURE_TAG}': "
                                               "run tools/build_book.py --tag-figures (or, if it draws only with "
                                               f"the ImageNet weights, tag it '{IMAGENET_FIGURE_TAG}')"))
    if (tagged or imagenet_only) and pngs:
        problems += [Problem(lesson, index, f"figure cell id {cell.get('id', '?')} ({where}): {reason}")
                     for reason in alt_text.cell_problems(cell, len(alt_text.undescribed(cell)))]
    return problems


#: The timing table's header per edition: lesson, wall time (mode), figures, flat panels, rails; the modes.
TABLE_WORDS = {
    "en": ("| lesson | wall time ({mode}) | figures | flat panels | most values at the rails |",
           "smoke mode, NSTLIB_SMOKE=1", "full settings", "all"),
    "ko": ("| 강의 | 걸린 시간({mode}) | 그림 | 평평한 패널 | 양 끝 값의 최대 비율 |",
           "스모크 모드, NSTLIB_SMOKE=1", "전체 설정", "전체"),
}


def timing_table(rows: list[dict], smoke: bool, language: str = "en") -> str:
    header, smoke_mode, full_mode, everything = TABLE_WORDS[language]
    lines = [header.format(mode=smoke_mode if smoke else full_mode), "|---|---|---|---|---|"]
    for r in rows:
        over = f" (over the {BUDGET_S // 60}-minute budget)" if not smoke and r["seconds"] > BUDGET_S else ""
        lines.append(f"| {r['lesson']} | {fmt_time(r['seconds'])}{over} | {r['figures']} | {r['flat_panels']} "
                     f"| {r['max_rails']:.0%} |")
    total = sum(r["seconds"] for r in rows)
    over = f" (over the {BOOK_BUDGET_S // 60}-minute budget)" if not smoke and total > BOOK_BUDGET_S else ""
    lines.append(f"| {everything} | {fmt_time(total)}{over} | {sum(r['figures'] for r in rows)} | | |")
    return "\n".join(lines)


def fmt_time(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds // 60:.0f} min {seconds % 60:02.0f} s"


def cpu_model() -> str:
    import platform

    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> str:
    """The machine a run measured on, in one line: CPU model and cores, GPU if any, torch version."""
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return f"{cpu_model()}, {os.cpu_count()} cores, {gpu}, torch {torch.__version__}"


def weights_used(nb) -> list[str]:
    """The weights a run used, as nstlib printed them: each distinct ``nstlib weights: ...`` line, else the
    ``weights:`` line of the setup cell's report."""
    from nstlib import i18n

    # The two lines' openings in every language nstlib speaks ("nstlib weights: ", "nstlib 가중치: ", ...).
    printed = tuple(i18n.catalogue(code).gettext("nstlib weights: {summary}").split("{")[0] for code in LANGUAGES)
    report = tuple(i18n.catalogue(code).gettext("weights: {label}").split("{")[0] for code in LANGUAGES)
    found, reported = [], []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")
        for line in text.splitlines():
            opening = next((p for p in printed if line.startswith(p)), None)
            if opening and line[len(opening):].strip() not in found:
                found.append(line[len(opening):].strip())
            elif not opening and not reported:
                opening = next((p for p in report if line.startswith(p)), None)
                if opening:
                    reported.append(line[len(opening):].strip())
    # Where a weights file lies on the machine that built the site means nothing to its readers.
    shown = [re.sub(r"\s*\((?:/|~|[A-Za-z]:\\)[^)]*\)", "", line) for line in found or reported]
    return list(dict.fromkeys(shown))


#: The title of the note a lesson page opens with, per edition (the browser test looks for it).
MEASURED_HERE = {"en": "Measured here", "ko": "이 페이지를 만든 실행"}
#: The note's words per edition: its sentence, the smoke-mode phrase, and what stands in for what was not recorded.
MEASURED_WORDS = {
    "en": {"text": "The outputs on this page come from one run of the lesson{mode} on {date}, with the weights "
                   "{weights}, on {machine}. Your own run prints its own figures: they change with the weights "
                   "and the machine.",
           "smoke": " in smoke mode (tiny images, few steps)", "date": "an unknown date", "weights": "none printed",
           "machine": "an unrecorded machine"},
    "ko": {"text": "이 페이지의 출력은 {date}에{mode} 강의를 한 번 실행한 결과입니다. 가중치: {weights}. "
                   "컴퓨터: {machine}. 여러분이 직접 실행하면 그 실행의 그림이 나옵니다. "
                   "그림은 가중치와 컴퓨터에 따라 달라집니다.",
           "smoke": " 스모크 모드(작은 이미지, 적은 단계)로", "date": "기록되지 않은 날짜", "weights": "출력되지 않음",
           "machine": "기록되지 않음"},
}


def measured_note(nb, language: str = "en") -> str:
    """The note a lesson page opens with: what its outputs were measured with, so no one reads them as
    universal (a student's own run prints its own)."""
    run = nb.metadata.get("nstlib_run", {})
    words = MEASURED_WORDS[language]
    text = words["text"].format(mode=words["smoke"] if run.get("smoke") else "",
                                date=run.get("date") or words["date"],
                                weights="; ".join(weights_used(nb)) or words["weights"],
                                machine=run.get("machine") or words["machine"])
    return f"```{{admonition}} {MEASURED_HERE[language]}\n:class: measured-here\n{text}\n```"


def tag_figures(paths: list[Path], smoke: bool, timeout: int) -> None:
    """Tag exactly the cells that draw a figure (run after adding or removing a figure); a cell tagged
    ``figure-imagenet`` (its figure needs the ImageNet weights) keeps that tag instead."""
    for path in paths:
        executed, _, _ = execute(path, smoke, timeout)
        nb = nbformat.read(path, as_version=4)
        for cell, run in zip(nb.cells, executed.cells):
            if cell.cell_type != "code":
                continue
            tags = [t for t in cell.metadata.get("tags", []) if t != FIGURE_TAG]
            if images_in(run) and IMAGENET_FIGURE_TAG not in tags:
                tags.append(FIGURE_TAG)
            if tags:
                cell.metadata["tags"] = tags
            else:
                cell.metadata.pop("tags", None)
        nbformat.write(nb, path)
        print(f"{path.name}: {sum(FIGURE_TAG in c.metadata.get('tags', []) for c in nb.cells)} figure cells")


def run_lessons(paths: list[Path], smoke: bool, timeout: int, build: Path = BUILD) -> tuple[list[dict],
                                                                                              list[Problem]]:
    executed_dir = build / "executed"
    if executed_dir.exists():
        shutil.rmtree(executed_dir)
    executed_dir.mkdir(parents=True)
    rows, problems = [], []
    for path in paths:
        print(f"running {path.name} ({'smoke' if smoke else 'full settings'}) ...", flush=True)
        start = time.perf_counter()
        nb, found, stats = execute(path, smoke, timeout)
        seconds = time.perf_counter() - start
        nbformat.write(nb, executed_dir / path.name)
        rows.append({"lesson": path.stem, "seconds": seconds, **stats})
        problems += found
        print(f"  {fmt_time(seconds)}, {stats['figures']} figures, {len(found)} problem(s)", flush=True)
    return rows, problems


def published(path: Path, badge: str, alts: dict | None = None, note: bool = False, language: str = "en") -> str:
    """An executed lesson as the site and the slides show it: nothing in it needs the network, every picture
    carries its alt text (collected into ``alts`` by picture), and with ``note`` the page opens with the note
    on what its outputs were measured with."""
    nb = nbformat.read(path, as_version=4)
    table = alt_text.attach(nb)
    if alts is not None:
        alts.update(table)
    if note:
        nb.cells.insert(1, nbformat.v4.new_markdown_cell(measured_note(nb, language)))
    text = nbformat.writes(nb)
    # Links out of notebooks/ (the README, the code) point at the repository instead.
    up = "../" * (1 if language == "en" else 2)
    text = text.replace(f"]({up}", f"](https://github.com/{config.REPOSITORY}/blob/{config.BRANCH}/")
    text = text.replace(" " + config.site_link(path.name, language), "")  # the page is that link
    # The Colab badge's picture is served with the page, so it shows with no network.
    return text.replace(COLAB_BADGE_PICTURE, badge)


def build_site(smoke: bool, partial: bool = False, build: Path = BUILD, language: str = "en",
               html: Path | None = None) -> Path:
    """Sphinx + MyST-NB over docs/book and the executed lessons, with no network; another language's site takes
    its home page from docs/<language>/book/index.md.

    Any warning fails the build, except in a partial build (--only), where links to the lessons left out
    cannot resolve."""
    src = build / "src"
    if src.exists():
        shutil.rmtree(src)
    shutil.copytree(SOURCE, src, ignore=shutil.ignore_patterns("slides_template", "__pycache__"))
    if language != "en":
        shutil.copy(ROOT / "docs" / language / "book" / "index.md", src / "index.md")
        serve_fonts(src / "_static", language)
    (src / "lessons").mkdir()
    alts: dict[str, str] = {}
    for path in sorted((build / "executed").glob("*.ipynb")):
        (src / "lessons" / path.name).write_text(published(path, "../_static/colab-badge.svg", alts, note=True,
                                                           language=language))
    (src / "_alt_text.json").write_text(json.dumps(alts, indent=1))  # read by conf.py
    shutil.copy(build / "timings.md", src / "_timings.md")
    need_assets()
    shutil.copytree(ASSETS / "mathjax", src / "_static" / "mathjax")
    html = html or build / "html"
    if html.exists():
        shutil.rmtree(html)
    env = dict(os.environ, NSTLIB_BOOK_SMOKE="1" if smoke else "0", NSTLIB_BOOK_LANGUAGE=language)
    strict = [] if partial else ["-W", "--keep-going"]
    done = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", *strict, "-j", "1",
                           str(src), str(html)], env=env)
    if done.returncode:
        raise SystemExit("The website did not build: Sphinx's warnings are above (each names a page and line).")
    return html


#: The slides' index page, per edition.
SLIDES_INDEX = {
    "en": ("Slides", "Lesson slides", "Arrow keys move, S opens the speaker notes.", "Back to the course"),
    "ko": ("슬라이드", "강의 슬라이드", "화살표 키로 넘기고, S 키로 발표자 노트를 엽니다.", "강좌로 돌아가기"),
}


#: The CSS an edition's pages need beyond the theme's: the Korean one serves its Hangul font.
EDITION_CSS = {"ko": "korean.css"}


def serve_fonts(static: Path, language: str) -> None:
    """Copy the edition's font files (the Hangul font that plotting draws figures with) and their CSS into the
    folder pages load them from, so the text shows on a machine without such a font and without network."""
    if language not in EDITION_CSS:
        return
    from nstlib import plotting

    regular = plotting.hangul_font_path()
    if regular is None:
        raise SystemExit("The Korean site serves the Hangul font of koreanize-matplotlib, which is not installed: "
                         "pip install koreanize-matplotlib (make setup installs it)")
    from fontTools.ttLib import TTFont  # matplotlib's own dependency

    (static / "fonts").mkdir(parents=True, exist_ok=True)
    for name in ("NanumGothic.ttf", "NanumGothicBold.ttf"):
        target = static / "fonts" / name
        if target.exists():
            continue
        font = TTFont(regular.parent / name)
        # The TSI* tables hold the hinting tool's sources, which the font needs nowhere; one is empty, and
        # browsers refuse a web font with an empty table (Chromium's OTS: "TSI3: zero-length table").
        for table in [t for t in font.keys() if t.startswith("TSI")]:
            del font[table]
        font.save(target)
    shutil.copy(SOURCE / "_static" / "fonts" / "OFL.txt", static / "fonts" / "OFL.txt")
    shutil.copy(SOURCE / "_static" / EDITION_CSS[language], static / EDITION_CSS[language])


def build_slides(slides: Path, build: Path = BUILD, language: str = "en") -> Path:
    """Every executed lesson as reveal.js slides in ``slides``, with reveal.js and MathJax beside them."""
    slides.mkdir(parents=True, exist_ok=True)
    need_assets()
    for name in ("reveal.js", "mathjax"):
        if not (slides / name).exists():
            shutil.copytree(ASSETS / name, slides / name)
    shutil.copy(SOURCE / "_static" / "colab-badge.svg", slides / "colab-badge.svg")
    serve_fonts(slides, language)
    css = EDITION_CSS.get(language)
    staged = build / "slides-src"
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
    for path in sorted((build / "executed").glob("*.ipynb")):
        (staged / path.name).write_text(published(path, badge="colab-badge.svg", language=language))
    for path in sorted(staged.glob("*.ipynb")):
        subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "slides", str(path),
                        "--output-dir", str(slides), "--log-level", "ERROR",
                        f"--TemplateExporter.extra_template_basedirs={SOURCE}", "--template=slides_template",
                        "--SlidesExporter.reveal_url_prefix=reveal.js",
                        "--SlidesExporter.reveal_scroll=True", "--SlidesExporter.reveal_theme=white",
                        # a classroom projector: the slide is laid out at 1280x720 and scaled to the screen
                        "--SlidesExporter.reveal_width=1280", "--SlidesExporter.reveal_height=720",
                        "--SlidesExporter.mathjax_url=mathjax/tex-svg-full.js"], check=True)
    for deck in slides.glob("*.slides.html") if css else ():
        text = deck.read_text(encoding="utf-8")
        if css not in text:
            deck.write_text(text.replace("</head>", f'<link rel="stylesheet" href="{css}">\n</head>', 1),
                            encoding="utf-8")
    links = "\n".join(f'<li><a href="{p.name}">{p.stem.removesuffix(".slides")}</a></li>'
                      for p in sorted(slides.glob("*.slides.html")))
    title, heading, keys, back = SLIDES_INDEX[language]
    (slides / "index.html").write_text(
        f"<!DOCTYPE html><html lang=\"{language}\"><head><meta charset=\"utf-8\"><title>{title}</title>"
        + (f'<link rel="stylesheet" href="{css}">' if css else "") + "</head><body class=\"slides-index\">"
        f"<h1>{heading}</h1><p>{keys}</p><ul>{links}</ul>"
        f"<p><a href=\"../index.html\">{back}</a></p></body></html>\n", encoding="utf-8")
    return slides


#: npm packages the site and slides serve themselves: name, version, sha256 of the packed tarball.
ASSET_PACKAGES = {
    "reveal.js": ("4.6.1", "4f4121ef2b8e7e9398bdecd7b3b6ce5e0ee3a2f5af221708eb6c4ce03bcae6be"),
    "mathjax": ("3.2.2", "1b9c0a1c44df864e915690558e72adb9cc5203360daefd385084ced3b6c64c09"),
}


def need_assets() -> None:
    if not (ASSETS / "reveal.js" / "dist" / "reveal.js").exists() or not (ASSETS / "mathjax").exists():
        raise SystemExit(f"reveal.js and MathJax are not in {ASSETS}: run `make book-assets` once "
                         "(it needs npm), then build again.")


def fetch_assets() -> None:
    """Install reveal.js and MathJax for the site, once, from the npm registry (sha256-checked)."""
    import hashlib
    import tarfile

    if shutil.which("npm") is None:
        raise SystemExit("The slides and the site's formulas need reveal.js and MathJax, which come from npm: "
                         "install Node.js (it brings npm), then run `make book-assets` again.")
    tmp = ASSETS / "download"
    shutil.rmtree(ASSETS, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name, (version, sha256) in ASSET_PACKAGES.items():
        subprocess.run(["npm", "pack", "--silent", f"{name}@{version}"], cwd=tmp, check=True,
                       stdout=subprocess.DEVNULL)
        tarball = tmp / f"{name}-{version}.tgz"
        digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
        if digest != sha256:
            shutil.rmtree(ASSETS)
            raise SystemExit(f"{tarball.name} has sha256 {digest}, expected {sha256}: nothing was kept.")
        with tarfile.open(tarball) as archive:
            archive.extractall(tmp / name, filter="data") if hasattr(tarfile, "data_filter") \
                else archive.extractall(tmp / name)
    shutil.copytree(tmp / "reveal.js" / "package", ASSETS / "reveal.js",
                    ignore=lambda d, names: [n for n in names if d.endswith("package") and n not in
                                             ("dist", "plugin", "LICENSE", "package.json")])
    (ASSETS / "mathjax").mkdir()
    for name in ("tex-svg-full.js",):
        shutil.copy(tmp / "mathjax" / "package" / "es5" / name, ASSETS / "mathjax" / name)
    shutil.copy(tmp / "mathjax" / "package" / "LICENSE", ASSETS / "mathjax" / "LICENSE")
    shutil.rmtree(tmp)
    print(f"reveal.js {ASSET_PACKAGES['reveal.js'][0]} and MathJax {ASSET_PACKAGES['mathjax'][0]} in {ASSETS}")


def offline_problems(html: Path) -> list[str]:
    """Pages that would load anything from the network: the site must work in a classroom without one."""
    pattern = re.compile(r"""<(?:script|link|img)[^>]+(?:src|href)=["'](https?:)?//""", re.I)
    found = []
    for page in html.rglob("*.html"):
        for match in pattern.finditer(page.read_text(errors="replace")):
            found.append(f"{page.relative_to(html)}: {match.group(0)[:100]}")
    return found


def reusable_run(paths: list[Path], build: Path = BUILD) -> bool:
    """True when build/book/executed holds a full-settings run of every lesson, newer than its notebook."""
    try:
        report = json.loads((build / "report.json").read_text())
    except (FileNotFoundError, ValueError):
        return False
    done = build / "executed"
    return not report.get("smoke", True) and all(
        (done / p.name).exists() and (done / p.name).stat().st_mtime > p.stat().st_mtime for p in paths)


@contextlib.contextmanager
def standin_weights():
    """While inside, 'auto' finds nstlib.testing's ImageNet stand-in (NOT ImageNet) where torchvision's
    checkpoints would be, exactly as tests/notebooks_imagenet runs the lessons' ImageNet branches: the same
    cached copy (``testing.standin_home``), written only once per offline pack."""
    from nstlib import testing

    saved = {key: os.environ.get(key) for key in ("TORCH_HOME", "NSTLIB_WEIGHTS")}
    os.environ["TORCH_HOME"] = str(testing.standin_home())  # the kernels inherit it
    os.environ.pop("NSTLIB_WEIGHTS", None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny images and few steps (CI)")
    parser.add_argument("--only", nargs="+", help="lesson numbers or names, e.g. 02 04")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds one cell may take")
    parser.add_argument("--no-site", action="store_true", help="run and check the lessons only")
    parser.add_argument("--tag-figures", action="store_true", help="tag the cells that draw figures, then stop")
    parser.add_argument("--fetch-assets", action="store_true", help="install reveal.js and MathJax (npm), then stop")
    parser.add_argument("--slides-only", action="store_true",
                        help="slides into build/book/slides, reusing a full-settings run of `make book` if current")
    parser.add_argument("--language", choices=["all", *LANGUAGES], default="all",
                        help="which edition to build (default: all, English first)")
    parser.add_argument("--standin", action="store_true",
                        help=f"run on the ImageNet stand-in (NOT ImageNet) into {STANDIN_BUILD.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    if args.fetch_assets:
        fetch_assets()
        return 0
    build = STANDIN_BUILD if args.standin else BUILD
    languages = LANGUAGES if args.language == "all" else (args.language,)
    status = 0
    with standin_weights() if args.standin else contextlib.nullcontext():
        if args.tag_figures:  # the tags are the English lessons'; the Korean ones copy them
            tag_figures(lessons(args.only), args.smoke, args.timeout)
            return 0
        for language in languages:
            run_dir, html = edition(build, language)
            paths = lessons(args.only, language)
            if args.slides_only and not args.smoke and reusable_run(paths, run_dir):
                print(f"slides: {build_slides(run_dir / 'slides', run_dir, language)} (from the executed lessons "
                      "of the last full build)")
                continue
            if len(languages) > 1:
                print(f"\n== {language} ==", flush=True)
            status = max(status, build_book(args, paths, run_dir, language, html))
    return status


def build_book(args, paths: list[Path], build: Path, language: str = "en", html: Path | None = None) -> int:
    """Run, check, time and publish the lessons of ``paths`` into ``build`` (the site into ``html``); the exit
    status."""
    rows, problems = run_lessons(paths, args.smoke, args.timeout, build)
    table = timing_table(rows, args.smoke, language)
    measured = "측정한 컴퓨터와 날짜: {}, {}." if language == "ko" else "Measured on {}, {}."
    (build / "timings.md").write_text(f"{measured.format(machine(), time.strftime('%Y-%m-%d'))}\n\n{table}\n",
                                      encoding="utf-8")
    (build / "report.json").write_text(json.dumps({"smoke": args.smoke, "lessons": rows}, indent=1))
    print("\n" + table + "\n")
    if problems:
        print(f"{len(problems)} problem(s) in the executed lessons:")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    over = [r["lesson"] for r in rows if not args.smoke and r["seconds"] > BUDGET_S]
    if over:
        print(f"over the {BUDGET_S // 60}-minute budget: {', '.join(over)} (give them smaller defaults)")
    if not args.smoke and not args.only and sum(r["seconds"] for r in rows) > BOOK_BUDGET_S:
        print(f"the whole book is over its {BOOK_BUDGET_S // 60}-minute budget (give the slowest lessons smaller "
              "defaults)")
    if args.slides_only:
        print(f"slides: {build_slides(build / 'slides', build, language)}")
        return 1 if over else 0
    if args.no_site:
        return 0
    html = build_site(args.smoke, partial=bool(args.only), build=build, language=language, html=html)
    slides = build_slides(html / "slides", build, language)
    leaks = offline_problems(html)
    if leaks:
        print("pages that load from the network (the site must work offline):")
        print("\n".join(f"  - {leak}" for leak in leaks[:20]))
        return 1
    print(f"site: {html / 'index.html'}\nslides: {slides}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
