"""Exercises, checks, release and batch grading (see README "For instructors").

``check`` and ``CheckFailed`` are what a notebook uses; an exercise names its reference
(and the labkit functions that compute the same thing) in the registry,
``labkit/exercises/labNN.py``; ``labkit release`` and ``labkit grade`` are the CLI.
"""

from labkit.grading.check import CheckFailed, check
from labkit.grading.compare import Mismatch
from labkit.grading.core import Exercise, Result, Test, TestContext
from labkit.grading.registry import get_exercise, lab_exercises

__all__ = [
    "CheckFailed", "Exercise", "Mismatch", "Result", "Test", "TestContext",
    "check", "get_exercise", "lab_exercises",
]
