"""Exercises, checks, release and batch grading (see README "For instructors").

``check`` and ``CheckFailed`` are what a notebook uses; ``reference_for`` marks a labkit
function as an exercise's answer; ``labkit release`` and ``labkit grade`` are the CLI.
"""

from labkit.grading.check import CheckFailed, check
from labkit.grading.compare import Mismatch
from labkit.grading.core import Exercise, Result, Test, TestContext, reference_for
from labkit.grading.registry import get_exercise, lab_exercises

__all__ = [
    "CheckFailed", "Exercise", "Mismatch", "Result", "Test", "TestContext",
    "check", "get_exercise", "lab_exercises", "reference_for",
]
