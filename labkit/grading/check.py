"""``check()`` for notebook check cells: instant feedback for the student.

It runs the exercise's public tests on the student's function in the notebook's own
kernel, so it informs the student and nothing more: the batch grader does not read its
output (it judges the answers again, in a sandbox). A failure is shown prominently, in
two red lines, and does not raise, so "Run All" carries on to the end.

Under nbgrader (``NBGRADER_EXECUTION`` set, as ``nbgrader autograde`` does) a check cell
reports its score the way nbgrader reads a grade cell: full marks print the ✓ line (no
error: full credit); a score of zero — wrong or not attempted — raises
:class:`CheckFailed` (an error: no credit); a partial score shows the two lines and
*returns* the points earned, which the cell displays as its result (a number: partial
credit). What the student's code writes to stderr during the check is kept out of the
cell, since nbgrader would read it as a failure.

Example
-------
>>> def model_size_bytes(num_params, bits_per_weight):
...     return (num_params * bits_per_weight + 7) // 8
>>> check("00.model_size_bytes", model_size_bytes, seed=1)
✓ 00.model_size_bytes — 3/3 points
"""

from __future__ import annotations

import contextlib
import html
import io
import os
import secrets
import warnings
from typing import Any

from labkit.grading.core import Result, run_exercise
from labkit.grading.registry import get_exercise


class CheckFailed(Exception):
    """A check did not pass (raised under nbgrader only). Shown as two short lines."""

    def __init__(self, result: Result):
        self.result = result
        super().__init__(failure_text(result))

    def _render_traceback_(self) -> list[str]:  # IPython shows this instead of a traceback
        return failure_text(self.result).splitlines()


def failure_text(result: Result) -> str:
    """The two lines of a failed check: what differs, then the hint and the replay seed."""
    tail = f"(seed {result.seed}: check(..., seed={result.seed}) replays this test)"
    hint = f"  Hint: {result.hint} {tail}" if result.hint else f"  {tail}"
    return f"{result.line()}\n{hint}"


def _show_failure(result: Result) -> None:
    text = failure_text(result)
    try:
        from IPython import get_ipython
        from IPython.display import display

        if get_ipython() is not None:
            lines = "<br>".join(html.escape(line) for line in text.splitlines())
            display({"text/plain": text,
                     "text/html": '<div style="color:#b00020;font-weight:600;white-space:'
                                  f'pre-wrap;font-family:monospace">{lines}</div>'}, raw=True)
            return
    except ImportError:  # plain Python: print it
        pass
    print(text)


def check(exercise_id: str, *objects: Any, seed: int | None = None) -> int | None:
    """Run the public tests of ``exercise_id`` on the student's function.

    Prints ``✓ id — n/n points`` when every test passes, a "not attempted" line for an
    unfinished stub, and otherwise two red lines (what differs, and a hint). It never
    raises outside nbgrader, and returns None. Inputs are random each run; the seed is
    shown so a failure can be replayed with ``seed=``. Under nbgrader see the module
    docstring: it raises for zero points and returns the points of a partial score.

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
    if not os.environ.get("NBGRADER_EXECUTION"):
        result = run_exercise(exercise, objects, seed=seed)
        if result.status == "failed":
            _show_failure(result)
        else:
            print(result.line())
        return None
    with contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_exercise(exercise, objects, seed=seed)
    if result.score == 0:
        raise CheckFailed(result) from None
    if result.score < result.max_score:
        _show_failure(result)
        return result.score
    print(result.line())
    return None
