"""labkit.tradeoffs (notebook 05) and zoo.artifact: the pure references on edge cases and
random inputs, the verdict rules, bad inputs named, and the cache of derived artifacts."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from labkit import stats, zoo
from labkit import tradeoffs as lt


def _brute_front(costs, scores):
    n = len(costs)
    return sorted((i for i in range(n) if not any(
        costs[j] <= costs[i] and scores[j] >= scores[i] and (costs[j] < costs[i] or scores[j] > scores[i])
        for j in range(n))), key=lambda i: (costs[i], i))


def test_pareto_front_edge_cases():
    assert lt.pareto_front([1.0], [0.5]) == [0]
    assert lt.pareto_front([3, 1, 2], [0.9, 0.5, 0.8]) == [1, 2, 0]  # sorted by cost
    assert lt.pareto_front([2, 2, 1], [0.7, 0.9, 0.6]) == [2, 1]  # equal cost, lower score out
    assert lt.pareto_front([1, 2, 3], [0.8, 0.8, 0.9]) == [0, 2]  # equal score, higher cost out
    assert lt.pareto_front([1, 1, 2], [0.5, 0.5, 0.4]) == [0, 1]  # duplicates both stay
    assert lt.pareto_front(np.array([5, 4, 3]), np.array([1, 2, 3])) == [2]


def test_pareto_front_matches_brute_force_on_random_ties():
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(1, 25))
        costs, scores = list(rng.integers(1, 6, n)), list(rng.integers(1, 6, n))
        assert lt.pareto_front(costs, scores) == _brute_front(costs, scores)


@pytest.mark.parametrize("costs, scores, match", [
    ([1, 2], [0.5], "same length"), ([], [], "costs"), ([[1, 2]], [[1, 2]], "costs"),
    ([1, float("nan")], [1, 2], "costs"), ([1, 2], ["a", "b"], "scores"), (None, [1], "costs")])
def test_pareto_front_bad_inputs_are_named(costs, scores, match):
    with pytest.raises((TypeError, ValueError), match=match):
        lt.pareto_front(costs, scores)


C = [{"name": "big", "size_bytes": 900, "latency_ms": 2.0, "accuracy": 0.97},
     {"name": "twin", "size_bytes": 400, "latency_ms": 3.0, "accuracy": 0.97},
     {"name": "small", "size_bytes": 100, "latency_ms": 0.5, "accuracy": 0.95}]


def test_select_model_rules():
    assert lt.select_model(C) == "twin"  # tie on accuracy: the smaller file
    assert lt.select_model(C, max_size_bytes=400) == "twin"  # inclusive
    assert lt.select_model(C, max_size_bytes=399) == "small"
    assert lt.select_model(C, max_latency_ms=2.0) == "big"
    assert lt.select_model(C, max_latency_ms=2.0, max_size_bytes=None, min_accuracy=None) == "big"
    assert lt.select_model(C, min_accuracy=0.97, max_latency_ms=0.5) is None
    assert lt.select_model([]) is None
    same = [dict(C[0], name="slow", latency_ms=5.0), dict(C[0], name="fast", latency_ms=1.0)]
    assert lt.select_model(same) == "fast"
    assert lt.select_model([dict(C[0], name="a"), dict(C[0], name="b")]) == "a"


@pytest.mark.parametrize("kwargs, match", [
    ({"candidates": "models"}, "candidates"), ({"candidates": [{"name": "x"}]}, r"candidates\[0\]"),
    ({"candidates": C, "max_size_bytes": -1}, "max_size_bytes"),
    ({"candidates": C, "max_latency_ms": "fast"}, "max_latency_ms"),
    ({"candidates": C, "min_accuracy": float("nan")}, "min_accuracy")])
def test_select_model_bad_inputs_are_named(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        lt.select_model(**kwargs)


def test_claim_verdict_rules():
    assert lt.claim_verdict(3.0, 3, 4) == lt.claim_verdict(4.0, 3, 4) == "within"
    assert lt.claim_verdict(4.01, 3, 4) == "better" and lt.claim_verdict(2.99, 3, 4) == "worse"
    assert lt.claim_verdict(-0.5, -5, -1) == lt.claim_verdict(-0.5, -1, -5) == "better"
    assert lt.claim_verdict(-3, -1, -5) == "within" and lt.claim_verdict(-6, -1, -5) == "worse"
    for m, a, b in itertools.product(range(-3, 4), repeat=3):
        assert lt.claim_verdict(m, a, b) == lt.claim_verdict(m, b, a)


@pytest.mark.parametrize("args, match", [(("1", 0, 2), "measured"), ((1, None, 2), "claimed_low"),
                                         ((1, 0, float("inf")), "claimed_high")])
def test_claim_verdict_bad_inputs_are_named(args, match):
    with pytest.raises((TypeError, ValueError), match=match):
        lt.claim_verdict(*args)


def _comparison(n, only_a, only_b):
    a, b = np.ones(n, bool), np.ones(n, bool)
    a[:only_b] = False  # b right alone
    b[only_b:only_b + only_a] = False  # a right alone
    return stats.compare(a, b)


def test_accuracy_claim_verdicts():
    n = 10_000
    assert lt.accuracy_claim(_comparison(n, 0, 300), 1, 5) == "holds"  # loses 3 points
    assert lt.accuracy_claim(_comparison(n, 0, 0), 1, 5) == "holds with caveat"  # loses nothing
    assert lt.accuracy_claim(_comparison(n, 0, 900), 1, 5) == "does not hold here"  # loses 9
    assert lt.accuracy_claim(_comparison(n, 0, 100), 1, 5).startswith("indistinguishable on 10,000")
    with pytest.raises(ValueError, match="high_points"):
        lt.accuracy_claim(_comparison(n, 0, 0), 5, 1)


def test_speed_claim_verdicts():
    assert lt.speed_claim([3.0, 4.0], 3, 4) == "holds"
    assert lt.speed_claim([1.5, 3.5], 3, 4) == "holds with caveat"
    assert lt.speed_claim([5.0], 3, 4) == "holds with caveat"
    assert lt.speed_claim([1.1, 2.9], 3, 4) == "does not hold here"


def test_artifact_caches_bytes_by_name_and_key(tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path))
    calls = []

    def make():
        calls.append(1)
        return b"model"

    assert zoo.artifact("a", {"k": 1}, make) == (b"model", False)
    assert zoo.artifact("a", {"k": 1}, make) == (b"model", True)
    assert zoo.artifact("a", {"k": 2}, make) == (b"model", False)
    assert len(calls) == 2
    assert not list((tmp_path / "zoo").glob(".*"))  # no temporary file left behind
    with pytest.raises(TypeError, match="make must return bytes"):
        zoo.artifact("b", {}, lambda: "text")
    with pytest.raises(ValueError, match="name"):
        zoo.artifact("a/b", {}, make)
    with pytest.raises(TypeError, match="key"):
        zoo.artifact("a", [1], make)
    with pytest.raises(TypeError, match="make"):
        zoo.artifact("a", {}, b"bytes")


def test_build_sweep_rejects_an_unknown_family():
    with pytest.raises(ValueError, match="family"):
        lt.build_sweep("imagenet")


def test_cold_build_seconds_is_none_on_an_empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path))
    assert lt.cold_build_seconds() is None


@pytest.mark.slow
def test_warm_sweep_measures_every_variant():
    from labkit.data import load_digits

    sweep = lt.build_sweep("digits")
    assert len(sweep.models) == 3 * len(lt.TECHNIQUES) + 1
    ds = load_digits(32)
    variants, rows = lt.measure(sweep, ds.x_test[:50], ds.y_test[:50], runs=5, rounds=1)
    by_name = {r["name"]: r for r in rows}
    assert by_name["w16 float16"]["arena_bytes"] is None  # TFLite Micro has no float16 kernels
    assert by_name["w16 int8"]["arena_bytes"] > 0
    assert by_name["w16 int8"]["size_bytes"] == by_name["w16 prune90"]["size_bytes"]
    assert by_name["w16 prune90"]["gzip_bytes"] < by_name["w16 int8"]["gzip_bytes"]
    t = lt.throughput(sweep.models["w4 int8"], batch=4, threads=1, runs=3)
    assert t["batch"] == 4 and t["samples_per_s"] > 0
    with pytest.raises(ValueError, match="batch"):
        lt.throughput(sweep.models["w4 int8"], batch=0, threads=1)
