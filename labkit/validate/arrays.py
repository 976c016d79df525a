"""The check of numeric arrays: kind, dimensions, shape, finiteness, emptiness."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from labkit.validate.text import _EMPTY_DTYPES, _KIND_NAMES, _given, _tail

# --------------------------------------------------------------------------------------
# Arrays
# --------------------------------------------------------------------------------------

def _kinds_text(kinds: str) -> str:
    allowed = set(kinds)
    if allowed == {"b"}:
        return "a boolean array"
    if allowed == {"i", "u"}:
        return "an integer array"
    if allowed >= {"f", "i", "u"}:
        return "a numeric array" + (" (bools allowed)" if "b" in allowed else "")
    return "an array of " + " or ".join(_KIND_NAMES[k] for k in kinds) + " values"


def _dims_text(shape: Sequence[int | str | None]) -> str:
    dims = ", ".join("?" if d is None else str(d) for d in shape)
    return f"({dims},)" if len(shape) == 1 else f"({dims})"


def check_array(value: Any, name: str, *, ndim: int | Sequence[int] | None = None,
                shape: Sequence[int | str | None] | None = None, kinds: str = "fiu",
                allow_empty: bool = False, allow_nonfinite: bool = False,
                hint: str = "") -> np.ndarray:
    """Return ``np.asarray(value)`` after checking its kind, dimensions, size and values.

    Checks, in this order: not None; readable as one array; dtype kind in ``kinds``;
    ``ndim``; ``shape``; not empty; finite.

    Parameters
    ----------
    value : array_like
    ndim : int or sequence of int, optional
        The allowed numbers of dimensions.
    shape : sequence of int, str or None, optional
        The expected shape; an int must match, a str (e.g. ``"n"``) or None matches any
        length and names the axis in the message. Implies ``ndim``.
    kinds : str, default "fiu"
        Allowed numpy dtype kinds: ``"f"`` float, ``"i"`` signed, ``"u"`` unsigned
        integer, ``"b"`` bool. The default accepts numbers but not bools.
    allow_empty : bool, default False
        Accept an array with no elements.
    allow_nonfinite : bool, default False
        Accept NaN and ±inf.

    Returns
    -------
    numpy.ndarray
        The array, not copied or cast (an empty array of another kind, such as ``[]``, is
        cast to the first kind in ``kinds``).

    Raises
    ------
    TypeError
        If ``value`` is None, not readable as one array, or of another dtype kind.
    ValueError
        If its dimensions or shape differ, it is empty, or it holds NaN/inf.

    Example
    -------
    >>> check_array([[1.0, 2.0]], "x", shape=("n", 2)).shape
    (1, 2)
    >>> check_array([1.0, 2.0], "x", ndim=2, hint="reshape it with x.reshape(-1, 1)")
    Traceback (most recent call last):
    ...
    ValueError: x must be a 2-D array, got shape (2,); reshape it with x.reshape(-1, 1)
    >>> check_array(["a", "b"], "x")
    Traceback (most recent call last):
    ...
    TypeError: x must be a numeric array, got dtype <U1 (list ['a', 'b'])
    """
    expected = _kinds_text(kinds)
    if value is None:
        raise TypeError(f"{name} must be {expected}, got None")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be {expected}, got {type(value).__name__} that is not "
                        f"one rectangular array ({exc})") from None
    if arr.size == 0 and arr.dtype.kind not in kinds:
        arr = arr.astype(_EMPTY_DTYPES[kinds[0]])  # np.array([]) is float64 but holds no float
    if arr.dtype.kind not in kinds:
        source = "" if isinstance(value, np.ndarray) else f" ({_given(value)})"
        raise TypeError(f"{name} must be {expected}, got dtype {arr.dtype}{source}{_tail(hint)}")
    if shape is not None:
        ndim = len(shape)
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if allowed is not None and arr.ndim not in allowed:
        dims = " or ".join(f"{d}-D" for d in allowed)
        where = f" of shape {_dims_text(shape)}" if shape is not None else ""
        raise ValueError(f"{name} must be a {dims} array{where}, got shape {arr.shape}"
                         f"{_tail(hint)}")
    if shape is not None and any(isinstance(d, int) and d != s for d, s in zip(shape, arr.shape)):
        raise ValueError(f"{name} must have shape {_dims_text(shape)}, got {arr.shape}"
                         f"{_tail(hint)}")
    if arr.size == 0 and not allow_empty:
        raise ValueError(f"{name} must be non-empty, got shape {arr.shape}; pass at least one "
                         "value")
    if arr.dtype.kind == "f" and not allow_nonfinite:
        bad = ~np.isfinite(arr)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            where = f" at index {first[0] if len(first) == 1 else first}" if first else ""
            raise ValueError(f"{name} contains NaN or inf (first{where}: {arr[bad].flat[0]}); "
                             "pass finite values")
    return arr
