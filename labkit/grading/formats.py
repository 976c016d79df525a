"""Gradebook layouts: ``wide`` (the default), ``long`` and ``lms``.

- ``wide``: one row per submission — student, file, lab, one column per exercise, total,
  max, percent, status, message, flags, seed, sha256 (:func:`~labkit.grading.grader.gradebook_csv`).
- ``long``: one row per submission × exercise — student, file, lab, exercise, score,
  max_score, status (passed / failed / not attempted / missing, or the submission's status
  when it was not graded), stage, message, hint, seed, sha256. For pivot tables and pandas.
- ``lms``: what a learning-management system imports: the columns of a Canvas gradebook
  export — ``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``, ``Section`` — then one
  column ``Lab NN`` with the points; a first row ``Points Possible`` holds the maximum.
  labkit's student id fills ``Student`` and ``SIS Login ID`` (Canvas matches students on
  it; in Moodle's CSV grade import map ``SIS Login ID`` to the username and ``Lab NN`` to
  the grade item); ``ID``, ``SIS User ID`` and ``Section`` are left empty.

Every text cell is made spreadsheet-safe (no formulas).

Example
-------
>>> from pathlib import Path
>>> from labkit.grading.grader import Submission
>>> sub = Submission(Path("alice.ipynb"), "alice", status="ok", lab="00", results=[
...     {"exercise_id": "00.model_size_bytes", "score": 1, "max_score": 3,
...      "status": "failed", "stage": "values", "message": "m", "hint": "h"}])
>>> print(render([sub], "lms"), end="")
Student,ID,SIS User ID,SIS Login ID,Section,Lab 00
Points Possible,,,,,3
alice,,,alice,,1
"""

from __future__ import annotations

import csv
import io
from typing import Any

from labkit.grading.registry import lab_exercises

FORMATS = ("wide", "long", "lms")


def _csv(rows: list[list[Any]]) -> str:
    from labkit.grading.grader import spreadsheet_safe

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow([spreadsheet_safe(v) for v in row])
    return buffer.getvalue()


def long_csv(subs: list[Any]) -> str:
    """One row per submission and exercise of its lab."""
    rows: list[list[Any]] = [["student", "file", "lab", "exercise", "score", "max_score",
                              "status", "stage", "message", "hint", "seed", "sha256"]]
    for s in subs:
        results = {r["exercise_id"]: r for r in s.results}
        for exercise in lab_exercises(s.lab) if s.lab else ():
            r = results.get(exercise.id)
            seed = "" if s.seed is None else s.seed
            if r is None:  # not graded at all: the submission's status says why
                rows.append([s.student, str(s.path), s.lab, exercise.id, 0, exercise.points,
                             s.status, "", s.message, "", seed, s.sha256])
            else:
                rows.append([s.student, str(s.path), s.lab, exercise.id, r["score"],
                             r["max_score"], r["status"], r.get("stage", ""),
                             r.get("message", ""), r.get("hint", ""), seed, s.sha256])
    return _csv(rows)


def lms_csv(subs: list[Any]) -> str:
    """Canvas-style gradebook import: one row per student, one column per lab (points)."""
    labs = sorted({s.lab for s in subs if s.lab})
    maxima = {lab: sum(e.points for e in lab_exercises(lab)) for lab in labs}
    rows: list[list[Any]] = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                              *(f"Lab {lab}" for lab in labs)],
                             ["Points Possible", "", "", "", "", *(maxima[lab] for lab in labs)]]
    best: dict[str, dict[str, int]] = {}
    for s in subs:  # a student who handed in twice gets the better one
        if s.lab:
            scores = best.setdefault(s.student, {})
            scores[s.lab] = max(scores.get(s.lab, 0), s.score)
    for student in sorted(best):
        rows.append([student, "", "", student, "",
                     *(best[student].get(lab, "") for lab in labs)])
    return _csv(rows)


def render(subs: list[Any], fmt: str) -> str:
    """The gradebook of ``subs`` as CSV text in layout ``fmt`` (one of :data:`FORMATS`)."""
    from labkit.grading.grader import gradebook_csv

    if fmt == "wide":
        return gradebook_csv(subs)
    if fmt == "long":
        return long_csv(subs)
    if fmt == "lms":
        return lms_csv(subs)
    raise ValueError(f"fmt must be one of {', '.join(FORMATS)}; got {fmt!r}")
