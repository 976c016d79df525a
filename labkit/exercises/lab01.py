"""Exercises of notebook 01_fitting: standardize, early stopping, epochs to reach, diagnose.

References live in :mod:`labkit.fitting`. Inputs are fresh random draws from ``ctx.rng``;
loss values are multiples of 1/64 where exact ties matter, so every correct way of writing
a comparison gives the same answer.
"""

from __future__ import annotations

import numpy as np

from labkit import fitting
from labkit.grading.compare import Mismatch
from labkit.grading.core import Exercise, Test, TestContext

# ----------------------------------------------------------------------------------------
# 01.standardize
# ----------------------------------------------------------------------------------------

_STD_HINT = ("Compute mean and std per feature (axis=0) on x_train only, use np.std's default "
             "(ddof=0), apply the same numbers to x_other, and divide constant features by 1.")


def _features(ctx: TestContext, n: int, d: int, dtype: type) -> np.ndarray:
    centre = ctx.rng.uniform(-20, 20, d)  # spread >= centre / 40: float32 answers stay exact
    spread = ctx.rng.uniform(0.5, 20, d)  # to ~1e-5, well inside the tolerance
    return (centre + spread * ctx.rng.normal(size=(n, d))).astype(dtype)


def _standardized_pair(ctx: TestContext, x_train: np.ndarray, x_other: np.ndarray,
                       what: str) -> None:
    got = _pair(ctx.student(x_train.copy(), x_other.copy()), what)
    expected = ctx.reference(x_train, x_other)
    for part, got_part, exp_part in zip(("x_train_s", "x_other_s"), got, expected):
        ctx.expect_array(got_part, exp_part, what=f"{what}: {part}", rtol=1e-4, atol=1e-4,
                         kind="f", hint=_STD_HINT)


def _pair(got: object, what: str) -> tuple:
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise Mismatch("type", f"{what} returned {type(got).__name__}; expected a tuple "
                       "(x_train_s, x_other_s)", "End with `return x_train_s, x_other_s`.")
    return tuple(got)


def _standardize_shapes(ctx: TestContext) -> None:
    n, m, d = (int(v) for v in ctx.rng.integers([30, 10, 3], [80, 40, 9]))
    x_train, x_other = _features(ctx, n, d, np.float64), _features(ctx, m, d, np.float64)
    got = _pair(ctx.student(x_train, x_other), "standardize")
    for part, got_part, original in zip(("x_train_s", "x_other_s"), got, (x_train, x_other)):
        arr = np.asarray(got_part)
        if arr.shape != original.shape or arr.dtype.kind != "f":
            raise Mismatch("shape", f"{part} has shape {arr.shape} and dtype {arr.dtype}; "
                           f"expected shape {original.shape} and a float dtype",
                           "Statistics are per feature (axis=0) but every row is transformed.")


def _standardize_values(ctx: TestContext) -> None:
    for dtype in (np.float64, np.float32, np.float64):
        n, m, d = (int(v) for v in ctx.rng.integers([20, 5, 2], [120, 60, 12]))
        x_train = _features(ctx, n, d, dtype)
        x_other = (_features(ctx, m, d, dtype) + ctx.rng.uniform(-30, 30, d)).astype(dtype)
        _standardized_pair(ctx, x_train, x_other, f"standardize on {n}+{m} rows × {d} features")


def _standardize_constant(ctx: TestContext) -> None:
    for _ in range(3):
        n, m, d = (int(v) for v in ctx.rng.integers([10, 5, 4], [60, 30, 10]))
        x_train, x_other = _features(ctx, n, d, np.float32), _features(ctx, m, d, np.float32)
        constant = ctx.rng.choice(d, size=2, replace=False)
        x_train[:, constant] = ctx.rng.integers(-8, 9, 2) / 4  # exact in float32
        _standardized_pair(ctx, x_train, x_other,
                           f"standardize with constant training features {sorted(int(c) for c in constant)}")


# ----------------------------------------------------------------------------------------
# 01.early_stopping_epoch
# ----------------------------------------------------------------------------------------

_ES_HINT = ("Replay Keras epoch by epoch: improvement means val_loss + min_delta < best; "
            "the wait count grows after every epoch without one; stop when it reaches "
            "patience; return the last improving epoch, counted from 0.")


def _loss_walk(ctx: TestContext, n: int) -> list[float]:
    """A noisy falling-then-rising validation loss on a grid of 1/64, with plateaus."""
    turn = int(ctx.rng.integers(n // 3, n))
    falling = ctx.rng.choice([-4, -3, -2, -1, 0, 0, 1, 2], size=turn)
    rising = ctx.rng.choice([-2, -1, 0, 1, 2, 3, 4], size=n - turn)
    return [float(v) for v in 2.0 + np.cumsum(np.concatenate([falling, rising])) / 64]


def _second_dip(ctx: TestContext, patience: int) -> list[float]:
    """Falls, rises for longer than ``patience`` epochs, then falls below the first minimum."""
    down = [2.0 - k / 8 for k in range(int(ctx.rng.integers(2, 6)))]
    up = [down[-1] + (k + 1) / 16 for k in range(patience + int(ctx.rng.integers(1, 3)))]
    again = [down[-1] - (k + 1) / 16 for k in range(int(ctx.rng.integers(2, 5)))]
    return down + up + again


def _expect_epoch(ctx: TestContext, losses: list[float], patience: int, min_delta: float
                  ) -> None:
    args = (f"early_stopping_epoch({_fmt_list(losses)}, patience={patience}, "
            f"min_delta={min_delta:g})")
    ctx.expect_equal(ctx.student(list(losses), patience, min_delta),
                     ctx.reference(losses, patience, min_delta), what=args, hint=_ES_HINT)


def _fmt_list(values: list[float]) -> str:
    """A list as short text for a failure message (cut after 120 characters)."""
    text = "[" + ", ".join(f"{v:g}" for v in values) + "]"
    return text if len(text) <= 120 else text[:117] + "...]"


def _es_examples(ctx: TestContext) -> None:
    for losses, patience, min_delta in [([1.0, 0.8, 0.9, 0.85, 0.7], 2, 0.0),
                                        ([1.0, 0.9, 0.8, 0.7], 1, 0.0),
                                        ([0.5, 0.5, 0.5, 0.5], 2, 0.0),
                                        ([1.0, 0.75, 0.5, 0.625, 0.25], 0, 0.0)]:
        _expect_epoch(ctx, losses, patience, min_delta)


def _es_patience(ctx: TestContext) -> None:
    for k in range(24):
        patience = int(ctx.rng.integers(0, 6))
        losses = _second_dip(ctx, patience) if k % 3 == 0 else _loss_walk(
            ctx, int(ctx.rng.integers(6, 30)))
        _expect_epoch(ctx, losses, patience, 0.0)


def _es_min_delta(ctx: TestContext) -> None:
    for _ in range(24):
        patience = int(ctx.rng.integers(1, 6))
        min_delta = float(ctx.rng.choice([1, 2, 3, 4])) / 64
        _expect_epoch(ctx, _loss_walk(ctx, int(ctx.rng.integers(6, 30))), patience, min_delta)


def _es_no_stop(ctx: TestContext) -> None:
    for _ in range(12):
        n = int(ctx.rng.integers(4, 15))
        losses = _loss_walk(ctx, n)
        min_delta = float(ctx.rng.choice([0, 1, 2])) / 64
        _expect_epoch(ctx, losses, n + int(ctx.rng.integers(0, 3)), min_delta)


# ----------------------------------------------------------------------------------------
# 01.epochs_to_reach
# ----------------------------------------------------------------------------------------

_REACH_HINT = ("Epochs count from 1: the first epoch is 1. Reaching means >= target. "
               "Return None (not 0 or -1) when no epoch reaches it.")


def _accuracy_curve(ctx: TestContext, n: int) -> list[float]:
    """A noisy rising accuracy curve measured on 750 samples (multiples of 1/750)."""
    top = ctx.rng.uniform(0.3, 0.95)
    e = np.arange(n)
    clean = 0.1 + (top - 0.1) * (1 - np.exp(-e / ctx.rng.uniform(1, max(2, n / 2))))
    noisy = np.clip(clean + ctx.rng.normal(0, 0.02, n), 0, 1)
    return [float(v) for v in np.round(noisy * 750) / 750]


def _expect_reach(ctx: TestContext, acc: list[float], target: float) -> None:
    ctx.expect_equal(ctx.student(list(acc), target), ctx.reference(acc, target),
                     what=f"epochs_to_reach({_fmt_list(acc)}, target={target:g})",
                     hint=_REACH_HINT)


def _reach_examples(ctx: TestContext) -> None:
    for acc, target in [([0.2, 0.5, 0.7], 0.5), ([0.6, 0.7], 0.5), ([0.2, 0.4, 0.45], 0.5),
                        ([0.3, 0.55, 0.5, 0.6], 0.5)]:
        _expect_reach(ctx, acc, target)


def _reach_ties(ctx: TestContext) -> None:
    for _ in range(15):
        acc = _accuracy_curve(ctx, int(ctx.rng.integers(3, 40)))
        _expect_reach(ctx, acc, acc[int(ctx.rng.integers(0, len(acc)))])


def _reach_random(ctx: TestContext) -> None:
    for _ in range(25):
        acc = _accuracy_curve(ctx, int(ctx.rng.integers(1, 40)))
        _expect_reach(ctx, acc, float(ctx.rng.uniform(0.1, 1.0)))


# ----------------------------------------------------------------------------------------
# 01.diagnose_fit
# ----------------------------------------------------------------------------------------

_DIAGNOSE_HINT = ("Apply the rules in the stated order: overfitting first (gap > 0.5 and the "
                  "first minimum of val_loss before index n - q), then, if train_loss[-1] > "
                  "0.8, slow convergence vs underfitting from the means of the last two "
                  "quarters of val_loss, else good fit; q = max(1, n // 4), comparisons strict.")

# (train_loss, val_loss) per epoch, in nats, of nine runs of solutions/01_fitting.ipynb
# (rounded to 3 decimals), so the check also grades diagnose_fit on the notebook's own runs.
# Regenerate them when the notebook's training runs change.
RECORDED_RUNS: dict[str, tuple[str, str]] = {
    "capacity · logistic regression": (
         "2.251 2.044 1.935 1.870 1.826 1.795 1.771 1.752 1.737 1.723 1.712 1.702 1.693 1.685 "
         "1.679 1.672 1.667 1.662 1.657 1.653 1.649 1.645 1.642 1.639 1.636 1.633 1.631 1.629 "
         "1.626 1.624 1.622 1.621 1.619 1.618 1.616 1.615 1.613 1.612 1.611 1.610",
         "2.225 2.040 1.941 1.886 1.844 1.818 1.798 1.780 1.766 1.753 1.746 1.738 1.729 1.722 "
         "1.714 1.711 1.709 1.700 1.698 1.695 1.692 1.688 1.683 1.680 1.677 1.679 1.676 1.675 "
         "1.670 1.671 1.669 1.668 1.665 1.663 1.663 1.663 1.660 1.663 1.661 1.661"),
    "capacity · MLP 16×2": (
         "2.189 1.987 1.833 1.743 1.685 1.648 1.613 1.585 1.561 1.528 1.495 1.462 1.426 1.399 "
         "1.364 1.337 1.325 1.300 1.276 1.262 1.252 1.232 1.225 1.215 1.204 1.189 1.180 1.171 "
         "1.164 1.160 1.152 1.153 1.143 1.133 1.129 1.128 1.128 1.117 1.118 1.110",
         "2.200 2.002 1.861 1.774 1.721 1.693 1.669 1.650 1.636 1.613 1.586 1.550 1.525 1.501 "
         "1.473 1.449 1.440 1.426 1.395 1.392 1.384 1.365 1.368 1.358 1.349 1.333 1.337 1.336 "
         "1.335 1.329 1.336 1.336 1.325 1.323 1.328 1.330 1.328 1.315 1.330 1.333"),
    "capacity · MLP 256×2": (
         "1.551 1.297 1.070 0.886 0.816 0.693 0.602 0.561 0.435 0.359 0.297 0.249 0.196 0.153 "
         "0.125 0.090 0.078 0.058 0.040 0.033 0.025 0.020 0.017 0.015 0.012 0.011 0.010 0.009 "
         "0.008 0.007 0.007 0.006 0.006 0.005 0.005 0.005 0.004 0.004 0.004 0.004",
         "1.675 1.486 1.313 1.187 1.173 1.130 1.083 1.120 1.060 1.068 1.044 1.029 1.048 1.073 "
         "1.113 1.138 1.181 1.200 1.223 1.222 1.235 1.266 1.284 1.327 1.348 1.353 1.374 1.389 "
         "1.407 1.426 1.426 1.454 1.466 1.478 1.489 1.504 1.512 1.522 1.536 1.536"),
    "capacity · CNN": (
         "1.877 1.601 1.441 1.312 1.221 1.132 1.042 0.988 0.876 0.812 0.748 0.692 0.636 0.600 "
         "0.544 0.540 0.501 0.451 0.417 0.395 0.367 0.353 0.329 0.319 0.298 0.280 0.269 0.244 "
         "0.235 0.226 0.213 0.211 0.200 0.175 0.176 0.195 0.162 0.158 0.144 0.138",
         "1.922 1.663 1.519 1.406 1.331 1.248 1.166 1.113 1.022 0.945 0.900 0.844 0.778 0.762 "
         "0.728 0.713 0.688 0.676 0.651 0.632 0.620 0.599 0.588 0.591 0.580 0.557 0.552 0.552 "
         "0.543 0.570 0.545 0.551 0.572 0.537 0.531 0.541 0.550 0.553 0.553 0.560"),
    "fix · augmentation (±4 shifts)": (
         "1.693 1.499 1.331 1.238 1.152 1.080 1.020 0.975 0.935 0.883 0.862 0.839 0.825 0.792 "
         "0.740 0.756 0.687 0.646 0.601 0.609 0.595 0.601 0.572 0.570 0.559 0.523 0.511 0.499 "
         "0.484 0.438 0.452 0.446 0.455 0.434 0.441 0.438 0.436 0.388 0.386 0.374",
         "1.729 1.550 1.376 1.301 1.244 1.154 1.093 1.073 1.046 0.969 0.942 0.949 0.937 0.868 "
         "0.857 0.885 0.818 0.777 0.766 0.795 0.745 0.757 0.723 0.713 0.761 0.717 0.698 0.704 "
         "0.700 0.650 0.622 0.636 0.670 0.658 0.671 0.708 0.710 0.662 0.693 0.656"),
    "fix · early stopping": (
         "1.551 1.297 1.070 0.886 0.816 0.693 0.602 0.561 0.435 0.359 0.297 0.249 0.196 0.153 "
         "0.125 0.090 0.078",
         "1.675 1.486 1.313 1.187 1.173 1.130 1.083 1.120 1.060 1.068 1.044 1.029 1.048 1.073 "
         "1.113 1.138 1.181"),
    "convergence · Adam 3e-3, raw units": (
         "4.556 3.317 2.776 2.526 2.316 2.232 2.126 2.056 2.035 2.015 1.961 1.946 1.875 1.889 "
         "1.868 1.815 1.822 1.790 1.793 1.820 1.771 1.755 1.738 1.725 1.758 1.724 1.920 1.690 "
         "1.683 1.678 1.628 1.623 1.700 1.623 1.708 1.643 1.670 1.646 1.619 1.575 1.651 1.572 "
         "1.637 1.596 1.559 1.638 1.546 1.573 1.557 1.580 1.589 1.522 1.531 1.517 1.540 1.501 "
         "1.589 1.506 1.550 1.459",
         "4.619 3.349 2.801 2.577 2.355 2.261 2.173 2.134 2.096 2.116 2.086 2.071 1.992 2.010 "
         "2.023 1.965 1.955 1.945 1.966 1.991 1.945 1.909 1.884 1.889 1.918 1.900 2.040 1.844 "
         "1.859 1.866 1.804 1.793 1.891 1.830 1.914 1.818 1.883 1.836 1.805 1.817 1.850 1.772 "
         "1.814 1.806 1.754 1.827 1.744 1.787 1.789 1.792 1.810 1.731 1.735 1.699 1.760 1.709 "
         "1.848 1.721 1.779 1.702"),
    "convergence · SGD 0.03 + BN": (
         "2.247 2.095 1.981 1.890 1.822 1.755 1.702 1.656 1.614 1.567 1.534 1.495 1.464 1.430 "
         "1.399 1.367 1.344 1.324 1.300 1.279 1.260 1.238 1.218 1.204 1.186 1.169 1.158 1.143 "
         "1.128 1.115 1.101 1.088 1.076 1.065 1.057 1.042 1.030 1.022 1.009 1.002 0.989 0.978 "
         "0.972 0.958 0.948 0.939 0.931 0.922 0.916 0.907 0.892 0.888 0.879 0.867 0.860 0.852 "
         "0.844 0.835 0.829 0.823",
         "2.244 2.109 2.008 1.934 1.879 1.822 1.781 1.745 1.708 1.669 1.643 1.611 1.586 1.558 "
         "1.533 1.507 1.489 1.476 1.457 1.441 1.427 1.407 1.394 1.383 1.370 1.358 1.350 1.340 "
         "1.329 1.322 1.310 1.299 1.291 1.282 1.281 1.271 1.265 1.259 1.247 1.244 1.237 1.232 "
         "1.226 1.215 1.211 1.208 1.204 1.201 1.196 1.195 1.178 1.170 1.162 1.161 1.159 1.153 "
         "1.144 1.141 1.148 1.148"),
    "convergence · Adam 0.1 (LR too large)": (
         "2.038 1.842 1.678 1.632 1.598 1.530 1.631 1.511 1.538 1.393 1.383 1.364 1.309 1.293 "
         "1.318 1.405 1.480 1.331 1.382 1.249 1.267 1.259 1.291 1.264 1.354 1.263 1.272 1.228 "
         "1.155 1.198 1.165 1.397 1.294 1.118 1.241 1.220 1.121 1.108 1.070 1.129 1.067 1.218 "
         "1.254 1.193 1.307 1.120 1.101 1.023 1.034 1.036 1.044 1.034 1.052 1.240 1.009 1.097 "
         "1.012 1.106 1.110 1.023",
         "2.065 1.887 1.739 1.769 1.671 1.593 1.704 1.645 1.704 1.508 1.502 1.521 1.530 1.486 "
         "1.517 1.519 1.565 1.592 1.594 1.521 1.478 1.493 1.513 1.523 1.611 1.494 1.620 1.615 "
         "1.516 1.600 1.587 1.746 1.711 1.504 1.607 1.661 1.493 1.524 1.413 1.590 1.512 1.678 "
         "1.687 1.575 1.796 1.616 1.566 1.503 1.559 1.531 1.518 1.423 1.566 1.783 1.569 1.514 "
         "1.551 1.575 1.582 1.637"),
}


def _expect_diagnosis(ctx: TestContext, train: list[float], val: list[float], what: str
                      ) -> None:
    ctx.expect_equal(ctx.student(list(train), list(val)), ctx.reference(train, val),
                     what=f"diagnose_fit on {what}", hint=_DIAGNOSE_HINT)


def _diagnose_generated(ctx: TestContext) -> None:
    for regime in fitting.REGIMES * 3:
        epochs = int(ctx.rng.integers(20, 101))
        seed = int(ctx.rng.integers(0, 2**31))
        train, val = fitting.learning_curves(regime, epochs=epochs, seed=seed)
        _expect_diagnosis(ctx, list(train), list(val),
                          f"learning_curves({regime!r}, epochs={epochs}, seed={seed})")


def _flat(n: int, value: float) -> list[float]:
    return [value] * n


def _boundary_cases() -> list[tuple[str, list[float], list[float]]]:
    """Curves sitting exactly on (or just past) each rule's threshold; n = 8 gives q = 2."""
    fall = [2.25, 1.5, 1.0, 0.75, 0.5, 0.5, 0.5, 0.5]
    return [
        ("a gap of exactly 0.5", fall, [2.25, 1.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]),
        ("a gap just above 0.5 with an early minimum", fall,
         [2.25, 1.5, 1.0, 0.96875, 1.0, 1.0, 1.0, 1.0078125]),
        ("the validation minimum exactly at index n - q", fall,
         [2.25, 1.5, 1.25, 1.25, 1.25, 1.25, 1.125, 1.25]),
        ("two equal validation minima, the first one early", fall,
         [2.25, 1.5, 1.125, 1.25, 1.25, 1.25, 1.125, 1.25]),
        ("a large gap but the validation minimum at the end", fall,
         [2.25, 1.5, 1.4, 1.3, 1.2, 1.15, 1.1, 1.05]),
        ("a large gap and a high train loss", [2.3, 1.2, 1.0, 0.9, 0.9, 0.9, 0.9, 0.9],
         [2.3, 1.5, 1.6, 1.7, 1.8, 1.9, 2.0, 2.1]),
        ("a final train loss of exactly 0.8", _flat(8, 0.8), _flat(8, 1.0)),
        ("a high loss that still falls", [2.3, 2.2, 2.1, 2.0, 1.9, 1.8, 1.7, 1.6],
         [2.4, 2.3, 2.2, 2.1, 2.0, 1.9, 1.8, 1.7]),
        ("a high, noisy but flat validation loss", _flat(8, 1.5),
         [2.0, 1.8, 1.7, 1.65, 1.6, 1.7, 1.7, 1.6]),
        ("a falling train loss but a flat validation loss",
         [2.3, 2.2, 2.1, 2.0, 1.9, 1.8, 1.7, 1.6], _flat(8, 1.9)),
        ("ten epochs (q = 2), a small late drop", _flat(10, 1.5),
         [1.9, 1.85, 1.8, 1.8, 1.8, 1.8, 1.8, 1.8, 1.79, 1.79]),
        ("ten epochs (q = 2), the minimum at index 7", _flat(10, 0.5),
         [1.9, 1.5, 1.3, 1.2, 1.15, 1.12, 1.11, 1.05, 1.2, 1.2]),
        ("seven epochs (q = 1)", _flat(7, 1.5), [2.0, 1.95, 1.9, 1.9, 1.9, 1.9, 1.894]),
        ("two epochs", [2.0, 1.0], [2.0, 1.5]),
    ]


def _diagnose_boundaries(ctx: TestContext) -> None:
    for what, train, val in _boundary_cases():
        _expect_diagnosis(ctx, train, val, f"{what} (train_loss={_fmt_list(train)}, "
                          f"val_loss={_fmt_list(val)})")


def _diagnose_recorded(ctx: TestContext) -> None:
    for name, (train, val) in RECORDED_RUNS.items():
        train_loss = [float(v) for v in train.split()]
        val_loss = [float(v) for v in val.split()]
        _expect_diagnosis(ctx, train_loss, val_loss, f"the notebook's run {name!r}")


EXERCISES = (  # in notebook order
    Exercise(
        id="01.early_stopping_epoch",
        title="Which epoch does EarlyStopping restore?",
        name="early_stopping_epoch",
        reference=fitting.early_stopping_epoch,
        equivalents=(fitting.keras_early_stopping_epoch,),
        tests=(
            Test("worked examples", 1, _es_examples),
            Test("patience", 1, _es_patience),
            Test("min_delta", 1, _es_min_delta),
            Test("training ends without stopping", 1, _es_no_stop),
        ),
        hint=_ES_HINT,
    ),
    Exercise(
        id="01.standardize",
        title="Standardize with training statistics only",
        name="standardize",
        reference=fitting.standardize,
        tests=(
            Test("returns two arrays of the input shapes", 1, _standardize_shapes),
            Test("per-feature training statistics", 2, _standardize_values),
            Test("constant features", 1, _standardize_constant),
        ),
        hint=_STD_HINT,
    ),
    Exercise(
        id="01.epochs_to_reach",
        title="Epochs to reach a target accuracy",
        name="epochs_to_reach",
        reference=fitting.epochs_to_reach,
        tests=(
            Test("worked examples", 1, _reach_examples),
            Test("reaching exactly the target", 1, _reach_ties),
            Test("random curves", 1, _reach_random),
        ),
        hint=_REACH_HINT,
    ),
    Exercise(
        id="01.diagnose_fit",
        title="Diagnose a training run",
        name="diagnose_fit",
        reference=fitting.diagnose_fit,
        tests=(
            Test("generated curves of each regime", 1, _diagnose_generated),
            Test("the rules' thresholds and order", 2, _diagnose_boundaries),
            Test("the notebook's own runs", 1, _diagnose_recorded),
        ),
        hint=_DIAGNOSE_HINT,
    ),
)
