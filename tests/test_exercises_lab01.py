"""Exercises of lab 01: the references score full marks; typical mistakes lose points."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import unguarded

from labkit import fitting
from labkit.exercises.lab01 import RECORDED_RUNS, _boundary_cases
from labkit.grading.core import run_exercise
from labkit.grading.registry import get_exercise, lab_exercises

SEEDS = range(50)  # every typical mistake must lose points on every one of them


def score(exercise_id: str, fn, seed: int) -> tuple[int, int]:
    result = run_exercise(get_exercise(exercise_id), [fn], seed=seed)
    return result.score, result.max_score


@pytest.mark.parametrize("exercise", lab_exercises("01"), ids=lambda e: e.id)
@pytest.mark.parametrize("seed", SEEDS)
def test_reference_scores_full(exercise, seed):
    result = run_exercise(exercise, [unguarded(exercise.reference)], seed=seed)
    assert result.score == result.max_score, result.line()


def test_calling_labkit_reference_scores_zero():
    result = run_exercise(get_exercise("01.standardize"), [fitting.standardize], seed=0)
    assert result.score == 0 and result.stage == "reference"


def test_stub_is_not_attempted():
    def stub(*args):
        raise NotImplementedError()

    for exercise in lab_exercises("01"):
        result = run_exercise(exercise, [stub], seed=0)
        assert (result.status, result.score) == ("not attempted", 0)


def assert_loses_points(exercise_id: str, wrong) -> None:
    for seed in SEEDS:
        got, full = score(exercise_id, wrong, seed)
        assert got < full, f"{wrong.__name__} scored {got}/{full} with seed {seed}"


# ---------------------------------------------------------------------------- standardize


def std_on_both_sets(x_train, x_other):
    both = np.concatenate([x_train, x_other])
    return (x_train - both.mean(0)) / both.std(0), (x_other - both.mean(0)) / both.std(0)


def own_statistics(x_train, x_other):
    return tuple((x - x.mean(0)) / x.std(0) for x in (x_train, x_other))


def no_epsilon(x_train, x_other):
    mean, std = x_train.mean(0), x_train.std(0)
    return (x_train - mean) / std, (x_other - mean) / std


def epsilon_everywhere(x_train, x_other):
    mean, std = x_train.mean(0), x_train.std(0) + 1e-8
    return (x_train - mean) / std, (x_other - mean) / std


def sample_std(x_train, x_other):
    mean, std = x_train.mean(0), x_train.std(0, ddof=1)
    std = np.where(std > 0, std, 1)
    return (x_train - mean) / std, (x_other - mean) / std


def global_statistics(x_train, x_other):
    mean, std = x_train.mean(), x_train.std()
    return (x_train - mean) / std, (x_other - mean) / std


def only_other(x_train, x_other):
    mean, std = x_train.mean(0), x_train.std(0)
    return (x_other - mean) / np.where(std > 0, std, 1)


@pytest.mark.parametrize("wrong", [std_on_both_sets, own_statistics, no_epsilon,
                                   epsilon_everywhere, sample_std, global_statistics,
                                   only_other])
def test_standardize_mistakes_lose_points(wrong):
    with np.errstate(all="ignore"):
        assert_loses_points("01.standardize", wrong)


# --------------------------------------------------------------------- early_stopping_epoch


def global_argmin(val_loss, patience, min_delta=0.0):
    return int(np.argmin(val_loss))


def _replay(val_loss, patience, min_delta, improves, should_stop, answer):
    best, best_epoch, wait = math.inf, 0, 0
    for epoch, loss in enumerate(val_loss):
        wait += 1
        if improves(loss, best, min_delta):
            best, best_epoch, wait = loss, epoch, 0
        elif should_stop(wait, patience) and epoch > 0:
            return answer(best_epoch, epoch, stopped=True)
    return answer(best_epoch, len(val_loss) - 1, stopped=False)


def _keras_improves(loss, best, min_delta):
    return loss + min_delta < best


def _keras_stops(wait, patience):
    return wait >= patience


def _best(best_epoch, last_epoch, stopped):
    return best_epoch


def ignores_min_delta(val_loss, patience, min_delta=0.0):
    return _replay(val_loss, patience, min_delta, lambda v, b, d: v < b, _keras_stops, _best)


def less_or_equal(val_loss, patience, min_delta=0.0):
    return _replay(val_loss, patience, min_delta, lambda v, b, d: v + d <= b, _keras_stops,
                   _best)


def min_delta_wrong_sign(val_loss, patience, min_delta=0.0):
    return _replay(val_loss, patience, min_delta, lambda v, b, d: v - d < b, _keras_stops,
                   _best)


def waits_one_epoch_too_long(val_loss, patience, min_delta=0.0):
    return _replay(val_loss, patience, min_delta, _keras_improves, lambda w, p: w > p, _best)


def returns_stopping_epoch(val_loss, patience, min_delta=0.0):
    return _replay(val_loss, patience, min_delta, _keras_improves, _keras_stops,
                   lambda best, last, stopped: last)


def last_epoch_when_not_stopped(val_loss, patience, min_delta=0.0):
    return _replay(val_loss, patience, min_delta, _keras_improves, _keras_stops,
                   lambda best, last, stopped: best if stopped else last)


def counts_from_one(val_loss, patience, min_delta=0.0, _ref=fitting.early_stopping_epoch):
    return _ref(val_loss, patience, min_delta) + 1  # a default argument: not a blocked name


def compares_with_previous_epoch(val_loss, patience, min_delta=0.0):
    best_epoch, wait = 0, 0
    for epoch in range(1, len(val_loss)):
        if val_loss[epoch] + min_delta < val_loss[epoch - 1]:
            best_epoch, wait = epoch, 0
        else:
            wait += 1
            if wait >= patience:
                break
    return best_epoch


@pytest.mark.parametrize("wrong", [global_argmin, ignores_min_delta, less_or_equal,
                                   min_delta_wrong_sign, waits_one_epoch_too_long,
                                   returns_stopping_epoch, last_epoch_when_not_stopped,
                                   counts_from_one, compares_with_previous_epoch])
def test_early_stopping_mistakes_lose_points(wrong):
    assert_loses_points("01.early_stopping_epoch", wrong)


# -------------------------------------------------------------------------- epochs_to_reach


def zero_based(val_accuracy, target):
    hits = [i for i, a in enumerate(val_accuracy) if a >= target]
    return hits[0] if hits else None


def strictly_above(val_accuracy, target):
    hits = [i + 1 for i, a in enumerate(val_accuracy) if a > target]
    return hits[0] if hits else None


def minus_one_when_never(val_accuracy, target):
    hits = [i + 1 for i, a in enumerate(val_accuracy) if a >= target]
    return hits[0] if hits else -1


def last_crossing(val_accuracy, target):
    hits = [i + 1 for i, a in enumerate(val_accuracy) if a >= target]
    return hits[-1] if hits else None


def epochs_when_never(val_accuracy, target):
    hits = [i + 1 for i, a in enumerate(val_accuracy) if a >= target]
    return hits[0] if hits else len(val_accuracy)


@pytest.mark.parametrize("wrong", [zero_based, strictly_above, minus_one_when_never,
                                   last_crossing, epochs_when_never])
def test_epochs_to_reach_mistakes_lose_points(wrong):
    assert_loses_points("01.epochs_to_reach", wrong)


# ----------------------------------------------------------------------------- diagnose_fit


def _diagnose(train_loss, val_loss, *, strict=True, q_of=lambda n: max(1, n // 4),
              argmin=np.argmin, overfit_first=True, windows=True, check_minimum=True,
              improving_curve="val"):
    train, val = np.asarray(train_loss, float), np.asarray(val_loss, float)
    n = len(val)
    q = q_of(n)
    above = (lambda a, b: a > b) if strict else (lambda a, b: a >= b)
    early = int(argmin(val)) < n - q if check_minimum else True
    overfit = above(val[-1] - train[-1], fitting.GAP_LIMIT) and early
    curve = val if improving_curve == "val" else train
    if windows:
        drop = curve[n - 2 * q:n - q].mean() - curve[n - q:].mean()
    else:
        drop = curve[-1 - q] - curve[-1]
    if overfit_first and overfit:
        return "overfitting"
    if above(train[-1], fitting.HIGH_LOSS):
        return "slow_convergence" if drop > fitting.STILL_IMPROVING * q else "underfitting"
    return "overfitting" if overfit else "good_fit"


def greater_or_equal(train_loss, val_loss):
    return _diagnose(train_loss, val_loss, strict=False)


def quarter_rounded_up(train_loss, val_loss):
    return _diagnose(train_loss, val_loss, q_of=lambda n: max(1, math.ceil(n / 4)))


def quarter_rounded(train_loss, val_loss):
    return _diagnose(train_loss, val_loss, q_of=lambda n: max(1, round(n / 4)))


def last_minimum(train_loss, val_loss):
    return _diagnose(train_loss, val_loss, argmin=lambda v: len(v) - 1 - np.argmin(v[::-1]))


def high_loss_first(train_loss, val_loss):
    return _diagnose(train_loss, val_loss, overfit_first=False)


def endpoints_not_means(train_loss, val_loss):
    return _diagnose(train_loss, val_loss, windows=False)


def gap_only(train_loss, val_loss):
    return _diagnose(train_loss, val_loss, check_minimum=False)


def train_curve_still_improving(train_loss, val_loss):
    return _diagnose(train_loss, val_loss, improving_curve="train")


@pytest.mark.parametrize("wrong", [greater_or_equal, quarter_rounded_up, quarter_rounded,
                                   last_minimum, high_loss_first, endpoints_not_means,
                                   gap_only, train_curve_still_improving])
def test_diagnose_mistakes_lose_points(wrong):
    assert_loses_points("01.diagnose_fit", wrong)


def test_the_mistake_models_agree_with_the_reference_when_not_mistaken():
    for _, train, val in _boundary_cases():
        assert _diagnose(train, val) == fitting.diagnose_fit(train, val)


def test_boundary_cases_cover_every_regime():
    seen = {fitting.diagnose_fit(train, val) for _, train, val in _boundary_cases()}
    assert seen == set(fitting.REGIMES)


def test_recorded_runs_are_real_curves_of_each_kind():
    verdicts = set()
    for train, val in RECORDED_RUNS.values():
        train_loss, val_loss = [float(v) for v in train.split()], [float(v) for v in val.split()]
        assert len(train_loss) == len(val_loss) >= 10
        verdicts.add(fitting.diagnose_fit(train_loss, val_loss))
    assert verdicts == set(fitting.REGIMES)
