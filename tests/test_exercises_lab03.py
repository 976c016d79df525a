"""Lab 03 exercises: the references score full marks, typical mistakes lose points."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import unguarded

from labkit.grading import get_exercise
from labkit.grading.core import run_exercise

SEEDS = range(50)  # every typical mistake must lose points on every one of them


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


def _prune_ceil_count(w, s):
    w = np.asarray(w, dtype=float)
    return _mask_from_order(w, np.argsort(np.abs(w).ravel()), int(np.ceil(s * w.size)))


def _prune_percentile(w, s):
    w = np.asarray(w, dtype=float)
    mask = (np.abs(w) > np.percentile(np.abs(w), 100 * s)).astype(float)
    return w * mask, mask


def _prune_strictly_below(w, s):
    w = np.asarray(w, dtype=float)
    k = round(s * w.size)
    threshold = np.sort(np.abs(w).ravel())[k - 1] if k else -1.0
    mask = (np.abs(w) >= threshold).astype(float) if k else np.ones(w.shape)
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


def _threshold_ceil(weights, s):
    mags = np.sort(_magnitudes(weights))
    k = int(np.ceil(s * mags.size))
    return float(mags[k - 1]) if k else 0.0


def _threshold_floor(weights, s):
    mags = np.sort(_magnitudes(weights))
    k = int(s * mags.size)
    return float(mags[k - 1]) if k else 0.0


def _threshold_quantile(weights, s):
    return float(np.quantile(_magnitudes(weights), s))


def _threshold_first_layer(weights, s):
    mags = np.sort(np.abs(weights[0]).ravel())
    k = round(s * mags.size)
    return float(mags[k - 1]) if k else 0.0


MISTAKES = {
    "03.magnitude_prune": {
        "prunes the largest weights": _prune_largest,
        "ranks signed values, not magnitudes": _prune_signed,
        "truncates the count with int()": _prune_truncated_count,
        "rounds the count up (ceil)": _prune_ceil_count,
        "np.percentile threshold": _prune_percentile,
        "keeps the k-th smallest (|w| >= t)": _prune_strictly_below,
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
        "rounds the count up (ceil)": _threshold_ceil,
        "truncates the count with int()": _threshold_floor,
        "np.quantile (interpolates)": _threshold_quantile,
    },
    "03.rank_filters_l1": {
        "largest first": lambda k: np.argsort(np.abs(k).sum(axis=(0, 1, 2)))[::-1],
        "signed sum": lambda k: np.argsort(np.sum(k, axis=(0, 1, 2))),
        "L2 norm": lambda k: np.argsort(np.sqrt((k ** 2).sum(axis=(0, 1, 2)))),
        "ranks input channels": lambda k: np.argsort(np.abs(k).sum(axis=(0, 1, 3))),
        "returns the sorted norms": lambda k: np.sort(np.abs(k).sum(axis=(0, 1, 2))),
        "L-infinity norm (largest weight)": lambda k: np.argsort(np.abs(k).max(axis=(0, 1, 2))),
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


# --------------------------------------------------------------------------------------
# 03.prune_with_tfmot: the judge fine-tunes each returned model (a few seconds each), so
# these are slow; fine-tunes are cached by the returned model's config and weights.
# --------------------------------------------------------------------------------------

def _tfmot():
    from labkit._tf import load, load_tfmot

    return load()[1], load_tfmot().sparsity.keras


def _wrap(model, schedule, names):
    keras, sparsity = _tfmot()
    return keras.models.clone_model(model, clone_function=lambda layer: (
        sparsity.prune_low_magnitude(layer, pruning_schedule=schedule)
        if layer.name in names else layer))


def _poly(target, end_step, frequency=10):
    _, sparsity = _tfmot()
    return sparsity.PolynomialDecay(initial_sparsity=0.0, final_sparsity=target, begin_step=0,
                                    end_step=end_step, frequency=frequency)


_RIGHT = ("conv2", "hidden", "dense")


def _tf_default_frequency(model, target, end_step):
    _, sparsity = _tfmot()
    return _wrap(model, sparsity.PolynomialDecay(initial_sparsity=0.0, final_sparsity=target,
                                                 begin_step=0, end_step=end_step), _RIGHT)


def _tf_whole_model(model, target, end_step):
    _, sparsity = _tfmot()
    return sparsity.prune_low_magnitude(model, pruning_schedule=_poly(target, end_step))


def _tf_constant(model, target, end_step):
    _, sparsity = _tfmot()
    return _wrap(model, sparsity.ConstantSparsity(target, begin_step=0, frequency=10), _RIGHT)


def _tf_fresh_weights(model, target, end_step):
    keras, _ = _tfmot()
    keras.utils.set_random_seed(1)  # the same fresh weights each call, so the judge's fine-tune cache hits
    return _wrap(keras.models.clone_model(model), _poly(target, end_step), _RIGHT)


def _tf_strips(model, target, end_step):
    _, sparsity = _tfmot()
    return sparsity.strip_pruning(_wrap(model, _poly(target, end_step), _RIGHT))


TFMOT_MISTAKES = {
    "no frequency set (tfmot's default 100): nothing is pruned": _tf_default_frequency,
    "prunes every layer (conv1 too)": _tf_whole_model,
    "prunes only the Dense layers": lambda m, t, e: _wrap(m, _poly(t, e), ("hidden", "dense")),
    "prunes only the convolutions": lambda m, t, e: _wrap(m, _poly(t, e), ("conv1", "conv2")),
    "strips the wrappers before the fine-tune": _tf_strips,
    "ConstantSparsity instead of PolynomialDecay": _tf_constant,
    "fresh random weights (clone_model first)": _tf_fresh_weights,
    "ignores end_step": lambda m, t, e: _wrap(m, _poly(t, 1000), _RIGHT),
    "frequency that misses end_step": lambda m, t, e: _wrap(m, _poly(t, e, frequency=e // 2 + 7),
                                                            _RIGHT),
}


@pytest.mark.slow
def test_prune_with_tfmot_reference_scores_full_marks():
    exercise = get_exercise("03.prune_with_tfmot")
    for seed in range(5):
        result = run_exercise(exercise, [unguarded(exercise.reference)], seed=seed)
        assert result.score == exercise.points, (seed, result.message)


@pytest.mark.slow
@pytest.mark.parametrize("mistake", TFMOT_MISTAKES)
def test_prune_with_tfmot_mistakes_lose_points_on_every_seed(mistake):
    exercise = get_exercise("03.prune_with_tfmot")
    for seed in SEEDS:
        result = run_exercise(exercise, [TFMOT_MISTAKES[mistake]], seed=seed)
        assert result.score < exercise.points and result.status == "failed", (seed, result)
