"""Checks of single values: ints, reals, fractions, sparsities, choices."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from labkit.validate.text import _INCLUDE, FRACTION_INTERVALS, _given, _range_text, _shown, _tail

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
