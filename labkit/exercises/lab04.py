"""Exercises of notebook 04_compression: weight sharing, entropy, Huffman, distillation, low rank.

References live in :mod:`labkit.compression`. Every input and output is plain data (numpy
arrays, numbers, dicts), so the grader can call the student's function in a sandbox. Each
exercise starts with fixed cases that separate the typical mistakes — a random instead of
a linear initialisation (``iters=0`` returns the initialisation itself), entropy in nats,
Shannon's ``ceil(-log2 p)`` lengths instead of Huffman's, the KL divergence reversed, the
T² factor forgotten, columns dropped instead of an SVD — then goes on with random inputs.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from labkit import compression as lc
from labkit.grading.compare import Mismatch, fmt
from labkit.grading.core import Exercise, Test, TestContext


def _pair(got: Any, what: str, names: str) -> Sequence[Any]:
    if got is None:
        raise Mismatch("type", f"{what} returned None; expected a tuple {names} — did you "
                       "forget `return`?")
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise Mismatch("type", f"{what} returned {type(got).__name__}; expected a tuple {names}",
                       f"End with `return {names[1:-1]}`.")
    return got


# --------------------------------------------------------------------------------------
# 04.kmeans_codebook
# --------------------------------------------------------------------------------------

_KMEANS_HINT = ("Start from np.linspace(w.min(), w.max(), k); each step assigns every weight to "
                "its nearest centroid (np.argmin of the distances) and moves each centroid to "
                "the mean of its weights; finally assign again and reshape the indices to w.shape.")


def _expect_kmeans(ctx: TestContext, w: np.ndarray, k: int, iters: int | None,
                   hint: str = _KMEANS_HINT) -> None:
    args = (w.copy(), k) if iters is None else (w.copy(), k, iters)
    shown = f"kmeans_codebook(w of shape {w.shape}, k={k}" + (
        ")" if iters is None else f", iters={iters})")
    got = _pair(ctx.student(*args), shown, "(codebook, indices)")
    codebook, indices = ctx.reference(w, k) if iters is None else ctx.reference(w, k, iters)
    ctx.expect_array(got[0], codebook, what=f"the codebook of {shown}", rtol=1e-6, atol=1e-9,
                     hint=hint)
    ctx.expect_array(got[1], indices, what=f"the indices of {shown}", rtol=0, atol=0, kind="iu",
                     hint="indices must have w's shape (reshape them) and point at the nearest "
                          "centroid of the returned codebook. " + hint)


def _kmeans_initialisation(ctx: TestContext) -> None:
    w = ctx.rng.normal(0, 0.1, size=(6, 9))
    _expect_kmeans(ctx, w, 5, 0, "With iters=0 the codebook is the initialisation itself: k "
                   "values spaced linearly from w.min() to w.max() (np.linspace), not random "
                   "weights or k-means++.")
    _expect_kmeans(ctx, w, 4, 1, "One step from the linear initialisation: assign, then move "
                   "each centroid to the mean of its weights.")


def _kmeans_empty_cluster(ctx: TestContext) -> None:
    low = ctx.rng.normal(0.0, 0.01, size=20)
    high = ctx.rng.normal(1.0, 0.01, size=20)
    w = np.concatenate([low, high]).reshape(5, 8)
    _expect_kmeans(ctx, w, 3, 5, "The middle centroid gets no weight here: a centroid with no "
                   "weights stays where it is (no NaN, no new random position).")


def _kmeans_random(ctx: TestContext) -> None:
    for shape, k in (((3, 3, 4, 8), 2), ((40, 10), 8), ((3, 3, 8, 16), 16)):
        _expect_kmeans(ctx, ctx.rng.normal(0, 0.05, size=shape), k, None,
                       "With the default iters=20. " + _KMEANS_HINT)
    _expect_kmeans(ctx, ctx.rng.laplace(0, 0.05, size=(300,)), int(ctx.rng.integers(3, 12)),
                   int(ctx.rng.integers(2, 30)))


# --------------------------------------------------------------------------------------
# 04.entropy_bits
# --------------------------------------------------------------------------------------

_ENTROPY_HINT = ("H = -sum(p * log2(p)) over the distinct values, with p = count / total: "
                 "bits (log2), not nats (np.log).")


def _expect_entropy(ctx: TestContext, values: np.ndarray, hint: str = _ENTROPY_HINT) -> None:
    what = f"entropy_bits({fmt(values) if values.size <= 8 else f'array of shape {values.shape}'})"
    ctx.expect_close(ctx.student(values.copy()), ctx.reference(values), rtol=1e-9, atol=1e-12,
                     what=what, hint=hint)


def _entropy_fixed(ctx: TestContext) -> None:
    _expect_entropy(ctx, np.array([0, 0, 1, 1]), "Two equally likely symbols carry exactly 1 bit: "
                    "use log2, not the natural logarithm.")
    _expect_entropy(ctx, np.array([0, 0, 0, 1]))
    _expect_entropy(ctx, np.array([3, 3, 3, 3]), "One symbol only: nothing to learn, 0 bits.")
    _expect_entropy(ctx, np.arange(8).repeat(3), "Eight equally likely symbols: 3 bits.")


def _entropy_sparse_int8(ctx: TestContext) -> None:
    hint = ("Count every distinct value (np.unique(values, return_counts=True)) over all the "
            "values of the array, whatever its shape. " + _ENTROPY_HINT)
    for sparsity in (0.5, 0.9, float(ctx.rng.uniform(0.6, 0.99))):
        size = (int(ctx.rng.integers(10, 40)), int(ctx.rng.integers(10, 40)))
        values = ctx.rng.integers(-8, 8, size=size).astype(np.int8)
        values[ctx.rng.random(size) < sparsity] = 0
        _expect_entropy(ctx, values, hint)


def _entropy_floats(ctx: TestContext) -> None:
    centroids = ctx.rng.normal(0, 0.1, size=int(ctx.rng.integers(3, 17)))
    _expect_entropy(ctx, ctx.rng.choice(centroids, size=500, p=None))
    _expect_entropy(ctx, np.round(ctx.rng.normal(0, 2, size=1000)))


# --------------------------------------------------------------------------------------
# 04.huffman_code_lengths
# --------------------------------------------------------------------------------------

_HUFFMAN_HINT = ("Huffman: put every symbol in a heap by count, repeatedly merge the two "
                 "smallest, and add one bit to every symbol inside each merged pair.")


def _expect_huffman(ctx: TestContext, counts: dict[Any, int], hint: str = _HUFFMAN_HINT) -> None:
    what = f"huffman_code_lengths({fmt(counts)})"
    got = ctx.student(dict(counts))
    expected = ctx.reference(counts)
    if got is None:
        raise Mismatch("type", f"{what} returned None; expected a dict symbol -> length — did "
                       "you forget `return`?")
    if not isinstance(got, dict):
        raise Mismatch("type", f"{what} returned {type(got).__name__}; expected a dict "
                       "symbol -> code length", "Return {symbol: length for ...}.")
    if set(got) != set(counts):
        raise Mismatch("values", f"{what} has keys {fmt(sorted(got, key=str))}; expected the "
                       f"symbols {fmt(sorted(counts, key=str))}", "One entry per symbol of counts.")
    lengths = {}
    for symbol, n in got.items():
        if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral) or n < 1:
            raise Mismatch("type", f"{what}[{symbol!r}] is {fmt(n)}; expected a whole number "
                           "of bits >= 1", hint)
        lengths[symbol] = int(n)
    if len(counts) == 1 and lengths != expected:
        raise Mismatch("values", f"{what} is {fmt(lengths)}; expected {fmt(expected)}",
                       "A single symbol still needs one bit per occurrence: length 1.")
    kraft = sum(2.0 ** -n for n in lengths.values())
    if kraft > 1 + 1e-12:
        raise Mismatch("values", f"{what}: the lengths {fmt(lengths)} have Kraft sum "
                       f"sum(2**-length) = {kraft:.4g} > 1, so no prefix code has them", hint)
    cost = sum(counts[s] * n for s, n in lengths.items())
    best = sum(counts[s] * n for s, n in expected.items())
    if cost != best:
        raise Mismatch("values", f"{what} codes the message in {cost:,} bits; an optimal prefix "
                       f"code needs {best:,}", "ceil(-log2 p) (Shannon's lengths) is not optimal. "
                       + hint)


def _huffman_fixed(ctx: TestContext) -> None:
    _expect_huffman(ctx, {"a": 5, "b": 2, "c": 1})
    _expect_huffman(ctx, {0: 8, 1: 4, 2: 2, 3: 1, -1: 1})
    _expect_huffman(ctx, {0: 3, 1: 3, 2: 3, 3: 3})
    _expect_huffman(ctx, {0: 90, 7: 10})
    _expect_huffman(ctx, {5: 42})


def _huffman_random(ctx: TestContext) -> None:
    for _ in range(4):
        n = int(ctx.rng.integers(3, 40))
        symbols = ctx.rng.choice(np.arange(-128, 128), size=n, replace=False).tolist()
        counts = ctx.rng.geometric(0.05, size=n).tolist()
        _expect_huffman(ctx, dict(zip(symbols, counts)))
    sparse = {0: int(ctx.rng.integers(5000, 9000)),
              **{int(s): int(ctx.rng.integers(1, 200)) for s in range(1, 16)}}
    _expect_huffman(ctx, sparse)


# --------------------------------------------------------------------------------------
# 04.distillation_loss
# --------------------------------------------------------------------------------------

_DISTILL_HINT = ("alpha * CE(labels, softmax(s)) + (1 - alpha) * T**2 * KL(softmax(t/T) || "
                 "softmax(s/T)), natural logs, averaged over the batch; KL(p || q) = "
                 "sum p * (log p - log q) with p the teacher's soft targets.")


def _batch(ctx: TestContext, n: int, classes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    labels = ctx.rng.integers(0, classes, size=n)
    student = ctx.rng.normal(0, 2, size=(n, classes))
    teacher = ctx.rng.normal(0, 3, size=(n, classes))
    teacher[np.arange(n), labels] += 4.0  # a teacher that is mostly right
    return labels, student, teacher


def _expect_distill(ctx: TestContext, args: tuple, hint: str = _DISTILL_HINT) -> None:
    labels, s, t, temperature, alpha = args
    what = (f"distillation_loss(batch of {len(labels)}, {s.shape[1]} classes, "
            f"temperature={fmt(temperature)}, alpha={fmt(alpha)})")
    got = ctx.student(labels.copy(), s.copy(), t.copy(), temperature, alpha)
    ctx.expect_close(got, ctx.reference(*args), rtol=1e-6, atol=1e-9, what=what, hint=hint)


def _distill_hard(ctx: TestContext) -> None:
    labels, s, t = _batch(ctx, 16, 10)
    _expect_distill(ctx, (labels, s, t, 1.0, 1.0), "alpha = 1 leaves the cross-entropy with "
                    "the labels: -log softmax(s)[label] (natural log), averaged over the batch.")
    _expect_distill(ctx, (labels, s, t, 3.0, 1.0), "The hard-label term uses the student's "
                    "logits at temperature 1, whatever T is.")


def _distill_soft(ctx: TestContext) -> None:
    labels, s, t = _batch(ctx, 12, 10)
    _expect_distill(ctx, (labels, s, t, 4.0, 0.0), "alpha = 0 leaves T**2 * KL(teacher || "
                    "student) at temperature T: the teacher's probabilities weight the log-ratio "
                    "(KL is not symmetric), and do not forget the factor T**2.")
    _expect_distill(ctx, (labels, s, t, 1.0, 0.0))


def _distill_random(ctx: TestContext) -> None:
    for _ in range(4):
        args = (*_batch(ctx, int(ctx.rng.integers(2, 40)), int(ctx.rng.integers(2, 12))),
                float(ctx.rng.uniform(1.5, 8.0)), float(ctx.rng.uniform(0.05, 0.45)))
        _expect_distill(ctx, args)


# --------------------------------------------------------------------------------------
# 04.low_rank
# --------------------------------------------------------------------------------------

_RANK_HINT = ("np.linalg.svd(w, full_matrices=False) gives U, S, Vt; keep the rank largest "
              "singular values: a = U[:, :r] * S[:r] and b = Vt[:r]. Keeping columns or rows of "
              "w is a rank-r matrix too, but not the closest one.")


def _expect_low_rank(ctx: TestContext, w: np.ndarray, rank: int, hint: str = _RANK_HINT) -> None:
    what = f"low_rank(w of shape {w.shape}, rank={rank})"
    got = _pair(ctx.student(w.copy(), rank), what, "(a, b)")
    a_ref, b_ref = ctx.reference(w, rank)
    for got_part, ref, name, rule in ((got[0], a_ref, "a", "(w.shape[0], rank)"),
                                      (got[1], b_ref, "b", "(rank, w.shape[1])")):
        try:
            arr = np.asarray(got_part, dtype=np.float64)
        except (TypeError, ValueError):
            raise Mismatch("type", f"{name} of {what} is not a numeric array") from None
        if arr.shape != ref.shape:
            raise Mismatch("shape", f"{name} of {what} has shape {arr.shape}; expected "
                           f"{ref.shape}", f"{name} has shape {rule}.")
    scale = float(np.linalg.norm(w))
    ctx.expect_array(np.asarray(got[0], dtype=np.float64) @ np.asarray(got[1], dtype=np.float64),
                     a_ref @ b_ref, what=f"a @ b of {what}", rtol=1e-6, atol=1e-9 * scale,
                     hint=hint)


def _low_rank_fixed(ctx: TestContext) -> None:
    u, _ = np.linalg.qr(ctx.rng.normal(size=(8, 8)))
    v, _ = np.linalg.qr(ctx.rng.normal(size=(6, 6)))
    w = (u[:, :6] * np.array([10.0, 5.0, 2.0, 1.0, 0.5, 0.1])) @ v.T
    _expect_low_rank(ctx, w, 2)
    _expect_low_rank(ctx, w, 6, "At the full rank, a @ b is w itself.")


def _low_rank_random(ctx: TestContext) -> None:
    for m, n in ((50, 10), (12, 40), (33, 33)):
        _expect_low_rank(ctx, ctx.rng.normal(0, 0.1, size=(m, n)),
                         int(ctx.rng.integers(1, min(m, n))))


# --------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------

EXERCISES = (
    Exercise(
        id="04.kmeans_codebook",
        title="Weight sharing: a k-means codebook",
        name="kmeans_codebook",
        reference=lc.kmeans_codebook,
        tests=(
            Test("linear initialisation (iters=0 and 1)", 1, _kmeans_initialisation),
            Test("a cluster with no weights", 1, _kmeans_empty_cluster),
            Test("random kernels, default iters", 1, _kmeans_random),
        ),
        hint=_KMEANS_HINT,
    ),
    Exercise(
        id="04.entropy_bits",
        title="Shannon entropy in bits per symbol",
        name="entropy_bits",
        reference=lc.entropy_bits,
        tests=(
            Test("small distributions", 1, _entropy_fixed),
            Test("sparse int8 weights", 1, _entropy_sparse_int8),
            Test("float values", 1, _entropy_floats),
        ),
        hint=_ENTROPY_HINT,
    ),
    Exercise(
        id="04.huffman_code_lengths",
        title="Huffman code lengths",
        name="huffman_code_lengths",
        reference=lc.huffman_code_lengths,
        tests=(
            Test("small alphabets, one symbol", 1, _huffman_fixed),
            Test("random alphabets", 2, _huffman_random),
        ),
        hint=_HUFFMAN_HINT,
    ),
    Exercise(
        id="04.distillation_loss",
        title="The knowledge-distillation loss",
        name="distillation_loss",
        reference=lc.distillation_loss,
        tests=(
            Test("the hard-label term (alpha = 1)", 1, _distill_hard),
            Test("the soft term (alpha = 0)", 1, _distill_soft),
            Test("random batches", 1, _distill_random),
        ),
        hint=_DISTILL_HINT,
    ),
    Exercise(
        id="04.low_rank",
        title="Low-rank factors by truncated SVD",
        name="low_rank",
        reference=lc.low_rank,
        tests=(
            Test("known singular values, full rank", 1, _low_rank_fixed),
            Test("random matrices", 1, _low_rank_random),
        ),
        hint=_RANK_HINT,
    ),
)
