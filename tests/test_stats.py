"""labkit.stats against published values, exact fractions and scipy (when installed)."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from math import comb

import numpy as np
import pytest

from labkit import stats

# --------------------------------------------------------------------------------------
# Wilson interval
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("successes, n, low, high", [
    # Newcombe, "Two-sided confidence intervals for the single proportion: comparison of
    # seven methods", Statistics in Medicine 17:857-872 (1998), Table I, method 3 (score)
    (81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_matches_newcombe_1998(successes, n, low, high):
    got = stats.wilson_interval(successes, n)
    assert got == pytest.approx((low, high), abs=5e-5)


def test_wilson_matches_scipy():
    scipy_stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    for n in [1, 2, 7, 50, 333, 10_000]:
        for k in {0, n, *rng.integers(0, n + 1, size=5).tolist()}:
            for confidence in (0.9, 0.95, 0.99):
                ref = scipy_stats.binomtest(k, n).proportion_ci(confidence, method="wilson")
                got = stats.wilson_interval(k, n, confidence=confidence)
                assert got == pytest.approx((ref.low, ref.high), abs=1e-12), (k, n)


@pytest.mark.parametrize("n", [1, 2, 20, 10_000])
def test_wilson_edges_are_exact(n):
    low, high = stats.wilson_interval(0, n)
    assert low == 0.0 and 0.0 < high < 1.0
    low, high = stats.wilson_interval(n, n)
    assert high == 1.0 and 0.0 < low < 1.0
    assert stats.wilson_interval(0, n)[1] == pytest.approx(1 - stats.wilson_interval(n, n)[0])


def test_higher_confidence_gives_a_wider_interval():
    narrow, wide = (stats.wilson_interval(90, 100, confidence=c) for c in (0.9, 0.99))
    assert wide[0] < narrow[0] < 0.9 < narrow[1] < wide[1]


# --------------------------------------------------------------------------------------
# Accuracy
# --------------------------------------------------------------------------------------


def test_accuracy_prints_percent_interval_and_count():
    acc = stats.accuracy_from_counts(9_890, 10_000)
    assert str(acc) == "98.9 % [98.7, 99.1] on 10,000"
    assert repr(acc) == "Accuracy(98.9 % [98.7, 99.1] on 10,000)"
    assert f"{acc:.2f}" == "98.90 % [98.68, 99.09] on 10,000"
    assert acc.value == 0.989 and acc.confidence == 0.95


def test_accuracy_from_predictions_scores_and_booleans_agree():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 10, 500)
    scores = rng.random((500, 10))
    predicted = scores.argmax(axis=1)
    by_scores = stats.accuracy(scores, labels)
    assert by_scores == stats.accuracy(predicted, labels) == stats.accuracy(predicted == labels)
    assert by_scores.correct == int(np.sum(predicted == labels)) and by_scores.n == 500


@pytest.mark.parametrize("call, error, text", [
    (lambda: stats.accuracy(np.array([0, 1])), TypeError, "booleans"),
    (lambda: stats.accuracy([0.0, 1.0], [0, 1]), TypeError, "integer class indices"),
    (lambda: stats.accuracy([0, 1], [0, 1, 1]), ValueError, "same length"),
    (lambda: stats.accuracy(np.array([], bool)), ValueError, "empty"),
    (lambda: stats.accuracy([True], confidence=95), ValueError, "pass 0.95"),
    (lambda: stats.accuracy_from_counts(11, 10), ValueError, "correct"),
    (lambda: stats.wilson_interval(0, 0), ValueError, "n must be >= 1"),
    (lambda: stats.accuracy_from_counts(True, 10), TypeError, "bool"),
])
def test_accuracy_bad_inputs(call, error, text):
    with pytest.raises(error, match=text):
        call()


# --------------------------------------------------------------------------------------
# McNemar
# --------------------------------------------------------------------------------------


def _exact_p(b: int, c: int) -> Fraction:
    m = b + c
    if m == 0:
        return Fraction(1)
    tail = Fraction(sum(comb(m, i) for i in range(min(b, c) + 1)), 2**m)
    return min(Fraction(1), 2 * tail)


def test_mcnemar_matches_fagerland_2013():
    # Fagerland, Lydersen & Laake, BMC Medical Research Methodology 13:91 (2013): airway
    # hyper-responsiveness before/after, 1 and 7 discordant pairs, exact conditional p = 0.070
    assert stats.mcnemar_p_value(1, 7) == 18 / 256
    assert round(stats.mcnemar_p_value(7, 1), 3) == 0.070


def test_mcnemar_matches_exact_fractions():
    for b in range(0, 41):
        for c in range(0, 41):
            assert stats.mcnemar_p_value(b, c) == float(_exact_p(b, c)), (b, c)


def test_mcnemar_matches_scipy_beyond_the_exact_range():
    scipy_stats = pytest.importorskip("scipy.stats")
    for b, c in [(10_500, 10_000), (11_000, 10_000), (100, 30_000), (250_000, 249_000)]:
        ref = min(1.0, 2 * scipy_stats.binom.cdf(min(b, c), b + c, 0.5))
        assert stats.mcnemar_p_value(b, c) == pytest.approx(ref, rel=1e-8, abs=1e-300)


def test_mcnemar_counts_only_discordant_samples():
    labels = np.array([0, 1, 2, 0, 1, 2, 0])
    a = np.array([0, 1, 2, 0, 0, 0, 1])  # right on 0-3
    b = np.array([0, 1, 0, 1, 1, 0, 1])  # right on 0, 1, 4
    result = stats.mcnemar(a, b, labels)
    assert (result.only_a, result.only_b, result.n) == (2, 1, 7)
    assert result.p_value == 1.0
    assert result == stats.mcnemar(a == labels, b == labels)
    swapped = stats.mcnemar(b, a, labels)
    assert (swapped.only_a, swapped.only_b, swapped.p_value) == (1, 2, 1.0)
    assert repr(result) == "McNemar(p = 1: 2 right only by a, 1 only by b, of 7)"


def test_identical_models_have_p_one():
    same = np.array([True, False, True])
    assert stats.mcnemar(same, same).p_value == 1.0


def test_mcnemar_refuses_different_test_sets():
    with pytest.raises(ValueError, match="same test samples"):
        stats.mcnemar(np.ones(5, bool), np.ones(4, bool))


# --------------------------------------------------------------------------------------
# Paired difference, comparisons and verdicts
# --------------------------------------------------------------------------------------


def test_agresti_min_by_hand():
    # (30.5 - 20.5) / 10002 ± 1.96 sqrt((51 / 10002 - d²) / 10002)
    d = 10 / 10_002
    half = stats._z(0.95) * np.sqrt((51 / 10_002 - d * d) / 10_002)
    assert stats.paired_difference_interval(30, 20, 10_000) == pytest.approx((d - half, d + half))
    low, high = stats.paired_difference_interval(0, 0, 20)
    assert low < 0 < high  # no discordant pair out of 20 still leaves room for a difference


def test_agresti_min_covers_about_95_percent():
    rng = np.random.default_rng(2)
    for n, p_a, p_b in [(200, 0.05, 0.03), (1_000, 0.01, 0.01), (5_000, 0.004, 0.002)]:
        cells = rng.multinomial(n, [p_a, p_b, 1 - p_a - p_b], size=1_500)
        inside = [lo <= p_a - p_b <= hi for lo, hi in
                  (stats.paired_difference_interval(int(x), int(y), n) for x, y, _ in cells)]
        assert 0.93 <= np.mean(inside) <= 0.985, (n, p_a, p_b, np.mean(inside))


def _pair(n: int, only_a: int, only_b: int, both: int) -> tuple[np.ndarray, np.ndarray]:
    a = np.zeros(n, bool)
    b = np.zeros(n, bool)
    a[:both + only_a] = True
    b[:both] = True
    b[both + only_a:both + only_a + only_b] = True
    return a, b


def test_compare_reports_difference_interval_and_test():
    a, b = _pair(10_000, 60, 20, 9_800)
    result = stats.compare(a, b, names=("int8", "float32"))
    assert result.difference == pytest.approx(0.004)
    assert result.a.correct == 9_860 and result.b.correct == 9_820
    assert result.low < 0.004 < result.high
    assert result.test == stats.mcnemar(a, b)
    assert repr(result).startswith("Comparison(int8 − float32: +0.4 points [+0.2, +0.6], "
                                   "McNemar p = ")


@pytest.mark.parametrize("only_a, only_b, expected", [
    (60, 20, "holds"), (20, 60, "does not hold"),
    (45, 35, "indistinguishable on 10,000 test samples"), (0, 0, "indistinguishable on 10,000 "
                                                           "test samples"),
])
def test_verdict_on_a_comparison_follows_mcnemar(only_a, only_b, expected):
    result = stats.compare(*_pair(10_000, only_a, only_b, 9_000))
    assert stats.verdict(result, above=0.0) == expected
    significant = result.test.p_value < 0.05
    assert significant == (expected in ("holds", "does not hold"))


def test_verdict_on_a_margin_claim_uses_the_interval():
    # "a loses less than one point against b"
    small_loss = stats.compare(*_pair(10_000, 20, 40, 9_500))  # -0.2 points
    assert stats.verdict(small_loss, above=-0.01) == "holds"
    big_loss = stats.compare(*_pair(10_000, 20, 300, 9_500))  # -2.8 points
    assert stats.verdict(big_loss, above=-0.01) == "does not hold"
    few = stats.compare(*_pair(100, 1, 2, 90))  # too few samples to tell
    assert stats.verdict(few, above=-0.01) == "indistinguishable on 100 test samples"


def test_verdict_on_an_accuracy_claim_uses_wilson():
    acc = stats.accuracy_from_counts(9_890, 10_000)  # [98.68, 99.09]
    assert stats.verdict(acc, above=0.985) == "holds"
    assert stats.verdict(acc, above=0.992) == "does not hold"
    assert stats.verdict(acc, above=0.99) == "indistinguishable on 10,000 test samples"


@pytest.mark.parametrize("result, above, error, text", [
    (stats.accuracy_from_counts(9, 10), 97, ValueError, "pass 0.97"),
    (stats.accuracy_from_counts(9, 10), "0.9", TypeError, "above"),
    (stats.compare(*_pair(10, 1, 1, 5)), -1, ValueError, "-0.01 is one point"),
    (0.98, 0.9, TypeError, "result must be an Accuracy or a Comparison"),
])
def test_verdict_bad_inputs(result, above, error, text):
    with pytest.raises(error, match=text):
        stats.verdict(result, above=above)


def test_stats_imports_neither_scipy_nor_tensorflow():
    code = ("import sys, labkit.stats, labkit.validate; "
            "print(sorted(m for m in ('scipy', 'tensorflow', 'tf_keras') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
