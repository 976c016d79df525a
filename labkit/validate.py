"""Argument checks: the one place where labkit validates what a caller passed in.

Every public function of labkit checks its arguments with these helpers, so every module
follows one rule and writes its messages the same way:

- the wrong **kind** of value (a string where a number goes, a bool where an int goes, a
  list of strings where an array of numbers goes) raises :class:`TypeError`;
- the right kind with a wrong **value** (out of range, NaN, the wrong shape, empty)
  raises :class:`ValueError`;
- the message names the argument, shows what was given, says what is expected and, where
  there is an obvious fix, how to fix it.

Every check takes the value first, then ``name``, the argument's name as the caller wrote
it (the messages show it), and most take ``hint``: how to fix a wrong value, appended to
the message. Each returns the value, converted (``int``, ``float``, ``numpy.ndarray``).

Conventions: ``bool`` is not accepted as an int or a real number (``True`` as an epoch
count is a bug, not a 1); numpy scalars (``np.int64``, ``np.float32``) are accepted and
returned as Python ``int``/``float``; NaN and ±inf are refused unless a check is told to
allow them; fractions are fractions (0.9), never percentages (90).

Nothing here imports TensorFlow: :func:`check_keras_model` only looks at what is already
imported.

Example
-------
>>> check_int(3, "epochs", low=1)
3
>>> check_fraction(90, "sparsity", interval="[0, 1)")
Traceback (most recent call last):
...
ValueError: sparsity must be a fraction in [0, 1), got 90; for 90 % pass 0.9, not 90
"""

from __future__ import annotations

import numbers
import os
import sys
from collections.abc import Sequence
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


# --------------------------------------------------------------------------------------
# Scalars
# --------------------------------------------------------------------------------------

def check_int(value: Any, name: str, *, low: int | None = None, high: int | None = None,
              hint: str = "") -> int:
    """Return ``value`` as an ``int`` after checking it is an integer in ``[low, high]``.

    Parameters
    ----------
    value : int
        The argument to check; Python or numpy integers. ``bool`` is refused.
    low, high : int, optional
        Inclusive bounds; ``None`` leaves that side open.

    Raises
    ------
    TypeError
        If ``value`` is not an integer (a float such as ``3.0`` and a bool are refused).
    ValueError
        If it is outside ``[low, high]``.

    Example
    -------
    >>> check_int(np.int64(4), "batch_size", low=1)
    4
    >>> check_int(2.0, "epochs")
    Traceback (most recent call last):
    ...
    TypeError: epochs must be an int, got float 2.0; pass 2
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        if isinstance(value, (bool, np.bool_)):
            fix = "a bool is not a count"
        elif isinstance(value, numbers.Real) and float(value).is_integer():
            fix = f"pass {int(value)}"
        else:
            fix = "pass a whole number such as 1"
        raise TypeError(f"{name} must be an int, got {_given(value)}; {fix}")
    number = int(value)
    if (low is not None and number < low) or (high is not None and number > high):
        if low is not None and high is not None:
            expected = f"between {low} and {high}"
        else:
            expected = f">= {low}" if low is not None else f"<= {high}"
        raise ValueError(f"{name} must be {expected}, got {number}{_tail(hint)}")
    return number


def check_real(value: Any, name: str, *, low: float | None = None, high: float | None = None,
               include: str = "both", allow_nan: bool = False, allow_inf: bool = False,
               what: str = "a real number", unit: str = "", hint: str = "") -> float:
    """Return ``value`` as a ``float`` after checking it is a real number within bounds.

    Parameters
    ----------
    value : float
        Python or numpy reals (ints are reals too). ``bool`` is refused.
    low, high : float, optional
        Bounds; ``None`` leaves that side open.
    include : {"both", "low", "high", "neither"}, default "both"
        Which bounds are allowed values: ``"high"`` means ``low < value <= high``.
    allow_nan, allow_inf : bool, default False
        Accept NaN / ±inf (bounds are not applied to them).
    what : str, default "a real number"
        The kind named by the TypeError (e.g. ``"a number of seconds"``).
    unit : str, optional
        Unit written after the bounds in the ValueError (``"s"`` gives ``"<= 10 s"``).

    Raises
    ------
    TypeError
        If ``value`` is not a real number.
    ValueError
        If it is NaN or infinite (unless allowed) or outside the bounds.

    Example
    -------
    >>> check_real(3e-3, "learning_rate", low=0, include="high")
    0.003
    >>> check_real(12.5, "window_s", low=0, high=10, include="high", unit="s")
    Traceback (most recent call last):
    ...
    ValueError: window_s must be > 0 and <= 10 s, got 12.5
    >>> check_real(float("nan"), "x_min")
    Traceback (most recent call last):
    ...
    ValueError: x_min must be finite, got nan; NaN usually comes from an empty or diverged computation
    """
    if include not in _INCLUDE:
        raise ValueError(f"include must be one of {', '.join(map(repr, _INCLUDE))}, "
                         f"got {include!r}")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        fix = ("convert it with float(...)" if isinstance(value, (str, bytes))
               else "pass a plain number")
        raise TypeError(f"{name} must be {what}, got {_given(value)}; {fix}")
    number = float(value)
    if np.isnan(number):
        if allow_nan:
            return number
        raise ValueError(f"{name} must be finite, got nan; NaN usually comes from an empty or "
                         "diverged computation")
    if np.isinf(number):
        if allow_inf:
            return number
        raise ValueError(f"{name} must be finite, got {number}{_tail(hint)}")
    below = low is not None and (number < low or (number == low and include in ("high", "neither")))
    above = high is not None and (number > high or (number == high and include in ("low", "neither")))
    if below or above:
        bounds = _range_text(low, high, include) + (f" {unit}" if unit else "")
        raise ValueError(f"{name} must be {bounds}, got {_shown(value)}{_tail(hint)}")
    return number


def check_fraction(value: Any, name: str, *, interval: str, hint: str = "") -> float:
    """Return ``value`` as a ``float`` after checking it is a fraction in ``interval``.

    A fraction is a number between 0 and 1 (0.9 is 90 %). A value between 1 and 100 is
    taken for a percentage and the message says which fraction to pass instead.

    Parameters
    ----------
    value : float
    interval : {"[0, 1]", "[0, 1)", "(0, 1]", "(0, 1)"}
        Required, so that every caller states whether 0 and 1 are allowed: a sparsity is in
        ``[0, 1)`` (1 would remove every weight), an accuracy in ``[0, 1]``.

    Raises
    ------
    TypeError
        If ``value`` is not a real number (bool refused).
    ValueError
        If it is NaN, infinite or outside ``interval``.

    Example
    -------
    >>> check_fraction(0.25, "dropout", interval="[0, 1)")
    0.25
    >>> check_fraction(1.0, "dropout", interval="[0, 1)")
    Traceback (most recent call last):
    ...
    ValueError: dropout must be a fraction in [0, 1), got 1.0
    >>> check_fraction(95, "confidence", interval="(0, 1)")
    Traceback (most recent call last):
    ...
    ValueError: confidence must be a fraction in (0, 1), got 95; for 95 % pass 0.95, not 95
    """
    if interval not in FRACTION_INTERVALS:
        raise ValueError(f"interval must be one of {', '.join(map(repr, FRACTION_INTERVALS))}, "
                         f"got {interval!r}")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, a fraction in {interval}, got "
                        f"{_given(value)}; pass e.g. 0.5 for 50 %")
    number = float(value)
    low_ok = number >= 0 if interval[0] == "[" else number > 0
    high_ok = number <= 1 if interval[-1] == "]" else number < 1
    if not (np.isfinite(number) and low_ok and high_ok):
        if 1 < number <= 100:
            hint = f"for {number:g} % pass {number / 100:g}, not {_shown(value)}"
        raise ValueError(f"{name} must be a fraction in {interval}, got {_shown(value)}"
                         f"{_tail(hint)}")
    return number


def check_sparsity(sparsity: Any, name: str = "sparsity") -> float:
    """Return ``sparsity`` as a float after checking it is a fraction in [0, 1).

    Sparsity is the fraction of weights that are zero; 1.0 would remove every weight.
    Every function of labkit that takes a sparsity goes through this check; it raises as
    :func:`check_fraction` does.

    Example
    -------
    >>> check_sparsity(0.8)
    0.8
    >>> check_sparsity(80)
    Traceback (most recent call last):
    ...
    ValueError: sparsity must be a fraction in [0, 1), got 80; for 80 % pass 0.8, not 80
    """
    return check_fraction(sparsity, name, interval="[0, 1)",
                          hint="0 keeps every weight, 0.9 removes 90 % of them")


def check_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    """Return ``value`` after checking it is one of the strings ``choices``.

    Raises
    ------
    TypeError
        If ``value`` is not a string.
    ValueError
        If it is not one of ``choices``.

    Example
    -------
    >>> check_choice("int8", "variant", ("float32", "int8"))
    'int8'
    >>> check_choice("int4", "variant", ("float32", "int8"))
    Traceback (most recent call last):
    ...
    ValueError: variant must be one of 'float32', 'int8', got 'int4'
    """
    expected = ", ".join(map(repr, choices))
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {expected} (a string), got {_given(value)}")
    if value not in choices:
        raise ValueError(f"{name} must be one of {expected}, got {value!r}")
    return value


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


# --------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------

def check_keras_model(model: Any, name: str = "model", *, built: bool = False) -> Any:
    """Return ``model`` after checking it is a tf_keras model (built, if ``built``).

    Does not import TensorFlow: a tf_keras model can only exist once ``tf_keras`` has been
    imported, so when it is not in ``sys.modules`` the value cannot be one.

    Raises
    ------
    TypeError
        If ``model`` is not a ``tf_keras.Model`` instance (a Keras 3 model, a class, a path).
    ValueError
        If ``built`` and the model has no weights yet.

    Example
    -------
    >>> check_keras_model("model.keras")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: model must be a tf_keras Model, got str 'model.keras'; load a saved model ...
    """
    keras = sys.modules.get("tf_keras")
    if keras is None or not isinstance(model, keras.Model):
        module = type(model).__module__ or ""
        if isinstance(model, type):
            fix = "pass a model instance, not a class"
        elif isinstance(model, (str, os.PathLike)):
            fix = "load a saved model with tf_keras.models.load_model(path)"
        elif module.split(".")[0] == "keras":
            fix = ("this is a Keras 3 model; labkit (and tfmot) use Keras 2: build it with "
                   "`import tf_keras as keras`")
        else:
            fix = "build one with labkit.models.build_course_cnn or tf_keras"
        raise TypeError(f"{name} must be a tf_keras Model, got {_given(model)}; {fix}")
    if built and not model.built:
        raise ValueError(f"{name} is not built; train it or call {name}.build(input_shape)")
    return model


def check_model_bytes(model_bytes: Any, name: str = "model_bytes") -> bytes:
    """Return the bytes of a ``.tflite`` model after checking its flatbuffer identifier.

    A ``.tflite`` file is a FlatBuffer whose file identifier ``TFL3`` sits at bytes 4-8.
    ``bytearray`` and ``memoryview`` are accepted and returned as ``bytes``.

    Raises
    ------
    TypeError
        If ``model_bytes`` is not bytes-like (a path is refused, with how to read it).
    ValueError
        If it does not carry the ``TFL3`` identifier.

    Example
    -------
    >>> check_model_bytes(b"\\x1c\\x00\\x00\\x00TFL3" + bytes(8))[4:8]
    b'TFL3'
    >>> check_model_bytes(b"PK\\x03\\x04 a zip file")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: model_bytes is not a .tflite flatbuffer (no 'TFL3' identifier at bytes 4-8); ...
    """
    if isinstance(model_bytes, (bytearray, memoryview)):
        model_bytes = bytes(model_bytes)
    if not isinstance(model_bytes, bytes):
        hint = ("; a file path? read it with Path(path).read_bytes()"
                if isinstance(model_bytes, (str, os.PathLike)) else "")
        raise TypeError(f"{name} must be the bytes of a .tflite model, got "
                        f"{type(model_bytes).__name__}{hint}")
    if len(model_bytes) < 8 or model_bytes[4:8] != b"TFL3":
        raise ValueError(f"{name} is not a .tflite flatbuffer (no 'TFL3' identifier at "
                         "bytes 4-8); pass what TFLiteConverter.convert() returned")
    return model_bytes


__all__ = ["FRACTION_INTERVALS", "check_array", "check_choice", "check_fraction", "check_int",
           "check_keras_model", "check_model_bytes", "check_real", "check_sparsity"]


def check_split(split: object) -> tuple[float, float, float]:
    """Validate (train, val, test) fractions: three numbers in (0, 1) that sum to 1.

    Shared by every loader.

    Example
    -------
    >>> check_split([0.7, 0.15, 0.15])
    (0.7, 0.15, 0.15)
    """
    if isinstance(split, str) or not isinstance(split, (Sequence, np.ndarray)) or len(split) != 3:
        raise TypeError(f"split must be 3 fractions (train, val, test), got {split!r}")
    if not all(isinstance(f, numbers.Real) and 0 < f < 1 for f in split):
        raise ValueError(f"each split fraction must be > 0 and < 1, got {tuple(split)}")
    if abs(sum(split) - 1) > 1e-6:
        raise ValueError(f"split fractions must sum to 1, got {tuple(split)} (sum {sum(split):g})")
    return tuple(float(f) for f in split)  # type: ignore[return-value]


def split_counts(n: int, split: tuple[float, float, float]) -> tuple[int, int, int]:
    """How many of ``n`` items go to train, val and test: the one rounding rule of every
    split (train and val rounded to the nearest count, test gets the rest).

    Example
    -------
    >>> split_counts(10, (0.7, 0.15, 0.15))
    (7, 2, 1)
    """
    n, split = check_int(n, "n", low=0), check_split(split)
    n_train, n_val = round(n * split[0]), round(n * split[1])
    return n_train, n_val, n - n_train - n_val
