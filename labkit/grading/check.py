"""``check()`` for notebook check cells, and ``grade_namespace()`` for the batch grader.

Example
-------
>>> def model_size_bytes(num_params, bits_per_weight):
...     return num_params * bits_per_weight // 8
>>> check("00.model_size_bytes", model_size_bytes, seed=1)
✓ 00.model_size_bytes — 3/3 points
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from labkit.grading.core import Result, run_exercise
from labkit.grading.registry import get_exercise, lab_exercises


class CheckFailed(Exception):
    """A check did not pass. In Jupyter it shows as two short lines, not a traceback."""

    def __init__(self, result: Result):
        self.result = result
        super().__init__(self._text())

    def _text(self) -> str:
        r = self.result
        lines = [r.line()]
        tail = f"(seed {r.seed}: check(..., seed={r.seed}) replays this test)"
        lines.append(f"  Hint: {r.hint} {tail}" if r.hint else f"  {tail}")
        return "\n".join(lines)

    def _render_traceback_(self) -> list[str]:  # IPython shows this instead of a traceback
        return self._text().splitlines()


def check(exercise_id: str, *objects: Any, seed: int | None = None) -> None:
    """Run the public tests of ``exercise_id`` on the student's function.

    Prints ``✓ id — n/n points`` when every test passes, prints a "not attempted" line
    for an unfinished stub, and raises :class:`CheckFailed` (two short lines: what
    differs, and a hint) otherwise. Inputs are random each run; the seed is shown so a
    failure can be replayed with ``seed=``.

    Parameters
    ----------
    exercise_id : str
        ``"NN.name"``, as written in the check cell.
    *objects
        The function(s) the exercise asks for.
    seed : int, optional
        Replays the exact inputs of an earlier run.
    """
    exercise = get_exercise(exercise_id)
    if seed is None:
        seed = secrets.randbelow(2**31)
    result = run_exercise(exercise, objects, seed=seed)
    if result.status == "failed":
        raise CheckFailed(result) from None
    print(result.line())


def grade_namespace(lab: str, namespace: dict[str, Any], *, seed: int) -> list[dict[str, Any]]:
    """Grade every exercise of ``lab`` against the names defined in ``namespace``.

    Used by ``labkit grade`` inside the submission's kernel after it ran, so edited,
    deleted or reordered check cells change nothing.
    """
    results = []
    for exercise in lab_exercises(lab):
        if exercise.name not in namespace:
            result = Result(exercise.id, 0, exercise.points, "missing", stage="callable",
                            message=f"function `{exercise.name}` not found in the notebook",
                            hint=f"Keep the cell that defines `{exercise.name}` and run it.")
        else:
            result = run_exercise(exercise, [namespace[exercise.name]], seed=seed)
        results.append(result.to_dict())
    return results


def emit_grades(lab: str, namespace: dict[str, Any], *, seed: int, marker: str) -> None:
    """Print the grades as one JSON line behind ``marker`` (read by the grader)."""
    print(marker + json.dumps(grade_namespace(lab, namespace, seed=seed)), flush=True)
