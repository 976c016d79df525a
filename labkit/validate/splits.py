"""Train/validation/test split fractions, and the one rounding rule of every split."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from labkit.validate.scalars import check_int


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
