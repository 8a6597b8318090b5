"""The course build's own checks (tools/build_book.py, tools/figure_checks.py, tools/slide_metadata.py):
each must catch what it names, and the committed notebooks must carry current slide metadata."""

from __future__ import annotations

import base64
import io
import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import alt_text  # noqa: E402
import build_book  # noqa: E402
import figure_checks  # noqa: E402
import slide_metadata  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def figure_of(*arrays, **imshow):
    fig, axes = plt.subplots(1, len(arrays), squeeze=False)
    for ax, array in zip(axes.flat, arrays):
        ax.imshow(array, **imshow)
    return fig


def judge(fig):
    record = figure_checks.describe_figure(fig)
    plt.close(fig)
    return figure_checks.verdict(record)


def smooth(size=64):
    y, x = np.mgrid[0:size, 0:size] / size
    return np.stack([0.2 + 0.6 * x, 0.2 + 0.6 * y, 0.5 + 0.2 * np.sin(6 * x)], axis=-1)


def test_a_figure_with_content_passes():
    assert judge(figure_of(smooth())) is None
    fig, ax = plt.subplots()
    ax.plot([0, 1, 2], [3, 1, 2])
    assert judge(fig) is None


def test_an_empty_figure_is_blank():
    fig, ax = plt.subplots()
    ax.set_axis_off()
    assert judge(fig).startswith("blank")


def test_a_figure_whose_panels_are_all_one_colour_is_blank():
    assert judge(figure_of(np.full((32, 32, 3), 0.4), np.zeros((32, 32, 3)))).startswith("blank")
    # A single flat panel beside a real one is content (lesson 1 shows blank channels on purpose).
    assert judge(figure_of(np.zeros((32, 32, 3)), smooth(32))) is None


def test_a_colour_map_is_judged_as_shown():
    """A 2D map is judged after its colour map and limits: clipped limits saturate it."""
    ramp = np.linspace(0, 1, 64 * 64).reshape(64, 64)
    assert judge(figure_of(ramp, cmap="gray")) is None
    assert judge(figure_of(ramp, cmap="gray", vmin=0.45, vmax=0.55)).startswith("saturated")


def test_neon_noise_is_saturated():
    rng = np.random.default_rng(0)
    neon = (rng.random((64, 64, 3)) > 0.5).astype(float)
    assert judge(figure_of(neon)).startswith("saturated")
    assert judge(figure_of(np.clip(neon * 0.6 + 0.2, 0, 1))) is None


def test_rail_share_counts_values_within_two_levels_of_the_rails():
    assert figure_checks.rail_share(np.array([0.0, 1 / 255, 0.5, 254 / 255, 1.0, 0.3])) == pytest.approx(4 / 6)


def png(array) -> str:
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(array, dtype=np.uint8)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def test_a_single_colour_picture_is_blank():
    assert figure_checks.picture_verdict(png(np.full((20, 30, 3), 255))).startswith("blank")
    assert figure_checks.picture_verdict(png(np.full((20, 30, 3), (200, 10, 10)))).startswith("blank")
    picture = np.full((20, 30, 3), 255)
    picture[5:10, 5:10] = 0
    assert figure_checks.picture_verdict(png(picture)) is None


def code_cell(outputs=(), tags=()):
    cell = nbformat.v4.new_code_cell("plot_something()")
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


PICTURE = {"output_type": "display_data", "data": {"image/png": png(np.eye(8) * 255)}, "metadata": {}}
ERROR = {"output_type": "error", "ename": "ValueError", "evalue": "bad size", "traceback": []}


def problems(cell, records=()):
    stats = {"figures": 0, "flat_panels": 0, "max_rails": 0.0}
    return [str(p) for p in build_book.check_cell("04_style", 7, cell, list(records), stats)]


def test_a_cell_error_is_reported_with_lesson_and_cell():
    assert problems(code_cell([ERROR])) == ["04_style, cell 7: ValueError: bad size in `plot_something()`"]


def test_figure_tags_must_match_what_a_cell_draws():
    assert problems(figure_cell([GOOD_ALT])) == []
    assert "drew none" in problems(code_cell([], tags=["figure"]))[0]
    assert "not tagged" in problems(code_cell([PICTURE]))[0]


def test_a_figure_drawn_with_missing_letters_is_a_problem():
    warning = {"output_type": "stream", "name": "stderr",
               "text": "UserWarning: Glyph 54620 (\\N{HANGUL SYLLABLE HAN}) missing from font(s) DejaVu Sans.\n"}
    found = problems(figure_cell([GOOD_ALT], extra=[warning]))
    assert len(found) == 1 and "a figure lacks letters ('Glyph 54620" in found[0]
    other = {"output_type": "stream", "name": "stderr", "text": "UserWarning: something else\n"}
    assert problems(figure_cell([GOOD_ALT], extra=[other])) == []


def test_a_bad_figure_record_is_reported():
    record = {"title": "patterns", "artists": 0, "panels": [{"flat": False, "rails": 0.9, "size": 100}]}
    found = problems(figure_cell([GOOD_ALT]), [record])
    assert len(found) == 1 and "'patterns' is saturated: 90%" in found[0]


def lesson(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def markdown(text):
    return nbformat.v4.new_markdown_cell(text)


LONG = " ".join(["words"] * (slide_metadata.NOTES_WORDS + 1))


def test_slide_types_follow_the_lesson_structure():
    nb = lesson(markdown("# Lesson 9\n\nbadge"), code_cell(), markdown("## 1. Section"), markdown(LONG),
                code_cell(), markdown("A short intro to the figure."), code_cell(tags=["figure"]),
                code_cell(tags=["figure"]), markdown("- a list\n- " + LONG), markdown("### An aside"))
    assert slide_metadata.slide_types(nb) == ["slide", "skip", "slide", "notes", "-", "subslide", "-",
                                              "subslide", "-", "subslide"]


def test_a_long_section_is_split_so_its_narration_becomes_notes():
    nb = lesson(markdown("# Title\n\n" + LONG), code_cell(), markdown("## 2. Two\n\n" + LONG))
    assert slide_metadata.apply(nb)
    assert [c.source for c in nb.cells] == ["# Title\n\n" + LONG, "plot_something()", "## 2. Two", LONG]
    assert [c.metadata["slideshow"]["slide_type"] for c in nb.cells] == ["slide", "skip", "slide", "notes"]
    assert not slide_metadata.apply(nb), "a second pass changes nothing"


def test_every_heading_begins_a_cell_and_is_never_notes():
    nb = lesson(markdown("# T"), code_cell(),
                markdown(LONG + "\n\n## 3. Next\n\nShort text.\n\n### Aside\n\n" + LONG),
                markdown("<details><summary>Solution</summary>\n\n## not a heading\n\n" + LONG
                         + "\n</details>\n\n## Summary\n\n- one\n- two"))
    nb.cells[2].id = "abcd1234"
    slide_metadata.apply(nb)
    assert [c.source for c in nb.cells[2:]] == [
        LONG, "## 3. Next\n\nShort text.", "### Aside", LONG,
        "<details><summary>Solution</summary>\n\n## not a heading\n\n" + LONG + "\n</details>",
        "## Summary\n\n- one\n- two"]
    kinds = [c.metadata["slideshow"]["slide_type"] for c in nb.cells[2:]]
    assert kinds == ["notes", "slide", "subslide", "notes", "-", "slide"]
    ids = [c.id for c in nb.cells]
    assert nb.cells[2].id == "abcd1234" and len(set(ids)) == len(ids) and all(len(i) == 8 for i in ids[2:])
    assert not slide_metadata.apply(nb), "a second pass changes nothing (same cuts, same ids)"


def test_lists_summaries_and_exercise_tasks_stay_on_the_slide():
    objectives = "## What you will learn\n\n" + LONG + "\n\n- capture a layer\n- read a map"
    exercise = "## Exercises\n\n**1.** " + LONG
    nb = lesson(markdown("# T"), code_cell(), markdown(objectives), markdown(exercise),
                markdown("## Summary"), markdown(LONG), markdown("## 4. Four\n\n" + LONG + "\n\n- a\n- b"))
    slide_metadata.apply(nb)
    sources = [c.source for c in nb.cells]
    kinds = [c.metadata["slideshow"]["slide_type"] for c in nb.cells]
    assert sources[2:6] == [objectives, exercise, "## Summary", LONG] and kinds[2:6] == ["slide", "slide",
                                                                                         "slide", "-"]
    assert sources[6:] == ["## 4. Four", LONG, "- a\n- b"] and kinds[6:] == ["slide", "notes", "-"]


def test_a_figure_right_after_a_bare_heading_keeps_its_text_on_the_heading_slide():
    nb = lesson(markdown("# T"), code_cell(), markdown("## What you will learn"), markdown("- a\n- b"),
                code_cell(tags=["figure"]))
    assert slide_metadata.slide_types(nb)[2:] == ["slide", "-", "subslide"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebooks_carry_current_slide_metadata(path):
    nb = nbformat.read(path, as_version=4)
    assert not slide_metadata.apply(nb), f"run: python tools/slide_metadata.py {path.relative_to(ROOT)}"
    kinds = [c.metadata["slideshow"]["slide_type"] for c in nb.cells]
    assert kinds[0] == "slide" and kinds[1] == "skip"
    figures = [i for i, c in enumerate(nb.cells) if slide_metadata.is_figure(c)]
    assert figures, f"{path.name} tags no cell as drawing a figure: run tools/build_book.py --tag-figures"


def test_a_published_lesson_needs_no_network_and_links_out_to_the_repository(tmp_path):
    from nstlib import config

    name = "03_class_activation_maps.ipynb"
    title = f"# Lesson 3\n\n{config.colab_badge(name)} {config.site_link(name)}\n\nSee [the README](../README.md)."
    nb = lesson(markdown(title))
    path = tmp_path / name
    nbformat.write(nb, path)
    text = build_book.published(path, badge="colab-badge.svg")
    assert build_book.COLAB_BADGE_PICTURE not in text and "(colab-badge.svg)" in text
    assert config.colab_url(name) in text, "the badge still opens the lesson in Colab"
    assert config.site_url(name) not in text, "a page does not link to itself"
    assert f"https://github.com/{config.REPOSITORY}/blob/{config.BRANCH}/README.md" in text


def test_a_published_korean_lesson_links_out_from_one_folder_deeper(tmp_path):
    from nstlib import config

    name = "03_class_activation_maps.ipynb"
    title = (f"# 3강\n\n{config.colab_badge(name, 'ko')} {config.site_link(name, 'ko')}\n\n"
             "[README](../../README.ko.md)와 [4강](04_neural_style_transfer.ipynb)을 보세요.")
    path = tmp_path / name
    nbformat.write(lesson(markdown(title)), path)
    text = build_book.published(path, badge="colab-badge.svg", language="ko")
    assert config.colab_url(name, "ko") in text and config.site_url(name, "ko") not in text
    assert f"https://github.com/{config.REPOSITORY}/blob/{config.BRANCH}/README.ko.md" in text
    assert "](04_neural_style_transfer.ipynb)" in text, "links between lessons stay within the edition"
    assert build_book.edition(tmp_path, "ko") == (tmp_path / "ko", tmp_path / "html" / "ko")
    assert build_book.edition(tmp_path, "en") == (tmp_path, tmp_path / "html")


# Alt text (tools/alt_text.py): every figure says what it shows, on the website and on the slides.

GOOD_ALT = "Four rows of feature maps of the cat photo, one row per block of VGG16"


@pytest.mark.parametrize("text", [None, "", "   ", "figure", "The plot", "image 3",
                                  "../_images/0710e4ee37a3.png", "build/book/html/_images/cat.png",
                                  "Cat activations shown", "No description has been provided for this image.png"])
def test_an_alt_text_that_describes_nothing_is_refused(text):
    assert alt_text.problem(text) is not None


def test_a_real_description_passes():
    assert alt_text.problem(GOOD_ALT) is None
    assert alt_text.problem("A loss curve falling steeply, then flattening after step 20") is None


def figure_cell(alt=None, pictures=1, extra=()):
    cell = code_cell([*extra, *[PICTURE] * pictures], tags=["figure"])
    cell.id = "c265dc43"
    if alt is not None:
        cell.metadata["alt"] = alt
    return cell


def test_a_figure_cell_needs_one_description_per_picture():
    assert alt_text.cell_problems(figure_cell([GOOD_ALT, GOOD_ALT], pictures=2), 2) == []
    assert alt_text.cell_problems(figure_cell(GOOD_ALT), 1) == [], "a plain string for a one-picture cell"
    assert "no alt text" in alt_text.cell_problems(figure_cell(), 1)[0]
    assert "2 pictures but 1 alt text" in alt_text.cell_problems(figure_cell([GOOD_ALT], pictures=2), 2)[0]
    assert "alt text 2 'a cat' is shorter" in alt_text.cell_problems(figure_cell([GOOD_ALT, "a cat"], 2), 2)[0]


def test_a_live_preview_describes_itself_so_the_cell_describes_only_its_own_figures():
    from nstlib.plotting import LivePicture

    preview = {**PICTURE, "data": {"image/png": png(np.eye(8)[::-1] * 255)},
               "metadata": {"alt": LivePicture().alt}}
    cell = code_cell([preview, PICTURE], tags=["figure"])
    cell.metadata["alt"] = [GOOD_ALT]
    assert problems(cell) == []
    nb = lesson(markdown("# Lesson 9"), cell)
    table = alt_text.attach(nb)
    assert [o["metadata"]["alt"] for o in nb.cells[1].outputs] == [LivePicture().alt, GOOD_ALT]
    assert set(table.values()) == {GOOD_ALT, LivePicture().alt}
    cell.metadata["alt"] = []
    assert any("no alt text" in p for p in problems(cell)), "the figure after the preview still needs one"


def test_the_build_fails_on_a_figure_without_alt_text_naming_lesson_and_cell_id():
    found = problems(figure_cell())
    assert len(found) == 1 and found[0].startswith("04_style, cell 7: figure cell id c265dc43")
    assert "add metadata \"alt\"" in found[0]
    assert problems(figure_cell([GOOD_ALT])) == []


def test_published_pictures_carry_their_alt_text(tmp_path):
    nb = lesson(markdown("# Lesson 9"), figure_cell([GOOD_ALT]))
    path = tmp_path / "09_fake.ipynb"
    nbformat.write(nb, path)
    alts = {}
    published = nbformat.reads(build_book.published(path, badge="b.svg", alts=alts), as_version=4)
    assert published.cells[1].outputs[0]["metadata"]["alt"] == GOOD_ALT  # what the slides' template reads
    assert alts == {alt_text.digest(PICTURE["data"]["image/png"]): GOOD_ALT}  # what the website's pages read


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_figure_cell_of_a_lesson_describes_its_pictures(path):
    nb = nbformat.read(path, as_version=4)
    missing = [f"cell {c.id}: {'; '.join(found)}" for c in nb.cells if slide_metadata.is_figure(c)
               and (found := alt_text.cell_problems(c))]
    assert not missing, f"{path.name}: figure cells without alt text ({alt_text.HOW_TO_FIX}):\n  " + \
        "\n  ".join(missing)


# The note on what a lesson page's outputs were measured with (tools/build_book.py).

def executed_lesson(*outputs_per_cell, run=None):
    cells = [markdown("# Lesson 9")]
    for outputs in outputs_per_cell:
        cells.append(code_cell([{"output_type": "stream", "name": "stdout", "text": text} for text in outputs]))
    nb = lesson(*cells)
    if run:
        nb.metadata["nstlib_run"] = run
    return nb


def test_the_weights_come_from_what_the_lesson_printed():
    nb = executed_lesson(["nstlib 0.1 | torch 2.5\nweights: offline-vgg16: offline pack (/root/x.pth)\n"],
                         ["nstlib weights: imagenet-vgg16: torchvision VGG16 (/tmp/t/vgg16.pth) -- NOT ImageNet\n"],
                         ["nstlib weights: imagenet-vgg16: torchvision VGG16 (/tmp/t/vgg16.pth) -- NOT ImageNet\n",
                          "nstlib weights: imagenet-vgg19: torchvision VGG19 (/tmp/t/vgg19.pth)\n"])
    assert build_book.weights_used(nb) == ["imagenet-vgg16: torchvision VGG16 -- NOT ImageNet",
                                           "imagenet-vgg19: torchvision VGG19"]
    only_report = executed_lesson(["device: cpu\nweights: offline-vgg16: offline pack (/root/x.pth)\n"])
    assert build_book.weights_used(only_report) == ["offline-vgg16: offline pack"]
    korean = executed_lesson(["장치: cpu\n가중치: offline-vgg16: offline pack (/root/x.pth)\n"],
                             ["nstlib 가중치: imagenet-vgg19: torchvision VGG19 (/tmp/t/vgg19.pth)\n"])
    assert build_book.weights_used(korean) == ["imagenet-vgg19: torchvision VGG19"], "a Korean run says it in Korean"
    assert build_book.weights_used(executed_lesson(["가중치: offline-vgg16: offline pack\n"])) == [
        "offline-vgg16: offline pack"]


def test_the_measured_here_note_names_weights_machine_and_date():
    run = {"date": "2026-12-05", "machine": "AMD EPYC, 2 cores, no GPU, torch 2.5.1", "smoke": False}
    note = build_book.measured_note(executed_lesson(["nstlib weights: offline-vgg16: offline pack\n"], run=run))
    assert note.startswith("```{admonition} Measured here")
    for part in ("2026-12-05", "offline-vgg16: offline pack", "AMD EPYC, 2 cores, no GPU, torch 2.5.1"):
        assert part in note
    assert "smoke" not in note


def test_the_korean_note_says_the_same_in_korean():
    run = {"date": "2026-12-05", "machine": "AMD EPYC, 2 cores, no GPU, torch 2.5.1", "smoke": True}
    note = build_book.measured_note(executed_lesson(["nstlib weights: offline-vgg16: offline pack\n"], run=run), "ko")
    assert note.startswith(f"```{{admonition}} {build_book.MEASURED_HERE['ko']}")
    for part in ("2026-12-05", "offline-vgg16: offline pack", "AMD EPYC", "스모크 모드", "가중치"):
        assert part in note


def test_a_lesson_page_opens_with_the_note(tmp_path):
    nb = executed_lesson(["nstlib weights: offline-vgg16: offline pack\n"],
                         run={"date": "2026-12-05", "machine": "a laptop", "smoke": True})
    path = tmp_path / "09_fake.ipynb"
    nbformat.write(nb, path)
    page = nbformat.reads(build_book.published(path, badge="b.svg", note=True), as_version=4)
    assert page.cells[0].source == "# Lesson 9" and "Measured here" in page.cells[1].source
    assert "smoke mode" in page.cells[1].source
    slides = nbformat.reads(build_book.published(path, badge="b.svg"), as_version=4)
    assert "Measured here" not in "".join(c.source for c in slides.cells), "the slides do without it"


def test_the_machine_line_names_cpu_cores_gpu_and_torch():
    import torch

    line = build_book.machine()
    assert f"{os.cpu_count()} cores" in line and f"torch {torch.__version__}" in line
    assert ("no GPU" in line) != torch.cuda.is_available()


# The ImageNet stand-in build (--standin).

def test_the_standin_build_runs_where_auto_finds_the_standin_and_puts_the_environment_back(monkeypatch):
    from nstlib import testing

    asked = []
    monkeypatch.setattr(testing, "standin_home", lambda: asked.append(1) or Path("/cache/standin/torch"))
    monkeypatch.setenv("NSTLIB_WEIGHTS", "offline")
    monkeypatch.setenv("TORCH_HOME", "/somewhere/else")
    with build_book.standin_weights():
        assert asked == [1], "the book takes the tests' cached stand-ins, not a copy of its own"
        assert os.environ["TORCH_HOME"] == "/cache/standin/torch"
        assert "NSTLIB_WEIGHTS" not in os.environ, "'auto' must be free to pick the stand-in"
    assert os.environ["TORCH_HOME"] == "/somewhere/else" and os.environ["NSTLIB_WEIGHTS"] == "offline"
    assert build_book.STANDIN_BUILD != build_book.BUILD


def test_a_figure_drawn_only_with_the_imagenet_weights_has_its_own_tag():
    skipped = code_cell([], tags=["figure-imagenet"])
    assert problems(skipped) == [], "offline, the cell prints that it skipped: no figure expected"
    drawn = figure_cell([GOOD_ALT])
    drawn.metadata["tags"] = ["figure-imagenet"]
    assert problems(drawn) == []
    drawn.metadata.pop("alt")
    assert "no alt text" in problems(drawn)[0]
    assert "figure-imagenet" in problems(code_cell([PICTURE]))[0], "the message names the second tag"
    assert slide_metadata.is_figure(skipped)
