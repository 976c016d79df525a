"""Accuracy with its uncertainty, the paired test of two models, and verdicts on claims.

A test set of ``n`` samples measures accuracy only to about ``±1/sqrt(n)``; whether one
model beats another, or a claim such as "int8 loses less than one point" holds, is a
question of statistics. Every accuracy comparison in the notebooks (from notebook 02 on)
and benchmarks goes through this module:

- :func:`accuracy` / :func:`accuracy_from_counts` → :class:`Accuracy`: the fraction correct
  with a Wilson score interval;
- :func:`mcnemar` → :class:`McNemar`: the exact McNemar test of two models on the same
  test samples;
- :func:`compare` → :class:`Comparison`: both accuracies, their paired difference with an
  interval, and the McNemar test;
- :func:`verdict`: ``"holds"``, ``"does not hold"`` or ``"indistinguishable on N test
  samples"`` for a claim about an accuracy or a difference (the rule is in its docstring).

Pure Python and numpy: no scipy, no TensorFlow.

Example
-------
>>> acc = accuracy_from_counts(9_890, 10_000)
>>> acc
Accuracy(98.9 % [98.7, 99.1] on 10,000)
>>> verdict(acc, above=0.98)
'holds'
>>> verdict(acc, above=0.99)
'indistinguishable on 10,000 test samples'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np

from labkit.validate import check_array, check_fraction, check_int, check_real


def _z(confidence: float) -> float:
    """The two-sided normal quantile: 1.96 for 95 %."""
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def _points(fraction: float, digits: int, sign: bool = False) -> str:
    return f"{100 * fraction:{'+' if sign else ''}.{digits}f}"


# --------------------------------------------------------------------------------------
# One model: accuracy and its Wilson interval
# --------------------------------------------------------------------------------------

def wilson_interval(successes: int, n: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``successes / n``.

    ``(p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)`` with ``p = successes / n`` and
    ``z`` the normal quantile of ``confidence`` (1.96 for 95 %). Unlike ``p ± z·sqrt(p(1-p)/n)``
    it stays inside [0, 1] and does not collapse to a point at 0/n or n/n; it is exactly 0
    at 0/n and exactly 1 at n/n.

    Example
    -------
    >>> [round(v, 4) for v in wilson_interval(81, 263)]  # Newcombe (1998), Table I
    [0.2553, 0.3662]
    >>> wilson_interval(0, 20)[0], round(wilson_interval(0, 20)[1], 4)
    (0.0, 0.1611)
    """
    n = check_int(n, "n", low=1, hint="an interval needs at least one trial")
    successes = check_int(successes, "successes", low=0, high=n)
    return _wilson(successes, n, check_fraction(confidence, "confidence", interval="(0, 1)"))


def _wilson(successes: int, n: int, confidence: float) -> tuple[float, float]:
    z = _z(confidence)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


@dataclass(frozen=True)
class Accuracy:
    """``correct`` of ``n`` test samples right, with a ``confidence`` interval [low, high].

    ``str()`` and ``repr()`` show percentages with one decimal; ``format(acc, ".2f")`` with
    two.
    """

    correct: int
    n: int
    low: float
    high: float
    confidence: float = 0.95

    @property
    def value(self) -> float:
        """The accuracy, a fraction in [0, 1]."""
        return self.correct / self.n

    def __format__(self, spec: str) -> str:
        digits = int(spec[1:-1]) if spec.startswith(".") and spec.endswith("f") else 1
        return (f"{_points(self.value, digits)} % [{_points(self.low, digits)}, "
                f"{_points(self.high, digits)}] on {self.n:,}")

    def __str__(self) -> str:
        return format(self)

    def __repr__(self) -> str:
        return f"Accuracy({self})"


def accuracy_from_counts(correct: int, n: int, *, confidence: float = 0.95) -> Accuracy:
    """The :class:`Accuracy` of ``correct`` right answers out of ``n`` test samples.

    Example
    -------
    >>> accuracy_from_counts(20, 20)
    Accuracy(100.0 % [83.9, 100.0] on 20)
    """
    n = check_int(n, "n", low=1, hint="an accuracy needs at least one test sample")
    correct = check_int(correct, "correct", low=0, high=n)
    confidence = check_fraction(confidence, "confidence", interval="(0, 1)")
    return Accuracy(correct, n, *_wilson(correct, n, confidence), confidence)


def is_correct(predictions: Any, labels: Any, *, name: str = "predictions") -> np.ndarray:
    """Boolean vector, True where a prediction equals its label.

    Parameters
    ----------
    predictions : array_like
        Class indices, shape ``(n,)``, or scores (probabilities, logits), shape
        ``(n, classes)``, whose argmax is the predicted class.
    labels : array_like of int, shape ``(n,)``
    name : str
        How ``predictions`` is named in error messages.

    Example
    -------
    >>> is_correct([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]], [0, 0, 0])
    array([ True, False,  True])
    """
    labels = check_array(labels, "labels", ndim=1, kinds="iu",
                         hint="pass the integer class labels, e.g. y_test")
    predictions = check_array(predictions, name, ndim=(1, 2),
                              hint="pass class indices (n,) or scores (n, classes)")
    if len(predictions) != len(labels):
        raise ValueError(f"{name} and labels must have the same length, got {len(predictions)} "
                         f"and {len(labels)}; predict on the whole test set")
    if predictions.ndim == 2:
        return np.argmax(predictions, axis=-1) == labels
    if predictions.dtype.kind not in "iu":
        raise TypeError(f"1-D {name} must be integer class indices, got dtype "
                        f"{predictions.dtype}; pass scores of shape (n, classes) or "
                        f"{name}.astype(int)")
    return predictions == labels


def _outcomes(values: Any, labels: Any, name: str) -> np.ndarray:
    """The correct-vector of ``values``: given as booleans, or from predictions + labels."""
    if labels is not None:
        return is_correct(values, labels, name=name)
    return check_array(values, name, ndim=1, kinds="b",
                       hint=f"without labels, pass booleans (True where the model was right), "
                            f"or pass labels=y_test with the {name}")


def accuracy(predictions: Any, labels: Any = None, *, confidence: float = 0.95) -> Accuracy:
    """The accuracy of a model on a test set, with its Wilson interval.

    Parameters
    ----------
    predictions : array_like
        With ``labels``: class indices ``(n,)`` or scores ``(n, classes)``. Without: a
        boolean vector, True where the model was right.
    labels : array_like of int, shape ``(n,)``, optional
    confidence : float, default 0.95
        Of the interval, a fraction in (0, 1).

    Returns
    -------
    Accuracy

    Raises
    ------
    TypeError
        If an array is not numeric (boolean without ``labels``), or 1-D predictions are
        not integers.
    ValueError
        If the arrays are empty, of different lengths or of the wrong dimensions.

    Example
    -------
    >>> accuracy([2, 1, 0, 1], labels=[2, 1, 1, 1])
    Accuracy(75.0 % [30.1, 95.4] on 4)
    >>> accuracy(np.array([True, True, False]))
    Accuracy(66.7 % [20.8, 93.9] on 3)
    """
    correct = _outcomes(predictions, labels, "predictions")
    return accuracy_from_counts(int(np.count_nonzero(correct)), correct.size,
                                confidence=confidence)


# --------------------------------------------------------------------------------------
# Two models on the same test set: the exact McNemar test
# --------------------------------------------------------------------------------------

_EXACT_LIMIT = 20_000  # exact integer sums up to here (< 50 ms), logarithms beyond


def _binomial_half_cdf(k: int, m: int) -> float:
    """``P(X <= k)`` for ``X ~ Binomial(m, 1/2)`` and ``0 <= k <= m / 2``, without overflow.

    Up to ``m = 20,000`` the sum ``sum(C(m, i) for i <= k) / 2**m`` is done in exact integers
    (Python divides big integers with correct rounding). Beyond, the largest term
    ``C(m, k) / 2**m`` is computed in logarithms (``math.lgamma``) and the smaller ones from
    the ratio ``C(m, i-1) / C(m, i) = i / (m - i + 1) <= 1``, summed until they no longer
    change the total (relative error about 1e-10).
    """
    if m <= _EXACT_LIMIT:
        term, total = 1, 1
        for i in range(k):
            term = term * (m - i) // (i + 1)
            total += term
        return min(1.0, total / 2**m)
    log_top = math.lgamma(m + 1) - math.lgamma(k + 1) - math.lgamma(m - k + 1) - m * math.log(2)
    ratio, total = 1.0, 1.0
    for i in range(k, 0, -1):
        ratio *= i / (m - i + 1)
        total += ratio
        if ratio < 1e-17 * total:
            break
    return min(1.0, math.exp(log_top + math.log(total)))


def mcnemar_p_value(only_a: int, only_b: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts.

    ``only_a`` samples are right for model a only, ``only_b`` for model b only. If the two
    models were equally accurate, each discordant sample would be a fair coin flip:
    ``only_a ~ Binomial(only_a + only_b, 1/2)``. The p-value is
    ``min(1, 2 * P(X <= min(only_a, only_b)))`` (as statsmodels' ``mcnemar(exact=True)``),
    and 1.0 when there is no discordant sample.

    Example
    -------
    >>> mcnemar_p_value(1, 7)  # 2 * (1 + 8) / 2**8; Fagerland et al. (2013) report 0.070
    0.0703125
    """
    only_a = check_int(only_a, "only_a", low=0)
    only_b = check_int(only_b, "only_b", low=0)
    m = only_a + only_b
    if m == 0:
        return 1.0
    return min(1.0, 2 * _binomial_half_cdf(min(only_a, only_b), m))


@dataclass(frozen=True)
class McNemar:
    """The exact McNemar test of models a and b on the same ``n`` test samples.

    ``only_a``: samples model a gets right and b wrong; ``only_b``: the reverse. Samples
    both get right (or both wrong) say nothing about which model is better.
    """

    only_a: int
    only_b: int
    n: int
    p_value: float

    def __repr__(self) -> str:
        return (f"McNemar(p = {self.p_value:.3g}: {self.only_a:,} right only by a, "
                f"{self.only_b:,} only by b, of {self.n:,})")


def _paired_outcomes(a: Any, b: Any, labels: Any) -> tuple[np.ndarray, np.ndarray]:
    correct_a, correct_b = _outcomes(a, labels, "a"), _outcomes(b, labels, "b")
    if correct_a.size != correct_b.size:
        raise ValueError(f"a and b must cover the same test samples, got {correct_a.size} and "
                         f"{correct_b.size}; evaluate both models on the same test set")
    return correct_a, correct_b


def mcnemar(a: Any, b: Any, labels: Any = None) -> McNemar:
    """Exact McNemar test of two models on the same test samples.

    Parameters
    ----------
    a, b : array_like
        Each model's predictions (class indices ``(n,)`` or scores ``(n, classes)``) when
        ``labels`` is given; otherwise boolean vectors, True where that model was right.
    labels : array_like of int, shape ``(n,)``, optional

    Returns
    -------
    McNemar
        The discordant counts and the two-sided p-value (:func:`mcnemar_p_value`).

    Example
    -------
    >>> mcnemar([0, 1, 1, 2, 2], [0, 1, 0, 0, 1], labels=[0, 1, 1, 2, 2])
    McNemar(p = 0.25: 3 right only by a, 0 only by b, of 5)
    """
    correct_a, correct_b = _paired_outcomes(a, b, labels)
    only_a = int(np.count_nonzero(correct_a & ~correct_b))
    only_b = int(np.count_nonzero(~correct_a & correct_b))
    return McNemar(only_a, only_b, correct_a.size, mcnemar_p_value(only_a, only_b))


# --------------------------------------------------------------------------------------
# Comparisons and verdicts
# --------------------------------------------------------------------------------------

def paired_difference_interval(only_a: int, only_b: int, n: int, *,
                               confidence: float = 0.95) -> tuple[float, float]:
    """Interval of ``accuracy(a) - accuracy(b)`` measured on the same ``n`` samples.

    The Agresti-Min interval (Agresti & Min, Statistics in Medicine 24:729, 2005): the
    Wald interval of the paired difference after adding 1/2 to each of the four cells of
    the 2×2 table (so ``n + 2`` pairs), which keeps it sensible when few samples are
    discordant. Clipped to [-1, 1].

    Example
    -------
    >>> [round(v, 4) for v in paired_difference_interval(30, 20, 10_000)]
    [-0.0004, 0.0024]
    """
    n = check_int(n, "n", low=1)
    only_a = check_int(only_a, "only_a", low=0, high=n)
    only_b = check_int(only_b, "only_b", low=0, high=n - only_a)
    z = _z(check_fraction(confidence, "confidence", interval="(0, 1)"))
    pairs = n + 2
    p_a, p_b = (only_a + 0.5) / pairs, (only_b + 0.5) / pairs
    centre = p_a - p_b
    half = z * math.sqrt(max(0.0, p_a + p_b - centre * centre) / pairs)
    return max(-1.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Comparison:
    """Two models on the same test set: accuracies, their difference and the McNemar test.

    ``difference`` is ``a.value - b.value`` (a fraction: 0.01 is one point), ``low`` and
    ``high`` its interval (:func:`paired_difference_interval`).
    """

    a: Accuracy
    b: Accuracy
    test: McNemar
    difference: float
    low: float
    high: float
    names: tuple[str, str] = ("a", "b")

    def __repr__(self) -> str:
        first, second = self.names
        return (f"Comparison({first} − {second}: {_points(self.difference, 1, True)} points "
                f"[{_points(self.low, 1, True)}, {_points(self.high, 1, True)}], McNemar p = "
                f"{self.test.p_value:.3g}; {first} {self.a}, {second} {self.b})")


def compare(a: Any, b: Any, labels: Any = None, *, names: tuple[str, str] = ("a", "b"),
            confidence: float = 0.95) -> Comparison:
    """Compare two models evaluated on the same test samples.

    Parameters
    ----------
    a, b, labels
        As in :func:`mcnemar`: predictions with ``labels``, or boolean correct-vectors.
    names : (str, str), default ("a", "b")
        Shown by the result, e.g. ``("int8", "float32")``.
    confidence : float, default 0.95
        Of the intervals and of :func:`verdict` (a difference is significant when the
        McNemar p-value is below ``1 - confidence``).

    Example
    -------
    >>> a = np.r_[np.ones(960, bool), np.zeros(40, bool)]
    >>> b = np.r_[np.ones(940, bool), np.zeros(60, bool)]
    >>> result = compare(a, b, names=("int8", "float32"))
    >>> result.difference, result.test.p_value < 0.05
    (0.02, True)
    >>> verdict(result, above=0.0)
    'holds'
    """
    if (not isinstance(names, (tuple, list)) or len(names) != 2
            or not all(isinstance(s, str) for s in names)):
        raise TypeError(f"names must be two strings, e.g. ('int8', 'float32'), got {names!r}")
    correct_a, correct_b = _paired_outcomes(a, b, labels)
    test = mcnemar(correct_a, correct_b)
    n = correct_a.size
    low, high = paired_difference_interval(test.only_a, test.only_b, n, confidence=confidence)
    return Comparison(accuracy(correct_a, confidence=confidence),
                      accuracy(correct_b, confidence=confidence), test,
                      (test.only_a - test.only_b) / n, low, high, (names[0], names[1]))


def verdict(result: Accuracy | Comparison, *, above: float) -> str:
    """Whether a measured claim holds: ``"holds"``, ``"does not hold"`` or
    ``"indistinguishable on N test samples"``.

    The claim is "the accuracy is above ``above``" for an :class:`Accuracy`, and
    "``accuracy(a) - accuracy(b)`` is above ``above``" for a :class:`Comparison`
    (``above=0``: a beats b; ``above=-0.01``: a loses less than one point). The rule, at
    the result's confidence (95 % by default):

    - a comparison with ``above=0`` is decided by the exact McNemar test: "holds" if
      ``p < 1 - confidence`` and a is right alone more often than b, "does not hold" if
      ``p < 1 - confidence`` the other way round, else indistinguishable;
    - otherwise by the interval (Wilson for an accuracy, Agresti-Min for a difference):
      "holds" if it lies entirely above ``above``, "does not hold" if entirely below,
      else indistinguishable — the test set is too small to tell.

    Parameters
    ----------
    result : Accuracy or Comparison
    above : float
        A fraction, not a percentage: an accuracy in [0, 1], a difference in (-1, 1).

    Example
    -------
    >>> verdict(accuracy_from_counts(180, 200), above=0.95)
    'does not hold'
    """
    if isinstance(result, Accuracy):
        threshold = check_fraction(above, "above", interval="[0, 1]")
        low, high, n = result.low, result.high, result.n
    elif isinstance(result, Comparison):
        threshold = check_real(above, "above", low=-1, high=1, include="neither",
                               hint="a difference is a fraction: -0.01 is one point")
        if threshold == 0:
            confidence = result.a.confidence
            if result.test.p_value < 1 - confidence:
                return "holds" if result.test.only_a > result.test.only_b else "does not hold"
            return f"indistinguishable on {result.test.n:,} test samples"
        low, high, n = result.low, result.high, result.test.n
    else:
        raise TypeError(f"result must be an Accuracy or a Comparison (from stats.accuracy or "
                        f"stats.compare), got {type(result).__name__}")
    if low > threshold:
        return "holds"
    if high < threshold:
        return "does not hold"
    return f"indistinguishable on {n:,} test samples"


__all__ = ["Accuracy", "Comparison", "McNemar", "accuracy", "accuracy_from_counts", "compare",
           "is_correct", "mcnemar", "mcnemar_p_value", "paired_difference_interval", "verdict",
           "wilson_interval"]
