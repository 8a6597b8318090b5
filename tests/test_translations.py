"""The Korean lessons' catalogue (tools/translate.py): a translation is tied to the English text it was made from,
so a changed English cell fails the check until its translation is updated."""

import json
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import translate  # noqa: E402

sys.path.pop(0)


def lesson(*texts):
    nb = nbformat.v4.new_notebook()
    for i, text in enumerate(texts):
        cell = nbformat.v4.new_markdown_cell(text)
        cell.id = f"cell{i}"
        nb.cells.append(cell)
    nb.cells.append(nbformat.v4.new_code_cell("print('code is never translated')"))
    return nb


def catalogue(nb, **texts):
    return {"lesson": "09_fake", "language": "ko",
            "cells": {c.id: {"en_sha256": translate.digest(c.source), "en": c.source, "text": texts.get(c.id, "")}
                      for c in nb.cells if c.cell_type == "markdown"}}


def test_a_current_translation_passes_and_an_untranslated_cell_does_not():
    nb = lesson("# Lesson 9: a fake", "Some prose.")
    assert translate.problems(nb, catalogue(nb, cell0="# 9강: 가짜", cell1="산문.")) == []
    found = translate.problems(nb, catalogue(nb, cell0="# 9강: 가짜"))
    assert len(found) == 1 and "cell1 is not translated yet" in found[0]


def test_a_changed_english_cell_fails_until_its_translation_is_updated():
    nb = lesson("# Lesson 9: a fake", "Some prose.")
    done = catalogue(nb, cell0="# 9강: 가짜", cell1="산문.")
    nb.cells[1].source = "Some prose, now longer."
    found = translate.problems(nb, done)
    assert len(found) == 1 and "cell1 changed in English" in found[0]


def test_a_new_english_cell_has_no_translation():
    nb = lesson("# Lesson 9: a fake")
    done = catalogue(nb, cell0="# 9강: 가짜")
    nb.cells.insert(1, nbformat.v4.new_markdown_cell("A new paragraph."))
    nb.cells[1].id = "newcell"
    assert any("newcell has no translation" in p for p in translate.problems(nb, done))


def test_extract_keeps_a_stale_translation_stale_and_adds_new_cells(tmp_path, monkeypatch):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    nb = lesson("# Lesson 9: a fake", "Some prose.")
    nbformat.write(nb, notebooks / "09_fake.ipynb")
    monkeypatch.setattr(translate, "ROOT", tmp_path)
    monkeypatch.setattr(translate, "NOTEBOOKS", notebooks)
    translate.extract("ko")
    path = tmp_path / "docs" / "ko" / "lessons" / "09_fake.json"
    entries = json.loads(path.read_text(encoding="utf-8"))["cells"]
    assert list(entries) == ["cell0", "cell1"] and all(e["text"] == "" for e in entries.values())
    entries["cell1"]["text"] = "산문."
    path.write_text(json.dumps({"lesson": "09_fake", "language": "ko", "cells": entries}, ensure_ascii=False))
    nb.cells[1].source = "Changed prose."
    nbformat.write(nb, notebooks / "09_fake.ipynb")
    translate.extract("ko")
    entry = json.loads(path.read_text(encoding="utf-8"))["cells"]["cell1"]
    assert entry["text"] == "산문." and entry["en"] == "Changed prose."
    assert entry["en_sha256"] != translate.digest("Changed prose."), "refreshing en must not make it look current"


def test_accept_ties_an_updated_translation_to_the_english_as_it_is(tmp_path, monkeypatch):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    nb = lesson("# Lesson 9: a fake")
    nbformat.write(nb, notebooks / "09_fake.ipynb")
    monkeypatch.setattr(translate, "ROOT", tmp_path)
    monkeypatch.setattr(translate, "NOTEBOOKS", notebooks)
    translate.extract("ko")
    nb.cells[0].source = "# Lesson 9: a changed fake"
    nbformat.write(nb, notebooks / "09_fake.ipynb")
    assert translate.problems(nb, translate.load_catalogue("ko", notebooks / "09_fake.ipynb"))
    path = tmp_path / "docs" / "ko" / "lessons" / "09_fake.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["cells"]["cell0"]["text"] = "# 9강: 바뀐 가짜"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    translate.main(["accept", "ko", "09", "cell0"])
    assert translate.problems(nb, translate.load_catalogue("ko", notebooks / "09_fake.ipynb")) == []


@pytest.mark.parametrize("path", translate.lessons(), ids=lambda p: p.name)
def test_every_lesson_has_a_current_korean_translation(path):
    found = translate.problems(nbformat.read(path, as_version=4), translate.load_catalogue("ko", path))
    assert not found, f"{path.name}: update docs/ko/lessons/{path.stem}.json:\n  " + "\n  ".join(found)


def fake_lesson_with_setup():
    nb = lesson("# Lesson 9: a fake\n\nSee [the README](../README.md) and [lesson 1](01_x.ipynb).", "Some prose.")
    setup = nbformat.v4.new_code_cell("import sys\n\nimport nstlib\nfrom nstlib import env\n\nprint(env.report())")
    setup.id = "setup0"
    setup.metadata["tags"] = ["figure"]
    nb.cells.insert(1, setup)
    return nb


def test_an_edition_translates_the_prose_and_copies_the_code_with_one_line_that_chooses_the_language():
    nb = fake_lesson_with_setup()
    done = catalogue(nb, cell0="# 9강: 가짜\n\n[README](../README.ko.md)와 [1강](01_x.ipynb)을 보세요.", cell1="산문.")
    out = translate.edition(nb, done, "ko")
    assert [c.id for c in out.cells] == [c.id for c in nb.cells]
    assert out.cells[0].source == "# 9강: 가짜\n\n[README](../../README.ko.md)와 [1강](01_x.ipynb)을 보세요.", \
        "links out of notebooks/ go one folder further up; links to sibling lessons stay"
    assert out.cells[2].source == "산문."
    setup = out.cells[1].source.split("\n")
    assert setup[setup.index("import nstlib") + 1].startswith('nstlib.i18n.set_language("ko")')
    assert "\n".join(line for line in setup if "set_language" not in line) == nb.cells[1].source
    assert out.cells[1].metadata == nb.cells[1].metadata
    assert out.cells[3].source == nb.cells[3].source, "every other code cell is the English one, byte for byte"
    assert nb.cells[2].source == "Some prose.", "the English lesson is not touched"


def test_an_edition_leaves_the_comparison_of_english_output_to_the_english_lesson():
    nb = fake_lesson_with_setup()
    checked = nbformat.v4.new_code_cell("describe(x)")
    checked.id = "checked0"
    checked.metadata["tags"] = [translate.CHECKED]
    checked.outputs = [nbformat.v4.new_output("stream", name="stdout", text="64 channels\n")]
    nb.cells.append(checked)
    out = translate.edition(nb, catalogue(nb, cell0="# 9강", cell1="산문."), "ko")
    assert out.cells[-1].source == "describe(x)" and out.cells[-1].outputs == []
    assert translate.CHECKED not in out.cells[-1].metadata.get("tags", [])
    assert nb.cells[-1].outputs and nb.cells[-1].metadata["tags"] == [translate.CHECKED]


def test_an_edition_is_refused_while_a_translation_is_stale():
    nb = fake_lesson_with_setup()
    done = catalogue(nb, cell0="# 9강: 가짜", cell1="산문.")
    nb.cells[2].source = "Changed prose."
    with pytest.raises(SystemExit, match="cell1 changed in English"):
        translate.edition(nb, done, "ko")


def test_a_translated_plan_is_stale_when_the_english_plan_changes(tmp_path, monkeypatch):
    (tmp_path / "docs" / "instructor").mkdir(parents=True)
    (tmp_path / "docs" / "ko" / "instructor").mkdir(parents=True)
    english = tmp_path / "docs" / "instructor" / "01_x.md"
    english.write_text("# Lesson 1: a plan\n", encoding="utf-8")
    korean = tmp_path / "docs" / "ko" / "instructor" / "01_x.md"
    korean.write_text(f"<!-- en_sha256: {translate.digest(english.read_text())} -->\n\n# 1강 수업 계획\n",
                      encoding="utf-8")
    monkeypatch.setattr(translate, "ROOT", tmp_path)
    assert translate.plan_problems("ko") == []
    english.write_text("# Lesson 1: a changed plan\n", encoding="utf-8")
    assert "was not made from the English plan" in translate.plan_problems("ko")[0]
    korean.unlink()
    assert "is missing" in translate.plan_problems("ko")[0]


def test_every_class_plan_has_a_current_korean_translation():
    found = translate.plan_problems("ko")
    assert not found, "\n".join(found)


@pytest.mark.parametrize("path", translate.lessons(), ids=lambda p: p.name)
def test_the_committed_korean_lesson_is_what_its_catalogue_makes(path):
    korean = translate.edition_path("ko", path)
    assert korean.exists() and korean.read_text(encoding="utf-8") == translate.written("ko", path), \
        f"{korean.relative_to(ROOT)} is stale: python tools/translate.py build ko"


@pytest.mark.parametrize("path", translate.lessons(), ids=lambda p: p.name)
def test_a_korean_lesson_opens_itself_in_colab_and_on_the_korean_site(path):
    from nstlib import config

    first = nbformat.read(translate.edition_path("ko", path), as_version=4).cells[0].source
    assert config.colab_badge(path.name, "ko") in first and config.site_link(path.name, "ko") in first
    assert "/notebooks/ko/" in config.colab_url(path.name, "ko") and "/ko/lessons/" in config.site_url(path.name, "ko")
