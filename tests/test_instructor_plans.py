"""The instructors' class plans (docs/instructor/): one per lesson, citing cells that exist, with a timeline
that adds up and fits a 50-minute class (format: docs/instructor/README.md; checker: tools/plan_checks.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import plan_checks  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
PLANS = ROOT / "docs" / "instructor"
IDS = ["43ee1b5a", "b9f1e30a", "ddf49d7c", "1923539a"]

PLAN = """# Lesson 0: class plan

## Prerequisites
A laptop with `make lab` done.

## Timeline

| min | section | run live | show pre-run |
|---|---|---|---|
| 5 | Setup | cell:43ee1b5a | |
| 20 | 1. Which weights? | cell:b9f1e30a | cell:ddf49d7c |
| 15 | 4. What does VGG16 think? | | cell:1923539a |

Total: 40 minutes

## Optional
Section 2.

## Discussion questions
- Why 224 px?

## Misconceptions
- "The network sees colours as we do."

## When the pictures differ
The offline pack has no classifier: section 4 prints "Skipping".
"""


def test_a_good_plan_passes():
    assert plan_checks.plan_problems(PLAN, IDS) == []
    assert plan_checks.cited_cells(PLAN) == ["43ee1b5a", "b9f1e30a", "ddf49d7c", "1923539a"]


def test_a_cell_that_is_gone_is_named():
    assert plan_checks.plan_problems(PLAN, IDS[:-1]) == [
        "cites cell:1923539a, which is not a cell of the notebook"]


def test_the_minutes_must_add_up_to_the_total():
    found = plan_checks.plan_problems(PLAN.replace("Total: 40", "Total: 45"), IDS)
    assert found == ["the min column sums to 40, but the plan says 'Total: 45 minutes'"]
    assert "needs exactly one line" in plan_checks.plan_problems(PLAN.replace("Total: 40 minutes", ""), IDS)[0]


def test_the_timeline_fits_a_class():
    long = PLAN.replace("| 15 | 4.", "| 30 | 4.").replace("Total: 40", "Total: 55")
    assert plan_checks.plan_problems(long, IDS) == ["the timeline takes 55 minutes, more than a 50-minute class"]


def test_every_section_and_the_columns_are_required():
    found = plan_checks.plan_problems(PLAN.replace("## Misconceptions", "## Pitfalls"), IDS)
    assert found == ["no '## Misconceptions' section"]
    found = plan_checks.plan_problems(PLAN.replace("| show pre-run |", "| later |"), IDS)
    assert len(found) == 1 and "columns" in found[0]
    assert "whole number" in plan_checks.plan_problems(PLAN.replace("| 5 |", "| 5-10 |"), IDS)[0]


def plan_for(notebook: Path) -> Path:
    return PLANS / f"{notebook.stem}.md"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_every_lesson_has_a_plan_that_matches_its_notebook(notebook):
    plan = plan_for(notebook)
    assert plan.exists(), f"no class plan for {notebook.name}: write {plan.relative_to(ROOT)} " \
                          "(format: docs/instructor/README.md)"
    ids = [cell.id for cell in nbformat.read(notebook, as_version=4).cells]
    found = plan_checks.plan_problems(plan.read_text(), ids)
    assert not found, f"{plan.relative_to(ROOT)}:\n  " + "\n  ".join(found)


KOREAN_PLANS = ROOT / "docs" / "ko" / "instructor"


def test_a_korean_plan_is_checked_in_its_own_words():
    korean = (PLAN.replace("## Timeline", "## 시간표").replace("## Prerequisites", "## 선수 지식")
              .replace("## Optional", "## 선택 활동").replace("## Discussion questions", "## 토론 질문")
              .replace("## Misconceptions", "## 흔한 오해").replace("## When the pictures differ", "## 그림이 다를 때")
              .replace("| min | section | run live | show pre-run |", "| 분 | 절 | 실습 실행 | 미리 실행해 보여 주기 |")
              .replace("Total: 40 minutes", "합계: 40분"))
    assert plan_checks.plan_problems(korean, IDS, "ko") == []
    assert plan_checks.plan_problems(korean.replace("합계: 40분", "합계: 45분"), IDS, "ko") == [
        "the min column sums to 40, but the plan says '합계: 45분'"]
    renamed = korean.replace("## 흔한 오해", "## 함정")
    assert "no '## 흔한 오해' section" in plan_checks.plan_problems(renamed, IDS, "ko")
    assert plan_checks.plan_problems(PLAN, IDS, "ko"), "an English plan is not a Korean one"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_every_korean_plan_matches_its_korean_lesson(notebook):
    plan = KOREAN_PLANS / f"{notebook.stem}.md"
    korean = notebook.parent / "ko" / notebook.name
    assert plan.exists(), f"no Korean class plan for {notebook.name}: translate {plan_for(notebook).relative_to(ROOT)}"
    ids = [cell.id for cell in nbformat.read(korean, as_version=4).cells]
    found = plan_checks.plan_problems(plan.read_text(encoding="utf-8"), ids, "ko")
    assert not found, f"{plan.relative_to(ROOT)}:\n  " + "\n  ".join(found)
