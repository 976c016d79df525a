"""Both directions, on the real notebooks: solutions score full marks, student copies zero.

The grader runs only the answers (in its sandbox), not the notebooks: that the notebooks
run top to bottom without an error is checked where they are executed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from labkit.grading.grader import grade
from labkit.grading.registry import lab_exercises

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p.name for p in (REPO / "solutions").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    out = tmp_path_factory.mktemp("gradebooks")
    runs: dict[str, dict] = {"solutions": {}, "notebooks": {}}
    for folder in runs:
        for name in NOTEBOOKS:
            subs = grade([REPO / folder / name], output=out / f"{folder}-{name}.csv",
                         lab=name[:2], timeout_s=600, progress=False)
            runs[folder][name] = subs[0]
    return runs


def test_every_lab_with_a_notebook_has_exercises():
    for name in NOTEBOOKS:
        assert lab_exercises(name[:2]), f"{name}: no exercises registered in labkit/exercises"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_solution_scores_full_marks(graded, name):
    sub = graded["solutions"][name]
    assert sub.status == "ok", sub.message
    assert sub.message == "", f"the answers' cells failed: {sub.message}"
    assert sub.max_score > 0 and sub.score == sub.max_score, sub.results


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_released_notebook_scores_zero(graded, name):
    sub = graded["notebooks"][name]
    assert sub.status == "ok", sub.message
    assert sub.message == "", f"the stubs' cells failed in the student copy: {sub.message}"
    assert sub.max_score > 0 and sub.score == 0
    assert all(r["status"] == "not attempted" for r in sub.results), sub.results
