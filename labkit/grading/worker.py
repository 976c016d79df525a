"""The judge for one submission: ``python -m labkit.grading.worker PATH --seed S ...``.

Run by ``labkit grade`` as one process per submission, so a crash or a hang never takes
the grader down. It never executes the student's code itself:

1. it reads the notebook as text and keeps only the statements that define the lab's
   answers and what they depend on (:mod:`labkit.grading.program`);
2. it starts a sandbox (:mod:`labkit.grading.sandbox`) that runs those statements with a
   copy of labkit in which the lab's references are stubs;
3. it runs every registered test of the lab here, calling the student's functions in the
   sandbox with plain data, and computes the scores from its own comparisons.

It prints one JSON object on the last line of standard output. The submission file is
only ever read.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from labkit.grading.core import Exercise, Result, run_exercise
from labkit.grading.names import CHECK_CALL, NOTEBOOK_NAME
from labkit.grading.program import answer_program, resemblance
from labkit.grading.registry import lab_exercises
from labkit.grading.sandbox import Sandbox, SandboxError

SIMILAR = 0.9  # flag an answer this close to labkit's reference (normalised AST)


class Notebook(dict):
    """A notebook read as plain JSON (attribute access like nbformat's NotebookNode).

    The judge reads submissions with :func:`json.loads` rather than nbformat, whose import
    alone takes seconds (its JSON-schema validator), once per submission.
    """

    __getattr__ = dict.get


def _node(value: Any) -> Any:
    if isinstance(value, dict):
        return Notebook({k: _node(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_node(v) for v in value]
    return value


def notebook_lab(nb: Any, path: Path) -> str | None:
    """Which lab a notebook belongs to: release metadata, else file name, else check cells."""
    lab = nb.metadata.get("labkit", {}).get("lab")
    if isinstance(lab, str) and re.fullmatch(r"\d\d", lab):
        return lab
    match = NOTEBOOK_NAME.match(path.name)
    if match:
        return match.group(1)
    found = {ex_id[:2] for cell in nb.cells if cell.cell_type == "code"
             for ex_id in CHECK_CALL.findall(cell.source)}
    return found.pop() if len(found) == 1 else None


def _row(status: str, lab: str | None, message: str = "", **extra: Any) -> dict[str, Any]:
    return {"status": status, "lab": lab, "message": message, "results": [], **extra}


def read_submission(path: Path) -> Notebook:
    """Parse a notebook file (format 4; older ones through nbformat's converter);
    ``ValueError`` says why it is not one. Cell sources are joined into strings."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read the file ({exc})") from exc
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not a Jupyter notebook ({type(exc).__name__})") from exc
    if isinstance(raw, dict) and isinstance(raw.get("nbformat"), int) and raw["nbformat"] < 4:
        import nbformat  # slow to import: only for notebooks older than format 4

        try:
            raw = json.loads(nbformat.writes(nbformat.reads(text, as_version=4)))
        except Exception as exc:  # nbformat raises several kinds for broken notebooks
            raise ValueError(f"not a Jupyter notebook ({type(exc).__name__})") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise ValueError("not a Jupyter notebook (no cells)")
    if not isinstance(raw.get("metadata", {}), dict):
        raise ValueError("not a Jupyter notebook (bad metadata)")
    cells = []
    for cell in raw["cells"]:
        if not isinstance(cell, dict):
            raise ValueError("not a Jupyter notebook (a cell is not an object)")
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(str(part) for part in source)
        cells.append({**cell, "cell_type": str(cell.get("cell_type", "")), "source": str(source)})
    return _node({**raw, "metadata": raw.get("metadata", {}), "cells": cells})


def _missing(exercise: Exercise, status: str) -> Result:
    if status == "missing":
        return Result(exercise.id, 0, exercise.points, "missing", stage="callable",
                      message=f"function `{exercise.name}` not found in the notebook",
                      hint=f"Keep the cell that defines `{exercise.name}`.")
    kind = status.split(":", 1)[-1].strip()
    return Result(exercise.id, 0, exercise.points, "failed", stage="callable",
                  message=f"`{exercise.name}` should be a function, got {kind}",
                  hint=f"Define it with `def {exercise.name}(...):`.")


def _flags(program: list[Any], exercises: tuple[Exercise, ...]) -> list[str]:
    flags = []
    for exercise in exercises:
        score = resemblance(program, exercise.name, exercise.reference)
        if score >= SIMILAR:
            flags.append(f"{exercise.id}: {score:.0%} like labkit's reference")
    return flags


def judge(path: Path, lab: str | None, seed: int, *, isolate: bool = True,
          setup_timeout_s: float = 300.0) -> dict[str, Any]:
    """Grade one submission (see the module docstring); returns a status row."""
    start = time.monotonic()
    try:
        nb = read_submission(path)
    except ValueError as exc:
        return _row("not a notebook", lab, str(exc))
    found = notebook_lab(nb, path)
    lab = lab or found
    if lab is None:
        return _row("wrong notebook", None, "cannot tell which lab this notebook is; pass --lab")
    exercises = lab_exercises(lab)
    if not exercises:
        return _row("wrong notebook", lab, f"lab {lab} has no graded exercises")
    notes = [f"the notebook says lab {found}; graded as lab {lab}"] if found and found != lab else []
    cells = [c.source if c.cell_type == "code" else "" for c in nb.cells]
    program = answer_program(cells, [e.name for e in exercises])
    blocked = [fn for e in exercises for fn in e.blocked]
    with tempfile.TemporaryDirectory(prefix="labkit-judge-") as work, \
            Sandbox([(s.cell, s.source) for s in program], [e.name for e in exercises],
                    blocked=blocked, workdir=Path(work), isolate=isolate,
                    setup_timeout_s=setup_timeout_s) as box:
        try:
            ready = box.start()
        except TimeoutError:
            return _row("timeout", lab, f"defining the answers took longer than "
                        f"{setup_timeout_s:g} s", seconds=round(time.monotonic() - start, 1))
        except SandboxError as exc:
            return _row("error", lab, str(exc), seconds=round(time.monotonic() - start, 1))
        notes += ready["notes"]
        results = []
        for exercise in exercises:
            status = box.ready["names"].get(exercise.name, "missing")
            result = (run_exercise(exercise, [], seed=seed, sandbox=box) if status == "callable"
                      else _missing(exercise, status))
            results.append(result.to_dict())
    return _row("ok", lab, "; ".join(notes), results=results, flags=_flags(program, exercises),
                seconds=round(time.monotonic() - start, 1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labkit.grading.worker")
    parser.add_argument("path", type=Path)
    parser.add_argument("--lab")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--setup-timeout", type=float, default=300.0)
    parser.add_argument("--no-sandbox", action="store_true")
    args = parser.parse_args(argv)
    row = judge(args.path, args.lab, args.seed, isolate=not args.no_sandbox,
                setup_timeout_s=args.setup_timeout)
    sys.stdout.write("\n" + json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
