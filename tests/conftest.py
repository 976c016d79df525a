"""Shared test helpers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def unguarded(reference: Callable[..., Any]) -> Callable[..., Any]:
    """labkit's reference as a student function would be if it were the student's own code:
    a different object that holds the reference in a closure (not in a global name), so the
    reference blocking of ``check`` neither recognises nor swaps it."""

    def answer(*args: Any, **kwargs: Any) -> Any:
        return reference(*args, **kwargs)

    return answer


# Test modules that train or convert TensorFlow models, run the grading sandbox or execute
# notebooks: the "slow" tier. `pytest -m "not slow"` (make test-fast) runs the rest, the
# numpy-only tests, in about a minute.
HEAVY_MODULES = {
    "test_bench", "test_convert", "test_doctor", "test_exercises_lab02", "test_fitting",
    "test_grader", "test_hardware", "test_notebooks_graded", "test_power", "test_pruning",
    "test_quantization", "test_runtime",
}


def pytest_collection_modifyitems(config, items):
    import pytest

    for item in items:
        if item.path.stem in HEAVY_MODULES and item.path.parent.name == "tests":
            item.add_marker(pytest.mark.slow)
