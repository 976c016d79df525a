"""How the checks' messages show values, ranges and hints."""

from __future__ import annotations

from typing import Any

import numpy as np

FRACTION_INTERVALS = ("[0, 1]", "[0, 1)", "(0, 1]", "(0, 1)")
_INCLUDE = ("both", "low", "high", "neither")
_KIND_NAMES = {"b": "boolean", "i": "integer", "u": "unsigned integer", "f": "float"}
_EMPTY_DTYPES = {"b": np.bool_, "i": np.int64, "u": np.uint64, "f": np.float64}


def _shown(value: Any, limit: int = 60) -> str:
    """A short repr: numpy scalars as plain numbers, long reprs cut."""
    if isinstance(value, np.generic):
        value = value.item()
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _given(value: Any) -> str:
    """What was given, for a TypeError: its type and a short repr (``str '0.5'``)."""
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {value.shape}"
    return f"{type(value).__name__} {_shown(value)}"


def _tail(hint: str) -> str:
    return f"; {hint}" if hint else ""


def _range_text(low: float | None, high: float | None, include: str) -> str:
    """``">= 0"``, ``"> 0 and <= 10"``, ... for the bounds of :func:`check_real`."""
    parts = []
    if low is not None:
        parts.append((">= " if include in ("both", "low") else "> ") + f"{low:g}")
    if high is not None:
        parts.append(("<= " if include in ("both", "high") else "< ") + f"{high:g}")
    return " and ".join(parts)
