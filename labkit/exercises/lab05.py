"""Exercises of notebook 05_tradeoffs: the Pareto front, choosing under constraints, claims.

References live in :mod:`labkit.tradeoffs`. Inputs and outputs are plain data (lists of
numbers, dicts, strings, None). Each test starts with fixed cases that separate the typical
mistakes — strict instead of weak dominance, duplicates dropped, the front left in input
order, a None constraint read as 0, exclusive limits, ties to the larger model, a range given
high-to-low, "within" made exclusive — and goes on with random inputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labkit import tradeoffs as lt
from labkit.grading.compare import Mismatch, fmt
from labkit.grading.core import Exercise, Test, TestContext

# --------------------------------------------------------------------------------------
# 05.pareto_front
# --------------------------------------------------------------------------------------

_FRONT_HINT = ("j dominates i when cost[j] <= cost[i] and score[j] >= score[i], one of them "
               "strictly; keep the points nobody dominates, sorted by cost (equal costs by index).")


def _expect_front(ctx: TestContext, costs: list[float], scores: list[float], hint: str) -> None:
    got = ctx.student(list(costs), list(scores))
    if not isinstance(got, (list, tuple, np.ndarray)) or not all(
            isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in got):
        raise Mismatch("type", f"pareto_front should return a list of int indices, got {got!r:.80}",
                       "Collect the indices (ints) of the points on the front in a list.")
    ctx.expect_equal([int(i) for i in got], ctx.reference(costs, scores),
                     what=f"pareto_front({fmt(costs)}, {fmt(scores)})", hint=hint)


def _front_fixed(ctx: TestContext) -> None:
    _expect_front(ctx, [1.0], [0.5], "One point is its own front.")
    _expect_front(ctx, [3.0, 1.0, 2.0], [0.9, 0.5, 0.8],
                  "None dominates another here; return them in increasing cost, not input order.")
    _expect_front(ctx, [2.0, 2.0, 1.0], [0.7, 0.9, 0.6],
                  "Equal cost, lower score: point 0 is dominated (no worse on cost, strictly "
                  "worse on score). Strict dominance in both is not the rule.")
    _expect_front(ctx, [1.0, 2.0, 3.0], [0.8, 0.8, 0.9],
                  "Equal score, higher cost: point 1 is dominated by point 0.")
    _expect_front(ctx, [1.0, 1.0, 2.0], [0.5, 0.5, 0.4],
                  "Identical points do not dominate each other: keep both, by index.")


def _front_random(ctx: TestContext) -> None:
    for _ in range(15):
        n = int(ctx.rng.integers(2, 30))
        # few distinct values, so ties in cost and score are common
        costs = [float(v) for v in ctx.rng.integers(1, 8, n) * 10.0]
        scores = [float(v) for v in ctx.rng.integers(80, 90, n) / 100]
        _expect_front(ctx, costs, scores, _FRONT_HINT)


# --------------------------------------------------------------------------------------
# 05.select_model
# --------------------------------------------------------------------------------------

def _cand(name: str, size: int, latency: float, accuracy: float) -> dict[str, Any]:
    return {"name": name, "size_bytes": size, "latency_ms": latency, "accuracy": accuracy}


_POOL = [_cand("w16 float32", 400_000, 1.2, 0.97), _cand("w16 int8", 100_000, 0.5, 0.97),
         _cand("w8 int8", 30_000, 0.2, 0.95), _cand("w4 int8", 9_000, 0.1, 0.90)]


def _expect_choice(ctx: TestContext, candidates: list[dict[str, Any]], limits: dict[str, Any],
                   hint: str) -> None:
    shown = ", ".join(f"{k}={fmt(v)}" for k, v in limits.items())
    names = [c["name"] for c in candidates]
    ctx.expect_equal(ctx.student([dict(c) for c in candidates], **limits),
                     ctx.reference(candidates, **limits),
                     what=f"select_model({names}, {shown})".replace(", )", ")"), hint=hint)


def _select_fixed(ctx: TestContext) -> None:
    _expect_choice(ctx, _POOL, {}, "No constraint given (all None): every candidate fits. "
                   "Both 97 % models tie: the smaller file wins.")
    _expect_choice(ctx, _POOL, {"max_size_bytes": 30_000},
                   "The limits are inclusive: a 30,000-byte model fits max_size_bytes=30000.")
    _expect_choice(ctx, _POOL, {"max_latency_ms": 0.1, "max_size_bytes": None},
                   "max_latency_ms=0.1 keeps only the 0.1 ms model; a None limit is not a limit "
                   "of 0.")
    _expect_choice(ctx, _POOL, {"min_accuracy": 0.96, "max_latency_ms": 1.5},
                   "Two models tie at 97 %: ties go to the smaller file.")
    _expect_choice(ctx, _POOL, {"max_size_bytes": 5_000}, "Nothing fits: return None.")
    _expect_choice(ctx, [_cand("a", 500, 0.3, 0.9), _cand("b", 500, 0.2, 0.9),
                         _cand("c", 900, 0.1, 0.9)], {},
                   "Same accuracy and size: then the lower latency wins.")


def _select_random(ctx: TestContext) -> None:
    hint = ("Keep the candidates that meet every given limit (inclusive; None means no limit), "
            "then the highest accuracy; ties to the smaller size_bytes, then the lower latency.")
    for _ in range(10):
        n = int(ctx.rng.integers(1, 12))
        candidates = [_cand(f"m{i}", int(ctx.rng.integers(1, 6)) * 10_000,
                            float(ctx.rng.integers(1, 6)) / 10, float(ctx.rng.integers(85, 90)) / 100)
                      for i in range(n)]
        limits = {k: (None if ctx.rng.random() < 0.4 else v) for k, v in (
            ("max_size_bytes", int(ctx.rng.integers(1, 6)) * 10_000),
            ("max_latency_ms", float(ctx.rng.integers(1, 6)) / 10),
            ("min_accuracy", float(ctx.rng.integers(85, 90)) / 100))}
        _expect_choice(ctx, candidates, limits, hint)


# --------------------------------------------------------------------------------------
# 05.claim_verdict
# --------------------------------------------------------------------------------------

_CLAIM_HINT = ("Higher is better: above the range is 'better', below it 'worse', inside it "
               "(ends included) 'within'.")


def _expect_claim(ctx: TestContext, args: tuple[float, float, float], hint: str) -> None:
    ctx.expect_equal(ctx.student(*args), ctx.reference(*args),
                     what=f"claim_verdict{fmt(args)}", hint=hint)


def _claim_fixed(ctx: TestContext) -> None:
    _expect_claim(ctx, (3.5, 3.0, 4.0), _CLAIM_HINT)
    _expect_claim(ctx, (1.9, 3.0, 4.0), "A speed-up of 1.9× is below a claimed 3–4×: 'worse'.")
    _expect_claim(ctx, (5.0, 3.0, 4.0), "A speed-up of 5× is above a claimed 3–4×: 'better'.")
    _expect_claim(ctx, (3.0, 3.0, 4.0), "The ends of the range count as 'within'.")
    _expect_claim(ctx, (4.0, 3.0, 4.0), "The ends of the range count as 'within'.")
    _expect_claim(ctx, (-0.5, -5.0, -1.0), "An accuracy change of −0.5 points against a claimed "
                  "cost of 1–5 points (−5 to −1): less loss is better.")
    _expect_claim(ctx, (-0.5, -1.0, -5.0), "The range may come high-to-low: sort its ends first.")
    _expect_claim(ctx, (-3.0, -1.0, -5.0), "The range may come high-to-low: sort its ends first.")


def _claim_random(ctx: TestContext) -> None:
    for _ in range(20):
        a, b = (float(v) for v in ctx.rng.integers(-10, 11, 2) / 2)
        measured = float(ctx.rng.integers(-12, 13) / 2)
        if ctx.rng.random() < 0.2:
            measured = a
        _expect_claim(ctx, (measured, a, b), _CLAIM_HINT + " The ends may come in either order.")


# --------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------

EXERCISES = (
    Exercise(
        id="05.pareto_front",
        title="The Pareto front of cost against score",
        name="pareto_front",
        reference=lt.pareto_front,
        tests=(Test("fixed cases: ties, duplicates, order", 2, _front_fixed),
               Test("random points with many ties", 1, _front_random)),
        hint=_FRONT_HINT,
    ),
    Exercise(
        id="05.select_model",
        title="The most accurate model under constraints",
        name="select_model",
        reference=lt.select_model,
        tests=(Test("fixed cases: None limits, inclusive limits, ties", 2, _select_fixed),
               Test("random candidates and limits", 1, _select_random)),
        hint="Filter by every given limit (inclusive), then the highest accuracy, ties to the "
             "smaller file.",
    ),
    Exercise(
        id="05.claim_verdict",
        title="A measurement against a claimed range",
        name="claim_verdict",
        reference=lt.claim_verdict,
        tests=(Test("fixed cases: ends, direction, order", 1, _claim_fixed),
               Test("random ranges", 1, _claim_random)),
        hint=_CLAIM_HINT,
    ),
)
