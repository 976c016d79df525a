"""Exercises of notebook 03_pruning: magnitude pruning by hand, a global threshold,
removing whole filters, and tfmot's ``prune_low_magnitude`` written by the student.

References live in :mod:`labkit.pruning`. Inputs are random floats without ties in
magnitude, so one answer is right; where ``sparsity * size`` sits on a .5 (where rounding
conventions differ) either neighbouring count is accepted. Answers are checked by their
properties (how many weights were removed, that none kept is smaller than one removed),
which gives messages that point at the mistake.

``03.prune_with_tfmot`` returns a Keras model (the grader's sandbox sends it back as the
bytes of its ``.keras`` file): the judge fine-tunes it itself with ``UpdatePruningStep``,
strips it, and measures the sparsity reached and the accuracy on held-out digits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from labkit import pruning as lp
from labkit.exercises._lab03_tfmot import (
    _TF_HINT,
    _tfmot_accuracy,
    _tfmot_copy,
    _tfmot_layers,
    _tfmot_schedule,
)
from labkit.grading.compare import Mismatch, as_number, fmt
from labkit.grading.core import Exercise, Test, TestContext

# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def _tuple(got: Any, what: str, names: str, size: int) -> Sequence[Any]:
    if got is None:
        raise Mismatch("type", f"{what} returned None; expected a tuple {names} — did you "
                       "forget `return`?")
    if not isinstance(got, (tuple, list)) or len(got) != size:
        raise Mismatch("type", f"{what} returned {type(got).__name__}; expected a tuple {names}",
                       f"End with `return {names[1:-1]}`.")
    return got


def _expect_shape(ctx: TestContext, got: Any, shape: tuple[int, ...], what: str,
                  hint: str) -> None:
    """Staged checks up to the shape only: None, then a numeric array, then its shape."""
    if got is None:
        raise Mismatch("type", f"{what} is None; expected an array — did you forget `return`?")
    try:
        arr = np.asarray(got)
    except (TypeError, ValueError) as exc:
        raise Mismatch("type", f"{what} cannot be read as an array ({exc})") from exc
    if arr.dtype.kind not in "biuf":
        raise Mismatch("type", f"{what} is not a numeric array (got {type(got).__name__})", hint)
    if arr.shape != shape:
        raise Mismatch("shape", f"{what} has shape {arr.shape}; expected {shape}", hint)


def _weights(ctx: TestContext, shape: tuple[int, ...], spread: float = 1.0) -> np.ndarray:
    """Random float32-representable weights of mixed signs, no two with equal magnitude."""
    while True:
        w = (ctx.rng.normal(0.0, spread, size=shape)).astype(np.float32).astype(np.float64)
        if len(np.unique(np.abs(w))) == w.size and np.all(w != 0):
            return w


def _counts(sparsity: float, size: int) -> set[int]:
    """Accepted numbers of removed weights: round(s * size), or both neighbours on a .5."""
    exact = sparsity * size
    if abs(exact - np.floor(exact) - 0.5) < 1e-9:
        return {int(np.floor(exact)), int(np.ceil(exact))}
    return {int(round(exact))}


# --------------------------------------------------------------------------------------
# 03.magnitude_prune
# --------------------------------------------------------------------------------------

_MP_HINT = ("Rank the weights by magnitude np.abs(w), remove the round(sparsity * w.size) "
            "smallest, and return (w with those set to 0, mask with 1 where kept).")


def _expect_pruned(ctx: TestContext, w: np.ndarray, sparsity: float) -> None:
    what = f"magnitude_prune(w of shape {w.shape}, {sparsity:g})"
    original = w.copy()
    w_pruned, mask = _tuple(ctx.student(w, sparsity), what, "(w_pruned, mask)", 2)
    if not np.array_equal(w, original):
        raise Mismatch("values", f"{what} changed the array w it was given",
                       "Work on a copy (np.where, w.copy(), w * mask): the caller's weights "
                       "must stay intact.")
    _expect_shape(ctx, mask, w.shape, f"the mask of {what}", _MP_HINT)
    _expect_shape(ctx, w_pruned, w.shape, f"w_pruned of {what}", _MP_HINT)
    mask = np.asarray(mask, dtype=np.float64)
    if not np.all((mask == 0) | (mask == 1)):
        raise Mismatch("values", f"the mask of {what} holds values other than 0 and 1: "
                       f"{fmt(np.unique(mask))}", "mask is 1 where a weight is kept, 0 where pruned.")
    removed = int(np.count_nonzero(mask == 0))
    accepted = _counts(sparsity, w.size)
    if removed not in accepted:
        k = min(accepted)
        flipped = " (is your mask 1 where pruned?)" if w.size - removed in accepted else ""
        raise Mismatch("values", f"{what} removed {removed} of {w.size} weights; expected "
                       f"round({sparsity:g} × {w.size}) = {k}{flipped}",
                       "Count with k = round(sparsity * w.size) and remove exactly k weights: "
                       "watch for int() truncation and for a threshold that also takes the "
                       "k+1-th weight.")
    kept, pruned = np.abs(w[mask == 1]), np.abs(w[mask == 0])
    if kept.size and pruned.size and kept.max() < pruned.min():
        zeros_where_kept = np.all(np.asarray(w_pruned, dtype=np.float64)[mask == 1] == 0)
        raise Mismatch("values", f"{what}: the mask keeps the {kept.size} smallest weights and "
                       "removes the largest",
                       "mask must be 1 where a weight is kept and 0 where it is pruned."
                       if zeros_where_kept else "Remove the smallest magnitudes, not the largest.")
    if kept.size and pruned.size and pruned.max() > kept.min():
        raise Mismatch("values", f"{what} removed a weight with |w| = {pruned.max():.4g} but kept "
                       f"one with |w| = {kept.min():.4g}",
                       "Prune the smallest magnitudes: sort np.abs(w), not w (a large negative "
                       "weight matters as much as a large positive one).")
    ctx.expect_array(w_pruned, np.where(mask == 1, w, 0.0), what=f"w_pruned of {what}",
                     kind="f", rtol=0, atol=0,
                     hint="w_pruned equals w where mask is 1 and 0 where it is 0.")


def _mp_small(ctx: TestContext) -> None:
    _expect_pruned(ctx, _weights(ctx, (10,)), 0.5)
    _expect_pruned(ctx, _weights(ctx, (4, 5)), 0.3)


def _mp_kernels(ctx: TestContext) -> None:
    for shape in [(3, 3, 4, 8), (16, 10), (7,), (1, 1, 3, 5)]:
        sparsity = float(np.round(ctx.rng.uniform(0.05, 0.95), 3))
        _expect_pruned(ctx, _weights(ctx, shape), sparsity)


def _mp_counts(ctx: TestContext) -> None:
    """Fixed counts where round, floor and ceil disagree (3.2 and 3.7 of 10), no weight
    removed, all but the largest removed, then a random size."""
    w = _weights(ctx, (10,))
    for sparsity in (0.32, 0.37, 0.0, 0.9):
        _expect_pruned(ctx, w, sparsity)
    size = int(ctx.rng.integers(11, 40))
    w = _weights(ctx, (size,))
    for sparsity in (0.0, (np.floor(0.37 * size) + 0.7) / size, (size - 1) / size):
        _expect_pruned(ctx, w, float(sparsity))


def _mp_signs_and_zero(ctx: TestContext) -> None:
    """Pairs of weights of equal magnitude and opposite sign, and an exact zero, which must
    be the first removed (k = 3 and 9 of 13 fall between pairs; 6.5 is a tie of rounding)."""
    magnitudes = np.sort(np.abs(_weights(ctx, (6,)))) + 0.05
    w = ctx.rng.permutation(np.concatenate([magnitudes, -magnitudes, [0.0]]))
    for sparsity in (0.25, 0.5, 0.7):
        _expect_pruned(ctx, w, sparsity)


# --------------------------------------------------------------------------------------
# 03.global_threshold
# --------------------------------------------------------------------------------------

_GT_HINT = ("Put the magnitudes of every layer in one array (np.abs, ravel, concatenate), sort "
            "them, and take the k-th smallest with k = round(sparsity * N) (0.0 when k = 0).")


def _expect_threshold(ctx: TestContext, weights: list[np.ndarray], sparsity: float) -> None:
    shapes = ", ".join(str(w.shape) for w in weights)
    what = f"global_threshold([arrays of shapes {shapes}], {sparsity:g})"
    got = as_number(ctx.student([w.copy() for w in weights], sparsity), what=what, hint=_GT_HINT)
    magnitudes = np.concatenate([np.abs(w).ravel() for w in weights])
    at_or_below = int(np.count_nonzero(magnitudes <= got))
    accepted = _counts(sparsity, magnitudes.size)
    if at_or_below not in accepted:
        k = min(accepted)
        raise Mismatch("values", f"{at_or_below} of the {magnitudes.size} weights have "
                       f"|w| <= {fmt(got)} (your threshold); expected round({sparsity:g} "
                       f"× {magnitudes.size}) = {k}",
                       _GT_HINT + " One threshold over all layers, not one per layer; "
                       "sparsity is a fraction, not a percentage.")


def _gt_two_layers(ctx: TestContext) -> None:
    _expect_threshold(ctx, [_weights(ctx, (3, 3, 2, 4)), _weights(ctx, (20, 5), 0.2)], 0.5)


def _gt_edges(ctx: TestContext) -> None:
    """Fixed counts: 3.2 and 3.7 of 10 (round, floor and ceil disagree), none (k = 0), and
    every weight (k = N: the largest magnitude); the second layer holds the small weights,
    so a threshold from the first layer alone is wrong."""
    layers = [_weights(ctx, (2, 2)), _weights(ctx, (3, 2), 0.1)]
    for sparsity in (0.32, 0.37, 0.0):
        _expect_threshold(ctx, layers, sparsity)
    _expect_threshold(ctx, [_weights(ctx, (4,)), _weights(ctx, (3,), 0.1)], 0.95)


def _gt_random(ctx: TestContext) -> None:
    for sparsity in (0.0, *np.round(ctx.rng.uniform(0.05, 0.97, size=4), 3)):
        count = int(ctx.rng.integers(2, 5))
        layers = [_weights(ctx, tuple(int(d) for d in ctx.rng.integers(1, 9, size=ndim)),
                           float(ctx.rng.uniform(0.05, 2.0)))
                  for ndim in ctx.rng.choice([1, 2, 4], size=count)]
        _expect_threshold(ctx, layers, float(sparsity))


# --------------------------------------------------------------------------------------
# 03.rank_filters_l1
# --------------------------------------------------------------------------------------

_RF_HINT = ("L1 norm of filter j: np.abs(kernel[..., j]).sum(), i.e. sum over axes (0, 1, 2); "
            "np.argsort gives the indices from the smallest norm to the largest.")


def _expect_ranking(ctx: TestContext, kernel: np.ndarray) -> None:
    what = f"rank_filters_l1(kernel of shape {kernel.shape})"
    got = ctx.student(kernel.copy())
    ctx.expect_array(got, ctx.reference(kernel), what=what, rtol=0, atol=0, kind="iu",
                     hint=_RF_HINT + " The first index is the weakest filter.")


def _rf_random(ctx: TestContext) -> None:
    for shape in [(3, 3, 4, 6), (3, 3, 16, 8)]:
        scales = ctx.rng.uniform(0.1, 2.0, size=shape[-1])
        _expect_ranking(ctx, _weights(ctx, shape) * scales)


def _rf_l1_not_l2(ctx: TestContext) -> None:
    """Spiky filters (one big weight) get the smaller L1 norms, flat ones (many small weights
    of both signs) the larger: ranking by L2, by max or by the signed sum puts them the
    other way round."""
    for shape in [(3, 3, 5, 7), (1, 1, 12, 9)]:
        kh, kw, c_in, c_out = shape
        kernel = _weights(ctx, shape, 1e-3)
        spiky = ctx.rng.permutation(c_out)[: c_out // 2]
        flat = np.setdiff1d(np.arange(c_out), spiky)
        norms = np.linspace(1.0, 3.0, c_out)
        for j, norm in zip(ctx.rng.permutation(spiky), norms[: len(spiky)]):
            kernel[0, 0, 0, j] = norm * ctx.rng.choice([-1.0, 1.0])
        for j, norm in zip(ctx.rng.permutation(flat), norms[len(spiky):]):
            signs = ctx.rng.choice([-1.0, 1.0], size=(kh, kw, c_in))
            kernel[..., j] += norm / (kh * kw * c_in) * signs
        _expect_ranking(ctx, kernel)


# --------------------------------------------------------------------------------------
# 03.prune_filters
# --------------------------------------------------------------------------------------

_PF_HINT = ("Filters are the last axis of kernel (and the entries of bias); the next layer "
            "reads them as its input channels, axis 2 of next_kernel.")


def _filters_case(ctx: TestContext, c_in: int, c_out: int, c_next: int, n_keep: int
                  ) -> tuple[np.ndarray, ...]:
    kernel = _weights(ctx, (3, 3, c_in, c_out))
    bias = _weights(ctx, (c_out,), 0.1)
    next_kernel = _weights(ctx, (3, 3, c_out, c_next))
    keep = np.sort(ctx.rng.choice(c_out, size=n_keep, replace=False)).astype(np.int64)
    return kernel, bias, next_kernel, keep


def _call_prune_filters(ctx: TestContext, case: tuple[np.ndarray, ...]) -> tuple[Any, str]:
    kernel, bias, next_kernel, keep = case
    what = (f"prune_filters(kernel {kernel.shape}, bias {bias.shape}, next_kernel "
            f"{next_kernel.shape}, keep={keep.tolist()})")
    got = ctx.student(kernel.copy(), bias.copy(), next_kernel.copy(), keep.copy())
    return _tuple(got, what, "(kernel, bias, next_kernel)", 3), what


def _pf_shapes(ctx: TestContext) -> None:
    case = _filters_case(ctx, 2, 8, 5, 3)
    got, what = _call_prune_filters(ctx, case)
    for name, value, expected in zip(("kernel", "bias", "next_kernel"), got, ctx.reference(*case)):
        _expect_shape(ctx, value, expected.shape, f"the {name} of {what}", _PF_HINT)


def _pf_values(ctx: TestContext) -> None:
    for c_in, c_out, c_next, n_keep in [(3, 6, 4, 4), (1, 16, 8, 9), (8, 8, 8, 5)]:
        case = _filters_case(ctx, c_in, c_out, c_next, n_keep)
        got, what = _call_prune_filters(ctx, case)
        for name, value, expected in zip(("kernel", "bias", "next_kernel"), got,
                                         ctx.reference(*case)):
            ctx.expect_array(value, expected, what=f"the {name} of {what}", kind="f",
                             rtol=0, atol=0, hint=_PF_HINT + " Keep the filters listed in keep.")


def _pf_edges(ctx: TestContext) -> None:
    for n_keep in (1, 6):  # one filter left; every filter kept
        case = _filters_case(ctx, 4, 6, 3, n_keep)
        got, what = _call_prune_filters(ctx, case)
        for name, value, expected in zip(("kernel", "bias", "next_kernel"), got,
                                         ctx.reference(*case)):
            ctx.expect_array(value, expected, what=f"the {name} of {what}", kind="f",
                             rtol=0, atol=0, hint=_PF_HINT)


EXERCISES = (
    Exercise(
        id="03.magnitude_prune",
        title="Magnitude pruning of one tensor",
        name="magnitude_prune",
        reference=lp.magnitude_prune,
        tests=(
            Test("small arrays", 1, _mp_small),
            Test("random kernels and sparsities", 1, _mp_kernels),
            Test("exact counts and an untouched input", 1, _mp_counts),
            Test("negative weights, equal magnitudes and a zero", 1, _mp_signs_and_zero),
        ),
        hint=_MP_HINT,
    ),
    Exercise(
        id="03.global_threshold",
        title="One threshold for every layer",
        name="global_threshold",
        reference=lp.global_threshold,
        tests=(
            Test("two layers", 1, _gt_two_layers),
            Test("exact counts: round, none, all", 1, _gt_edges),
            Test("random layers and sparsities", 1, _gt_random),
        ),
        hint=_GT_HINT,
    ),
    Exercise(
        id="03.rank_filters_l1",
        title="Rank filters by L1 norm",
        name="rank_filters_l1",
        reference=lp.rank_filters_l1,
        tests=(
            Test("random kernels", 1, _rf_random),
            Test("L1 norm of magnitudes, smallest first", 1, _rf_l1_not_l2),
        ),
        hint=_RF_HINT,
    ),
    Exercise(
        id="03.prune_filters",
        title="Remove filters and the next layer's matching inputs",
        name="prune_filters",
        reference=lp.prune_filters,
        tests=(
            Test("shapes", 1, _pf_shapes),
            Test("values", 1, _pf_values),
            Test("one filter left, every filter kept", 1, _pf_edges),
        ),
        hint=_PF_HINT,
    ),
    Exercise(
        id="03.prune_with_tfmot",
        title="prune_low_magnitude with a PolynomialDecay schedule",
        name="prune_with_tfmot",
        reference=lp.prune_with_tfmot,
        tests=(
            Test("a wrapped copy that keeps the trained weights", 1, _tfmot_copy,
                 time_limit_s=30.0),
            Test("the right layers wrapped", 1, _tfmot_layers, time_limit_s=30.0),
            Test("sparsity rises gradually and reaches the target at end_step", 1,
                 _tfmot_schedule, time_limit_s=30.0),
            Test("held-out accuracy after the fine-tune", 1, _tfmot_accuracy,
                 time_limit_s=30.0),
        ),
        hint=_TF_HINT,
    ),
)
