"""Where exercises are found: lab ``NN``'s exercises live in ``labkit/exercises/labNN.py``.

Each such module defines ``EXERCISES``, a tuple of :class:`~labkit.grading.core.Exercise`.
Modules are imported on first use, so ``import labkit`` stays fast.

Example
-------
>>> get_exercise("00.model_size_bytes").points
3
>>> [e.id for e in lab_exercises("00")]
['00.model_size_bytes']
"""

from __future__ import annotations

import importlib
import re

from labkit.grading.core import Exercise

_ID = re.compile(r"^(\d\d)\.([A-Za-z_][A-Za-z0-9_]*)$")


def _lab_of(exercise_id: str) -> str:
    if not isinstance(exercise_id, str) or not _ID.match(exercise_id):
        raise ValueError(
            f"exercise id {exercise_id!r} is not of the form 'NN.name' (two digits, a dot, "
            "a Python name), e.g. '02.quantize'"
        )
    return exercise_id[:2]


def lab_exercises(lab: str) -> tuple[Exercise, ...]:
    """All exercises of lab ``lab`` (``"00"`` … ``"09"``), in notebook order."""
    if not re.fullmatch(r"\d\d", str(lab)):
        raise ValueError(f"lab {lab!r} should be two digits, e.g. '02'")
    try:
        module = importlib.import_module(f"labkit.exercises.lab{lab}")
    except ModuleNotFoundError as exc:
        if exc.name != f"labkit.exercises.lab{lab}":
            raise
        return ()
    return tuple(module.EXERCISES)


def get_exercise(exercise_id: str) -> Exercise:
    """The registered exercise with this id; ``KeyError`` lists the lab's ids if unknown."""
    lab = _lab_of(exercise_id)
    exercises = lab_exercises(lab)
    for exercise in exercises:
        if exercise.id == exercise_id:
            return exercise
    known = ", ".join(e.id for e in exercises) or "none"
    raise KeyError(f"no exercise {exercise_id!r}; lab {lab} has: {known}")
