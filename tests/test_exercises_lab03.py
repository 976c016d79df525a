"""Lab 03 exercises: the references score full marks, typical mistakes lose points."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import unguarded

from labkit.grading import get_exercise
from labkit.grading.core import run_exercise

SEEDS = [0, 1, 2, 3]


def _mask_from_order(w, order, k):
    w = np.asarray(w, dtype=float)
    mask = np.ones(w.size)
    mask[order[:k]] = 0
    mask = mask.reshape(w.shape)
    return w * mask, mask


def _prune_largest(w, s):
    w = np.asarray(w, dtype=float)
    return _mask_from_order(w, np.argsort(-np.abs(w).ravel()), round(s * w.size))


def _prune_signed(w, s):
    w = np.asarray(w, dtype=float)
    return _mask_from_order(w, np.argsort(w.ravel()), round(s * w.size))


def _prune_truncated_count(w, s):
    w = np.asarray(w, dtype=float)
    return _mask_from_order(w, np.argsort(np.abs(w).ravel()), int(s * w.size))


def _prune_threshold_off_by_one(w, s):
    w = np.asarray(w, dtype=float)
    k = round(s * w.size)
    threshold = np.sort(np.abs(w).ravel())[min(k, w.size - 1)] if k else -1.0
    mask = (np.abs(w) > threshold).astype(float)
    return w * mask, mask


def _prune_inverted_mask(w, s):
    w_pruned, mask = _mask_from_order(w, np.argsort(np.abs(np.asarray(w)).ravel()),
                                      round(s * np.size(w)))
    return w_pruned, 1 - mask


def _prune_in_place(w, s):
    order = np.argsort(np.abs(w).ravel())
    mask = np.ones(w.size)
    mask[order[:round(s * w.size)]] = 0
    mask = mask.reshape(w.shape)
    w *= mask
    return w, mask


def _magnitudes(weights):
    return np.concatenate([np.abs(np.asarray(w)).ravel() for w in weights])


def _threshold_signed(weights, s):
    values = np.sort(np.concatenate([np.asarray(w).ravel() for w in weights]))
    k = round(s * values.size)
    return float(values[k - 1]) if k else 0.0


def _threshold_off_by_one(weights, s):
    mags = np.sort(_magnitudes(weights))
    return float(mags[min(round(s * mags.size), mags.size - 1)])


def _threshold_mean_of_layers(weights, s):
    return float(np.mean([np.quantile(np.abs(w), s) for w in weights]))


def _threshold_percent(weights, s):
    return float(np.percentile(_magnitudes(weights), s))


def _threshold_first_layer(weights, s):
    mags = np.sort(np.abs(weights[0]).ravel())
    k = round(s * mags.size)
    return float(mags[k - 1]) if k else 0.0


MISTAKES = {
    "03.magnitude_prune": {
        "prunes the largest weights": _prune_largest,
        "ranks signed values, not magnitudes": _prune_signed,
        "truncates the count with int()": _prune_truncated_count,
        "threshold also removes the k+1-th weight": _prune_threshold_off_by_one,
        "mask is 1 where pruned": _prune_inverted_mask,
        "changes w in place": _prune_in_place,
    },
    "03.global_threshold": {
        "signed values": _threshold_signed,
        "takes the (k+1)-th magnitude": _threshold_off_by_one,
        "averages per-layer thresholds": _threshold_mean_of_layers,
        "reads sparsity as a percentage": _threshold_percent,
        "uses the first layer only": _threshold_first_layer,
    },
    "03.rank_filters_l1": {
        "largest first": lambda k: np.argsort(np.abs(k).sum(axis=(0, 1, 2)))[::-1],
        "signed sum": lambda k: np.argsort(np.sum(k, axis=(0, 1, 2))),
        "L2 norm": lambda k: np.argsort(np.sqrt((k ** 2).sum(axis=(0, 1, 2)))),
        "ranks input channels": lambda k: np.argsort(np.abs(k).sum(axis=(0, 1, 3))),
        "returns the sorted norms": lambda k: np.sort(np.abs(k).sum(axis=(0, 1, 2))),
    },
    "03.prune_filters": {
        "prunes input channels of kernel": lambda k, b, n, keep: (k[:, :, keep, :], b[keep],
                                                                  n[:, :, keep, :]),
        "leaves the bias": lambda k, b, n, keep: (k[..., keep], b, n[:, :, keep, :]),
        "prunes the next layer's outputs": lambda k, b, n, keep: (k[..., keep], b[keep],
                                                                  n[..., keep]),
        "removes keep instead of keeping it": lambda k, b, n, keep: (
            np.delete(k, keep, axis=3), np.delete(b, keep), np.delete(n, keep, axis=2)),
        "forgets the next layer": lambda k, b, n, keep: (k[..., keep], b[keep], n),
    },
}

CASES = [(exercise_id, name) for exercise_id, mistakes in MISTAKES.items() for name in mistakes]


@pytest.mark.parametrize("exercise_id", list(MISTAKES))
@pytest.mark.parametrize("seed", SEEDS)
def test_reference_scores_full_marks(exercise_id, seed):
    exercise = get_exercise(exercise_id)
    result = run_exercise(exercise, [unguarded(exercise.reference)], seed=seed)  # unblocked
    assert result.score == exercise.points, result.message


@pytest.mark.parametrize("exercise_id, mistake", CASES)
@pytest.mark.parametrize("seed", SEEDS)
def test_typical_mistakes_lose_points(exercise_id, mistake, seed):
    exercise = get_exercise(exercise_id)
    result = run_exercise(exercise, [MISTAKES[exercise_id][mistake]], seed=seed)
    assert result.score < exercise.points, f"{mistake}: {result}"
    assert result.status == "failed" and result.message


@pytest.mark.parametrize("exercise_id", list(MISTAKES))
def test_calling_labkit_reference_scores_zero(exercise_id):
    exercise = get_exercise(exercise_id)
    result = run_exercise(exercise, [exercise.reference], seed=0)
    assert result.score == 0 and result.stage == "reference"


@pytest.mark.parametrize("exercise_id", list(MISTAKES))
def test_stub_is_not_attempted(exercise_id):
    def stub(*args):
        raise NotImplementedError()

    result = run_exercise(get_exercise(exercise_id), [stub], seed=0)
    assert result.status == "not attempted" and result.score == 0


def test_rounding_tie_accepts_either_count():
    """sparsity * size = 2.5: floor (2) and ceil (3) removals both pass."""
    from labkit.exercises.lab03 import _expect_pruned
    from labkit.grading.core import Exercise, Test

    w = np.array([0.5, -0.1, 0.3, 0.7, -0.2])

    def ceil_count(w, s):
        return _mask_from_order(w, np.argsort(np.abs(w)), 3)

    for fn in (ceil_count, lambda w, s: _mask_from_order(w, np.argsort(np.abs(w)), 2)):
        exercise = Exercise("99.tie", "tie", "f", reference=fn,
                            tests=(Test("tie", 1, lambda ctx: _expect_pruned(ctx, w, 0.5)),))
        assert run_exercise(exercise, [fn], seed=0).score == 1
