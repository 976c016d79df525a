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

from labkit.validate.arrays import check_array
from labkit.validate.models import check_keras_model, check_model_bytes
from labkit.validate.scalars import (
    check_choice,
    check_fraction,
    check_int,
    check_real,
    check_sparsity,
)
from labkit.validate.splits import check_split, split_counts
from labkit.validate.text import FRACTION_INTERVALS

__all__ = [
    "FRACTION_INTERVALS",
    "check_array",
    "check_choice",
    "check_fraction",
    "check_int",
    "check_keras_model",
    "check_model_bytes",
    "check_real",
    "check_sparsity",
    "check_split",
    "split_counts",
]
