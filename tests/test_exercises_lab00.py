"""Exercise 00.model_size_bytes: the reference scores full marks, typical mistakes lose points."""

from __future__ import annotations

import math

import pytest
from conftest import unguarded

from labkit.grading import get_exercise
from labkit.grading.core import run_exercise

EXERCISE = get_exercise("00.model_size_bytes")

MISTAKES = {
    "floor division drops the partial byte": lambda n, b: n * b // 8,
    "true division returns a float": lambda n, b: n * b / 8,
    "rounds to nearest instead of up": lambda n, b: round(n * b / 8),
    "returns bits, not bytes": lambda n, b: n * b,
    "rounds up per weight (padding each weight)": lambda n, b: n * math.ceil(b / 8),
}


SEEDS = range(50)  # every typical mistake must lose points on every one of them


@pytest.mark.parametrize("seed", SEEDS)
def test_reference_scores_full_marks(seed):
    result = run_exercise(EXERCISE, [unguarded(EXERCISE.reference)], seed=seed)  # unblocked
    assert result.score == EXERCISE.points, result


@pytest.mark.parametrize("mistake", MISTAKES)
@pytest.mark.parametrize("seed", SEEDS)
def test_typical_mistakes_lose_points(mistake, seed):
    result = run_exercise(EXERCISE, [MISTAKES[mistake]], seed=seed)
    assert result.score < EXERCISE.points, mistake
    assert result.message and result.status == "failed"
