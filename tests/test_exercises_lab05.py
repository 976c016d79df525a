"""Lab 05's exercises: the references score full marks, each typical mistake loses points on
every one of 50 seeds (fixed edge cases in every test separate the mistakes)."""

from __future__ import annotations

import pytest
from conftest import unguarded

from labkit import tradeoffs as lt
from labkit.grading.core import run_exercise
from labkit.grading.registry import get_exercise, lab_exercises

SEEDS = range(50)


def _assert_caught(exercise_id, fn):
    for seed in SEEDS:
        result = run_exercise(get_exercise(exercise_id), [fn], seed=seed)
        assert result.score < result.max_score, (exercise_id, seed, result)
        assert result.status == "failed" and result.message, result


def test_lab05_registers_the_three_exercises():
    assert [e.id for e in lab_exercises("05")] == [
        "05.pareto_front", "05.select_model", "05.claim_verdict"]


@pytest.mark.parametrize("exercise", lab_exercises("05"), ids=lambda e: e.id)
def test_reference_scores_full_marks(exercise):
    for seed in SEEDS:
        result = run_exercise(exercise, [unguarded(exercise.reference)], seed=seed)
        assert result.score == result.max_score, result.message


@pytest.mark.parametrize("exercise", lab_exercises("05"), ids=lambda e: e.id)
def test_stub_is_not_attempted(exercise):
    def stub(*args, **kwargs):
        raise NotImplementedError()

    result = run_exercise(exercise, [stub], seed=0)
    assert result.score == 0 and result.status == "not attempted"


def test_references_take_and_return_plain_data():
    assert lt.pareto_front([2, 1], [0.9, 0.8]) == [1, 0]
    assert all(type(i) is int for i in lt.pareto_front([2.0, 1.0], [0.9, 0.8]))
    cands = [{"name": "a", "size_bytes": 1, "latency_ms": 1.0, "accuracy": 0.5}]
    assert lt.select_model(cands) == "a" and lt.select_model(cands, min_accuracy=0.6) is None
    assert lt.claim_verdict(1.0, 0, 2) == "within"


# --------------------------------------------------------------------------------------
# Typical mistakes
# --------------------------------------------------------------------------------------

def _strict_dominance(costs, scores):  # j dominates i only if strictly better in both
    n = len(costs)
    keep = [i for i in range(n) if not any(costs[j] < costs[i] and scores[j] > scores[i]
                                            for j in range(n))]
    return sorted(keep, key=lambda i: (costs[i], i))


def _no_strict_part(costs, scores):  # no worse in both: duplicates knock each other out
    n = len(costs)
    keep = [i for i in range(n) if not any(j != i and costs[j] <= costs[i] and scores[j] >= scores[i]
                                            for j in range(n))]
    return sorted(keep, key=lambda i: (costs[i], i))


def _input_order(costs, scores):
    return sorted(lt.pareto_front(costs, scores))


def _sweep_without_tiebreak(costs, scores):  # sort by cost only, keep rising scores
    best, out = float("-inf"), []
    for i in sorted(range(len(costs)), key=lambda i: costs[i]):
        if scores[i] > best:
            out.append(i)
            best = scores[i]
    return out


def _wrong_direction(costs, scores):  # higher cost taken as better
    return lt.pareto_front([-c for c in costs], scores)


def _dedupe(costs, scores):
    seen, out = set(), []
    for i in lt.pareto_front(costs, scores):
        if (costs[i], scores[i]) not in seen:
            seen.add((costs[i], scores[i]))
            out.append(i)
    return out


def _mask(costs, scores):  # a boolean mask instead of indices
    front = set(lt.pareto_front(costs, scores))
    return [i in front for i in range(len(costs))]


FRONT_MISTAKES = {"mask-not-indices": _mask, "none": lambda c, s: None,
                  "strict-dominance": _strict_dominance, "duplicates-dropped": _no_strict_part,
                  "input-order": _input_order, "sweep-no-tiebreak": _sweep_without_tiebreak,
                  "wrong-direction": _wrong_direction, "dedupe": _dedupe}


@pytest.mark.parametrize("name", FRONT_MISTAKES)
def test_pareto_front_mistakes_are_caught(name):
    _assert_caught("05.pareto_front", FRONT_MISTAKES[name])


def _select(candidates, max_size_bytes=None, max_latency_ms=None, min_accuracy=None, *,
            none_as_zero=False, strict=False, larger=False, no_latency_tiebreak=False,
            smallest=False, ignore_latency=False):
    def ok(value, limit, upper):
        if limit is None:
            if not none_as_zero:
                return True
            limit = 0
        if strict:
            return value < limit if upper else value > limit
        return value <= limit if upper else value >= limit

    fits = [(i, c) for i, c in enumerate(candidates)
            if ok(c["size_bytes"], max_size_bytes, True)
            and (ignore_latency or ok(c["latency_ms"], max_latency_ms, True))
            and ok(c["accuracy"], min_accuracy, False)]
    if not fits:
        return None
    if smallest:
        return min(fits, key=lambda ic: (ic[1]["size_bytes"], ic[0]))[1]["name"]
    sign = -1 if larger else 1
    return min(fits, key=lambda ic: (-ic[1]["accuracy"], sign * ic[1]["size_bytes"],
                                     0 if no_latency_tiebreak else ic[1]["latency_ms"],
                                     ic[0]))[1]["name"]


def _first_max(candidates, max_size_bytes=None, max_latency_ms=None, min_accuracy=None):
    fits = [c for c in candidates if (max_size_bytes is None or c["size_bytes"] <= max_size_bytes)
            and (max_latency_ms is None or c["latency_ms"] <= max_latency_ms)
            and (min_accuracy is None or c["accuracy"] >= min_accuracy)]
    return max(fits, key=lambda c: c["accuracy"])["name"] if fits else None


def _empty_string(*args, **kwargs):
    return lt.select_model(*args, **kwargs) or ""


SELECT_MISTAKES = {
    "none-as-zero": lambda *a, **k: _select(*a, **k, none_as_zero=True),
    "exclusive-limits": lambda *a, **k: _select(*a, **k, strict=True),
    "ties-to-larger": lambda *a, **k: _select(*a, **k, larger=True),
    "no-latency-tiebreak": lambda *a, **k: _select(*a, **k, no_latency_tiebreak=True),
    "smallest-not-most-accurate": lambda *a, **k: _select(*a, **k, smallest=True),
    "latency-ignored": lambda *a, **k: _select(*a, **k, ignore_latency=True),
    "first-max-no-tiebreak": _first_max,
    "empty-string-for-none": _empty_string,
}


@pytest.mark.parametrize("name", SELECT_MISTAKES)
def test_select_model_mistakes_are_caught(name):
    _assert_caught("05.select_model", SELECT_MISTAKES[name])


def _claim(measured, low, high, *, exclusive=False, no_sort=False, lower_better=False):
    if not no_sort:
        low, high = min(low, high), max(low, high)
    inside = low < measured < high if exclusive else low <= measured <= high
    if inside:
        return "within"
    above = measured > high
    return ("worse" if above else "better") if lower_better else ("better" if above else "worse")


CLAIM_MISTAKES = {
    "exclusive-ends": lambda m, a, b: _claim(m, a, b, exclusive=True),
    "range-not-sorted": lambda m, a, b: _claim(m, a, b, no_sort=True),
    "lower-is-better": lambda m, a, b: _claim(m, a, b, lower_better=True),
    "capitalised": lambda m, a, b: lt.claim_verdict(m, a, b).capitalize(),
}


@pytest.mark.parametrize("name", CLAIM_MISTAKES)
def test_claim_verdict_mistakes_are_caught(name):
    _assert_caught("05.claim_verdict", CLAIM_MISTAKES[name])
