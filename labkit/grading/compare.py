"""Staged comparisons for exercise tests: None → type → shape → dtype → values.

Each ``expect_*`` raises :class:`Mismatch` at the first stage that fails, with a short
message that shows what was expected and what came back (abbreviated for big arrays).

Example
-------
>>> import numpy as np
>>> expect_array(np.array([1.0, 2.0]), np.array([1.0, 2.0]), what="result")
>>> try:
...     expect_array([1, 2], np.array([1.0, 2.0, 3.0]), what="result")
... except Mismatch as m:
...     print(m.stage)
shape
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

_KIND_NAMES = {"i": "a signed integer", "u": "an unsigned integer", "f": "a float",
               "b": "a boolean", "iu": "an integer"}


class Mismatch(Exception):
    """A test found a difference; ``stage`` says which check failed."""

    def __init__(self, stage: str, message: str, hint: str = ""):
        super().__init__(f"[{stage}] {message}")
        self.stage = stage
        self.message = message
        self.hint = hint


def fmt(value: Any, *, limit: int = 8) -> str:
    """Short printable form of a value: arrays abbreviated past ``limit`` items."""
    if isinstance(value, np.ndarray):
        with np.printoptions(threshold=limit, edgeitems=3, precision=4, suppress=True):
            text = np.array2string(value, separator=", ")
        return text if len(text) <= 200 else text[:197] + "..."
    if isinstance(value, np.generic):  # numpy scalars: 76, not np.int64(76)
        value = value.item()
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, tuple) and len(value) <= limit:
        inner = ", ".join(fmt(v, limit=limit) for v in value)
        text = f"({inner},)" if len(value) == 1 else f"({inner})"
    else:
        text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _as_array(got: Any, what: str, require_ndarray: bool) -> np.ndarray:
    if got is None:
        raise Mismatch("type", f"{what} is None; expected an array — did you forget `return`?")
    if require_ndarray and not isinstance(got, np.ndarray):
        raise Mismatch("type", f"{what} has type {type(got).__name__}; expected a numpy array",
                       "Wrap the result with np.asarray(...) or use numpy operations.")
    try:
        arr = np.asarray(got)
    except (ValueError, TypeError) as exc:
        raise Mismatch("type", f"{what} cannot be read as an array ({exc})") from exc
    if arr.dtype == object:
        raise Mismatch("type", f"{what} is not a numeric array (got {type(got).__name__})")
    return arr


def expect_array(got: Any, expected: Any, *, what: str, rtol: float = 1e-6, atol: float = 1e-6,
                 kind: str | None = None, require_ndarray: bool = False, hint: str = "") -> None:
    """Compare an array result with the expected one, stage by stage.

    ``kind`` restricts the dtype: ``"f"`` float, ``"i"`` signed integer, ``"iu"`` any integer.
    """
    expected = np.asarray(expected)
    arr = _as_array(got, what, require_ndarray)
    if arr.shape != expected.shape:
        raise Mismatch("shape", f"{what} has shape {arr.shape}; expected {expected.shape}", hint)
    if kind is not None and arr.dtype.kind not in kind:
        raise Mismatch("dtype", f"{what} has dtype {arr.dtype}; expected {_KIND_NAMES[kind]} "
                       "dtype", hint or "Convert with .astype(...) before returning.")
    if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)) and np.all(np.isfinite(expected)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise Mismatch("values", f"{what} contains {bad} NaN/inf value(s); expected finite "
                       "numbers", hint or "Look for a division by zero.")
    a = arr.astype(np.float64)
    e = expected.astype(np.float64)
    close = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=True)
    if not np.all(close):
        idx = np.unravel_index(int(np.argmin(close)), close.shape) if close.shape else ()
        where = f" at index {tuple(int(i) for i in idx)}" if idx else ""
        n_bad = int(close.size - np.count_nonzero(close))
        raise Mismatch("values", f"{what}{where} is {fmt(arr[idx])}; expected {fmt(expected[idx])} "
                       f"({n_bad} of {close.size} values differ)", hint)


def as_number(got: Any, *, what: str, hint: str = "") -> float:
    """The student's result as a finite float, or :class:`Mismatch` (type, then values)."""
    if got is None:
        raise Mismatch("type", f"{what} is None; expected a number — did you forget `return`?")
    if isinstance(got, np.ndarray) and got.size == 1:
        got = got.item()
    if isinstance(got, bool) or not isinstance(got, numbers.Real):
        raise Mismatch("type", f"{what} has type {type(got).__name__}; expected a number", hint)
    if not np.isfinite(float(got)):
        raise Mismatch("values", f"{what} is {got}; expected a finite number", hint)
    return float(got)


def expect_close(got: Any, expected: float, *, what: str, rtol: float = 1e-6,
                 atol: float = 1e-9, hint: str = "") -> None:
    """Compare a scalar number within tolerances."""
    value = as_number(got, what=what, hint=hint)
    if not np.isclose(value, float(expected), rtol=rtol, atol=atol):
        raise Mismatch("values", f"{what} is {fmt(value)}; expected {fmt(float(expected))}", hint)


def expect_equal(got: Any, expected: Any, *, what: str, hint: str = "") -> None:
    """Exact comparison for ints, strings, None and tuples of them (type first)."""
    if expected is not None and got is None:
        raise Mismatch("type", f"{what} is None; expected {fmt(expected)} — forgot `return`?",
                       hint)
    if isinstance(expected, numbers.Integral) and not isinstance(expected, bool):
        ok_type = isinstance(got, numbers.Integral) and not isinstance(got, bool)
    elif expected is None:
        ok_type = got is None
    else:
        ok_type = isinstance(got, type(expected))
    if not ok_type:
        want = "None" if expected is None else type(expected).__name__
        raise Mismatch("type", f"{what} has type {type(got).__name__} ({fmt(got)}); expected {want}",
                       hint)
    if got != expected:
        raise Mismatch("values", f"{what} is {fmt(got)}; expected {fmt(expected)}", hint)
