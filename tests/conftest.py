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
