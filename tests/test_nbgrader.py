"""The course under the real nbgrader: solutions/ is its source, and its scores agree with
``labkit grade``'s on a solved, an unsolved and a partly wrong submission of lab 07.

A course folder is built from ``solutions/07_power_and_energy.ipynb``; ``nbgrader
generate_assignment`` makes the student copy, ``nbgrader autograde`` runs the three
submissions (with ``NBGRADER_EXECUTION`` set, so each check cell reports its score the way
nbgrader reads it: error = 0, a number = partial credit, nothing = full marks), and
``nbgrader export`` writes the totals. The same three files are graded by ``labkit grade``.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from labkit.grading.grader import grade
from labkit.grading.release import GRADE_ID, student_copy
from labkit.grading.sandbox import sandbox_problem

pytest.importorskip("nbgrader")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(sandbox_problem() is not None,
                                 reason=f"no grading sandbox here: {sandbox_problem()}")]

REPO = Path(__file__).resolve().parents[1]
NAME = "07_power_and_energy.ipynb"
NBGRADER = str(Path(sys.executable).parent / "nbgrader")

# the partly wrong submission: right, wrong (0 points), partial (no default), right, unsolved
PARTLY_WRONG = {
    "average_power_mw": "def average_power_mw(active_mw, active_s, sleep_mw, period_s):\n"
                        "    return (active_mw + sleep_mw) / 2",
    "battery_life_hours": "def battery_life_hours(capacity_mah, voltage_v, average_power_mw, "
                          "efficiency):\n"
                          "    return capacity_mah * voltage_v * efficiency / average_power_mw",
}
EXPECTED = {  # exercise -> points of (solved, unsolved, partly wrong)
    "07.energy_per_inference_mj": (1, 0, 1), "07.average_power_mw": (2, 0, 0),
    "07.battery_life_hours": (3, 0, 2), "07.dvfs_power_w": (2, 0, 2), "07.max_rate_hz": (3, 0, 0),
}


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO),  # nbgrader runs `alembic` from PATH
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run([NBGRADER, *args], cwd=course, env=env, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def partly_wrong(released: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """From the solution: two answers replaced by wrong ones, max_rate_hz left unsolved."""
    nb = nbformat.read(REPO / "solutions" / NAME, as_version=4)
    stubs = {c.metadata["nbgrader"]["grade_id"]: c.source for c in released.cells
             if c.metadata.get("nbgrader", {}).get("solution")}
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        name = grade_id.removeprefix("answer-")
        if name in PARTLY_WRONG:
            cell.source = PARTLY_WRONG[name]
        elif name == "max_rate_hz":
            cell.source = stubs[grade_id]
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.course_id = 'edge-ai-lab'\n"
        f"c.CourseDirectory.root = {str(root)!r}\n"
        f"c.CourseDirectory.db_url = 'sqlite:///{root}/gradebook.db'\n"
        "c.ExecutePreprocessor.timeout = 300\n")
    (root / "source" / "lab07").mkdir(parents=True)
    shutil.copy(REPO / "solutions" / NAME, root / "source" / "lab07" / NAME)
    nbgrader(root, "generate_assignment", "lab07", "--create", "--force")
    released = nbformat.read(root / "release" / "lab07" / NAME, as_version=4)
    submissions = {"solved": nbformat.read(REPO / "solutions" / NAME, as_version=4),
                   "unsolved": released, "partly_wrong": partly_wrong(released)}
    for student, nb in submissions.items():
        folder = root / "submitted" / student / "lab07"
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / NAME)
    nbgrader(root, "autograde", "lab07", "--create", "--force")
    nbgrader(root, "export")
    return root, released


def test_solutions_are_a_valid_nbgrader_source_with_the_same_stubs(course):
    _, released = course
    ours = student_copy(nbformat.read(REPO / "solutions" / NAME, as_version=4), NAME)
    theirs = [c.source for c in released.cells if c.metadata.get("nbgrader", {}).get("solution")]
    mine = [c.source for c in ours.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert theirs == mine and len(mine) == 5


def test_every_grade_id_is_valid_for_nbgrader():
    for folder in ("solutions", "notebooks"):
        for path in sorted((REPO / folder).glob("[0-9][0-9]_*.ipynb")):
            nb = nbformat.read(path, as_version=4)
            ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells
                   if "nbgrader" in c.metadata]
            assert ids and all(GRADE_ID.match(i) for i in ids), (path, ids)
            assert len(ids) == len(set(ids)), path


def test_nbgrader_and_labkit_grade_agree(course, tmp_path):
    root, _ = course
    from nbgrader.api import Gradebook

    students = ("solved", "unsolved", "partly_wrong")
    with Gradebook(f"sqlite:///{root}/gradebook.db") as gb:
        nbgrader_scores = {
            student: {re.sub(r"^check-(\d\d)_", r"\1.", cell.name):
                      gb.find_grade(cell.name, NAME[:-6], "lab07", student).score
                      for cell in gb.find_notebook(NAME[:-6], "lab07").grade_cells}
            for student in students}
    files = []
    for student in students:  # the same bytes, named by student for labkit's ids
        files.append(tmp_path / f"{student}.ipynb")
        shutil.copy(root / "submitted" / student / "lab07" / NAME, files[-1])
    subs = grade(files, output=tmp_path / "gb.csv", lab="07", progress=False)
    labkit_scores = {s.student: {r["exercise_id"]: r["score"] for r in s.results} for s in subs}
    expected = {student: {ex: pts[i] for ex, pts in EXPECTED.items()}
                for i, student in enumerate(students)}
    assert labkit_scores == expected
    assert nbgrader_scores == expected

    exported = {r["student_id"]: r for r in csv.DictReader((root / "grades.csv").open())}
    for sub in subs:
        assert float(exported[sub.student]["raw_score"]) == sub.score
        assert float(exported[sub.student]["max_score"]) == sub.max_score == 11
