"""Lab 04's exercises: the references score full marks, and each typical mistake — a random
instead of a linear initialisation, entropy in nats, KL reversed, T² forgotten, columns
dropped instead of an SVD, and a few more — loses points on every one of 50 seeds."""

from __future__ import annotations

import heapq
import math

import numpy as np
import pytest
from conftest import assert_caught, assert_full_marks, assert_stub_not_attempted, unguarded

from labkit import compression as lc
from labkit.grading.core import run_exercise
from labkit.grading.registry import get_exercise, lab_exercises


def test_lab04_registers_the_five_exercises():
    assert [e.id for e in lab_exercises("04")] == [
        "04.kmeans_codebook", "04.entropy_bits", "04.huffman_code_lengths",
        "04.distillation_loss", "04.low_rank"]


@pytest.mark.parametrize("exercise", lab_exercises("04"), ids=lambda e: e.id)
def test_reference_scores_full_marks(exercise):
    assert_full_marks(exercise.id, unguarded(exercise.reference))


@pytest.mark.parametrize("exercise", lab_exercises("04"), ids=lambda e: e.id)
def test_stub_is_not_attempted(exercise):
    assert_stub_not_attempted(exercise.id)


# --------------------------------------------------------------------------------------
# 04.kmeans_codebook
# --------------------------------------------------------------------------------------

def _lloyd(w, codebook, iters, *, empty="keep"):
    flat = np.asarray(w, dtype=float).ravel()
    codebook = np.array(codebook, dtype=float)
    for _ in range(iters):
        assign = np.argmin(np.abs(flat[:, None] - codebook[None, :]), axis=1)
        for j in range(len(codebook)):
            members = flat[assign == j]
            if len(members):
                codebook[j] = members.mean()
            elif empty == "nan":
                codebook[j] = np.nan
            elif empty == "zero":
                codebook[j] = 0.0
    return codebook, np.argmin(np.abs(flat[:, None] - codebook[None, :]), axis=1).reshape(
        np.shape(w))


def _random_init(w, k, iters=20):
    rng = np.random.default_rng(0)
    return _lloyd(w, np.sort(rng.choice(np.ravel(w), size=k, replace=False)), iters)


def _quantile_init(w, k, iters=20):
    return _lloyd(w, np.quantile(np.ravel(w), np.linspace(0, 1, k)), iters)


def _kmeanspp_like(w, k, iters=20):  # spread from the mean: another common initialisation
    flat = np.ravel(w)
    return _lloyd(w, flat.mean() + flat.std() * np.linspace(-2, 2, k), iters)


KMEANS_MISTAKES = {
    "random-init": _random_init,
    "quantile-init": _quantile_init,
    "mean-std-init": _kmeanspp_like,
    "empty-cluster-nan": lambda w, k, iters=20: _lloyd(
        w, np.linspace(np.min(w), np.max(w), k), iters, empty="nan"),
    "empty-cluster-zero": lambda w, k, iters=20: _lloyd(
        w, np.linspace(np.min(w), np.max(w), k), iters, empty="zero"),
    "flat-indices": lambda w, k, iters=20: (lambda c, i: (c, i.ravel()))(
        *lc.kmeans_codebook(w, k, iters)),
    "iters-ignored": lambda w, k, iters=20: lc.kmeans_codebook(w, k, 20),
    "stale-indices": lambda w, k, iters=20: (lambda c, i: (c, i))(
        *_lloyd(w, np.linspace(np.min(w), np.max(w), k), iters)[:1],
        lc.kmeans_codebook(w, k, max(iters - 1, 0))[1]),
}


@pytest.mark.parametrize("name", KMEANS_MISTAKES)
def test_kmeans_mistakes_are_caught(name):
    assert_caught("04.kmeans_codebook", KMEANS_MISTAKES[name])


def test_kmeans_reference_matches_a_plain_lloyd():
    rng = np.random.default_rng(1)
    w = rng.normal(size=(7, 11))
    for k, iters in ((1, 3), (4, 0), (8, 20)):
        codebook, indices = lc.kmeans_codebook(w, k, iters)
        expected = _lloyd(w, np.linspace(w.min(), w.max(), k), iters)
        np.testing.assert_allclose(codebook, expected[0], rtol=1e-12)
        np.testing.assert_array_equal(indices, expected[1])
        assert indices.shape == w.shape and indices.dtype.kind == "i"


# --------------------------------------------------------------------------------------
# 04.entropy_bits
# --------------------------------------------------------------------------------------

def _entropy(values, log=np.log2):
    _, counts = np.unique(np.ravel(values), return_counts=True)
    p = counts / counts.sum()
    return float(-np.sum(p * log(p)))


ENTROPY_MISTAKES = {
    "nats": lambda v: _entropy(v, np.log),
    "log10": lambda v: _entropy(v, np.log10),
    "max-entropy": lambda v: float(np.log2(len(np.unique(v)))),
    "per-distinct-average": lambda v: float(np.mean(-np.log2(
        np.unique(np.ravel(v), return_counts=True)[1] / np.size(v)))),
    "first-row-only": lambda v: _entropy(np.atleast_2d(v)[0]) if np.ndim(v) > 1 else _entropy(v)
    + (1.0 if np.size(v) == 4 else 0.0),
    "negated": lambda v: -_entropy(v) if _entropy(v) else 1.0,
}


@pytest.mark.parametrize("name", ENTROPY_MISTAKES)
def test_entropy_mistakes_are_caught(name):
    assert_caught("04.entropy_bits", ENTROPY_MISTAKES[name])


# --------------------------------------------------------------------------------------
# 04.huffman_code_lengths
# --------------------------------------------------------------------------------------

def _shannon(counts):
    total = sum(counts.values())
    return {s: max(1, math.ceil(-math.log2(n / total))) for s, n in counts.items()}


def _unary(counts):
    order = sorted(counts, key=lambda s: -counts[s])
    return {s: min(i + 1, len(order) - 1) or 1 for i, s in enumerate(order)}


def _fixed_length(counts):
    return {s: max(1, math.ceil(math.log2(len(counts)))) for s in counts}


def _merge_largest(counts):  # merges the two LARGEST subtrees: a heap without the minus sign
    if len(counts) == 1:
        return {next(iter(counts)): 1}
    lengths = dict.fromkeys(counts, 0)
    heap = [(-n, i, [s]) for i, (s, n) in enumerate(counts.items())]
    heapq.heapify(heap)
    order = len(heap)
    while len(heap) > 1:
        n1, _, a = heapq.heappop(heap)
        n2, _, b = heapq.heappop(heap)
        for s in a + b:
            lengths[s] += 1
        heapq.heappush(heap, (n1 + n2, order, a + b))
        order += 1
    return lengths


def _zero_for_single(counts):
    return {next(iter(counts)): 0} if len(counts) == 1 else lc.huffman_code_lengths(counts)


HUFFMAN_MISTAKES = {"shannon-lengths": _shannon, "unary": _unary, "fixed-length": _fixed_length,
                    "merge-largest": _merge_largest, "single-symbol-zero": _zero_for_single}


@pytest.mark.parametrize("name", HUFFMAN_MISTAKES)
def test_huffman_mistakes_are_caught(name):
    assert_caught("04.huffman_code_lengths", HUFFMAN_MISTAKES[name])


def test_huffman_of_another_tie_break_scores_full_marks():
    """Other tie-breaks give other lengths with the same optimal total: all are right."""
    def reversed_ties(counts):  # ties go to the symbol seen last
        if len(counts) == 1:
            return {next(iter(counts)): 1}
        lengths = dict.fromkeys(counts, 0)
        heap = [(n, -i, [s]) for i, (s, n) in enumerate(counts.items())]
        heapq.heapify(heap)
        order = 0
        while len(heap) > 1:
            n1, _, a = heapq.heappop(heap)
            n2, _, b = heapq.heappop(heap)
            for s in a + b:
                lengths[s] += 1
            order -= 1
            heapq.heappush(heap, (n1 + n2, order - len(counts), a + b))
        return lengths

    for seed in range(10):
        result = run_exercise(get_exercise("04.huffman_code_lengths"), [reversed_ties], seed=seed)
        assert result.score == result.max_score, result.message


# --------------------------------------------------------------------------------------
# 04.distillation_loss
# --------------------------------------------------------------------------------------

def _log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _loss(labels, s, t, T, alpha, *, reverse=False, squared=True, ce_at_t=False, mean=True,
          swap=False, log=np.log):
    s, t = np.asarray(s, float), np.asarray(t, float)
    scale = 1.0 if log is np.log else 1.0 / np.log(2)
    hard = -_log_softmax(s / T if ce_at_t else s)[np.arange(len(labels)), labels] * scale
    lp, lq = _log_softmax(t / T), _log_softmax(s / T)
    soft = (np.sum(np.exp(lq) * (lq - lp), -1) if reverse else np.sum(np.exp(lp) * (lp - lq), -1))
    soft = soft * scale
    a = 1 - alpha if swap else alpha
    per = a * hard + (1 - a) * (T * T if squared else 1.0) * soft
    return float(per.mean() if mean else per.sum())


DISTILL_MISTAKES = {
    "kl-reversed": lambda *a: _loss(*a, reverse=True),
    "t-squared-forgotten": lambda *a: _loss(*a, squared=False),
    "ce-at-temperature": lambda *a: _loss(*a, ce_at_t=True),
    "summed-not-averaged": lambda *a: _loss(*a, mean=False),
    "alpha-swapped": lambda *a: _loss(*a, swap=True),
    "bits-not-nats": lambda *a: _loss(*a, log=np.log2),
}


@pytest.mark.parametrize("name", DISTILL_MISTAKES)
def test_distillation_mistakes_are_caught(name):
    assert_caught("04.distillation_loss", DISTILL_MISTAKES[name])


def test_distillation_reference_against_tensorflow():
    from labkit._tf import load

    tf, _ = load()
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 10, size=32)
    s, t = rng.normal(size=(32, 10)), rng.normal(size=(32, 10)) * 3
    T, alpha = 4.0, 0.3
    hard = tf.keras.losses.sparse_categorical_crossentropy(labels, s, from_logits=True)
    kl = tf.keras.losses.KLDivergence(reduction="none")(tf.nn.softmax(t / T), tf.nn.softmax(s / T))
    expected = float(tf.reduce_mean(alpha * hard + (1 - alpha) * T**2 * kl))
    assert lc.distillation_loss(labels, s, t, T, alpha) == pytest.approx(expected, rel=1e-5)


# --------------------------------------------------------------------------------------
# 04.low_rank
# --------------------------------------------------------------------------------------

def _svd(w, rank, *, scaled=True):
    u, s, vt = np.linalg.svd(np.asarray(w, float), full_matrices=False)
    return (u[:, :rank] * s[:rank] if scaled else u[:, :rank]), vt[:rank]


RANK_MISTAKES = {
    "columns-dropped": lambda w, r: (np.asarray(w)[:, :r], np.eye(r, np.shape(w)[1])),
    "rows-dropped": lambda w, r: (np.eye(np.shape(w)[0], r), np.asarray(w)[:r]),
    "singular-values-forgotten": lambda w, r: _svd(w, r, scaled=False),
    "smallest-singular-values": lambda w, r: (lambda u, s, vt: (u[:, -r:] * s[-r:], vt[-r:]))(
        *np.linalg.svd(np.asarray(w, float), full_matrices=False)),
    "rank-plus-one": lambda w, r: _svd(w, min(r + 1, min(np.shape(w)))) if r < min(np.shape(w))
    else (_svd(w, r)[0][:, :-1], _svd(w, r)[1][:-1]),
}


@pytest.mark.parametrize("name", RANK_MISTAKES)
def test_low_rank_mistakes_are_caught(name):
    assert_caught("04.low_rank", RANK_MISTAKES[name])


def test_references_take_and_return_plain_data():
    codebook, indices = lc.kmeans_codebook(np.arange(6.0), 2)
    assert codebook.dtype == np.float64 and indices.dtype == np.int64
    assert type(lc.entropy_bits([1, 2])) is float
    lengths = lc.huffman_code_lengths({1: 3, 2: 1})
    assert all(type(v) is int for v in lengths.values())
    assert type(lc.distillation_loss([0], [[1.0, 0.0]], [[0.0, 1.0]], 2.0, 0.5)) is float
    a, b = lc.low_rank(np.eye(3), 2)
    assert a.shape == (3, 2) and b.shape == (2, 3)
