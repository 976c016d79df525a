"""Shared test helpers."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest


def unguarded(reference: Callable[..., Any]) -> Callable[..., Any]:
    """labkit's reference as a student function would be if it were the student's own code:
    a different object that holds the reference in a closure (not in a global name), so the
    reference blocking of ``check`` neither recognises nor swaps it."""

    def answer(*args: Any, **kwargs: Any) -> Any:
        return reference(*args, **kwargs)

    return answer


SEEDS = range(50)  # every typical mistake must lose points on every one of them


def assert_caught(exercise_id: str, fn: Callable[..., Any], seeds: Any = SEEDS) -> None:
    """``fn`` (a typical mistake) loses points, with a failure message, on every seed."""
    from labkit.grading.core import run_exercise
    from labkit.grading.registry import get_exercise

    exercise = get_exercise(exercise_id)
    for seed in seeds:
        result = run_exercise(exercise, [fn], seed=seed)
        assert result.score < result.max_score, (exercise_id, seed, result)
        assert result.status == "failed" and result.message, result


def assert_full_marks(exercise_id: str, fn: Callable[..., Any], seeds: Any = SEEDS) -> None:
    """``fn`` (a right answer: the reference ``unguarded``, or another spelling) scores full
    marks on every seed."""
    from labkit.grading.core import run_exercise
    from labkit.grading.registry import get_exercise

    exercise = get_exercise(exercise_id)
    for seed in seeds:
        result = run_exercise(exercise, [fn], seed=seed)
        assert result.score == result.max_score, (exercise_id, seed, result.message)


def assert_stub_not_attempted(exercise_id: str) -> None:
    """The released stub (it raises NotImplementedError) scores 0, "not attempted"."""
    from labkit.grading.core import run_exercise
    from labkit.grading.registry import get_exercise

    def stub(*args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError()

    result = run_exercise(get_exercise(exercise_id), [stub], seed=0)
    assert result.score == 0 and result.status == "not attempted", result


# Test modules that train or convert TensorFlow models, run the grading sandbox or execute
# notebooks: the "slow" tier. `pytest -m "not slow"` (make test-fast) runs the rest, the
# numpy-only tests and small TensorFlow ones: 3,046 tests in 2.6 minutes here.
HEAVY_MODULES = {
    "test_bench", "test_convert", "test_doctor", "test_exercises_lab02", "test_fitting",
    "test_grader", "test_hardware", "test_notebooks_graded", "test_power", "test_pruning",
    "test_quantization", "test_runtime",
}


@pytest.fixture(scope="session")
def warm_zoo():
    """Every model the notebooks share through ``labkit.zoo`` (notebook 05's sweep, which
    holds the course CNN and the signal CNN of notebooks 02-04), built once before the first
    timed notebook run. The 2-minute budgets are for a warm cache, as students have it after
    their first run; the cold times are measured by benchmarks/notebooks.py (README)."""
    code = "from labkit import tradeoffs; tradeoffs.warm_cache()"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=1200)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.stem in HEAVY_MODULES and item.path.parent.name == "tests":
            item.add_marker(pytest.mark.slow)
