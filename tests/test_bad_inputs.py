"""Every public function of labkit's pure-numpy modules, given a bad argument, raises a
TypeError or ValueError raised by labkit whose message names that argument — never a raw
numpy error, a garbage result or a TensorFlow import.

Each function has a valid call (checked to run) and, for each of its arguments, a
hypothesis strategy of bad values for it: wrong types, NaN/inf, empty arrays, wrong shapes,
out-of-range numbers, and 0-100 percentages where a 0-1 fraction is expected. One argument
is replaced at a time. A public function that is neither covered here nor listed in
``NOT_COVERED`` (with the reason) fails ``test_every_public_function_is_accounted_for``.
"""

from __future__ import annotations

import inspect
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labkit import (
    compression,
    convert,
    fitting,
    models,
    plots,
    pruning,
    quantization,
    stats,
    tradeoffs,
    training,
    validate,
)
from labkit.data import Dataset

MODULES = (quantization, convert, pruning, compression, fitting, models, plots, training, stats,
           validate, tradeoffs)
LABKIT = Path(validate.__file__).parents[1]

# Public functions left out, and why: they need TensorFlow (a Keras model or a converter)
# before their checks matter, or they draw figures/widgets from results of those.
NOT_COVERED = {
    "quantization": {"activations", "quantize_aware_train"},
    "convert": {"convert", "convert_float32", "convert_dynamic_range", "convert_float16",
                "convert_int8", "convert_qat", "convert_pruned", "convert_sparse_encoding",
                "strip_wrappers"},
    "pruning": {"prunable_layers", "kernel_sparsity", "total_sparsity",
                "prune_model", "accuracy_vs_sparsity", "outcomes_vs_sparsity", "sensitivity_scan",
                "schedule_trace",
                "prune_and_fine_tune", "prune_m_by_n_and_fine_tune", "filters_to_keep",
                "remove_filters", "tflite_weight_sparsity", "prune_with_tfmot",
                "plot_masked_kernels", "sparsity_explorer"},
    "compression": {"copy_model", "kernel_layers", "shared_weights_model", "unique_weights",
                    "cluster_model", "cluster_and_fine_tune", "prune_plan_and_fine_tune",
                    "logits_model", "distill", "factorize", "cluster_preserving_qat",
                    "deep_compression", "entropy_coded_size", "plot_codebook",
                    "codebook_explorer"},
    "fitting": {"keras_early_stopping_epoch", "run_verdict", "show_run_explorer",
                "held_out_correct", "compare_runs", "confidence"},
    "models": {"build_signal_cnn", "build_gesture_cnn"},  # tested in test_compression/test_deploy
    "plots": {"plot_run", "plot_learning_curves"},
    "training": {"random_shift", "compile_inplace", "clone", "accuracy"},
    "stats": set(),
    "validate": set(),
    # the sweep: trains, converts and times models (tests/test_tradeoffs.py), or draws
    "tradeoffs": {"build_sweep", "warm_cache", "cold_build_seconds", "arena", "measure",
                  "throughput", "throughput_grid", "plot_front"},
}

# --------------------------------------------------------------------------------------
# Strategies of bad values
# --------------------------------------------------------------------------------------

NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf, np.float32("nan"), np.float64("-inf")])
WRONG_KIND = st.one_of(
    st.text(max_size=3), st.none(), st.booleans(), st.just(np.True_), st.just(object()),
    st.lists(st.integers(0, 3), min_size=1, max_size=2), st.just(1 + 2j), st.just({"a": 1}),
    st.just(np.array([1.0, 2.0])),
)
PERCENTAGES = st.one_of(st.integers(2, 100), st.floats(1.01, 100.0))


def ints(low: int | None = None, high: int | None = None) -> st.SearchStrategy:
    """Not an int (floats too, even 2.0), or an int outside [low, high]."""
    options = [WRONG_KIND, st.floats(allow_nan=True)]
    if low is not None:
        options.append(st.integers(low - 10**6, low - 1))
    if high is not None:
        options.append(st.integers(high + 1, high + 10**6))
    return st.one_of(options)


def reals(low: float | None = None, high: float | None = None, *, low_ok: bool = True,
          high_ok: bool = True) -> st.SearchStrategy:
    """Not a real number, NaN/inf, or outside the bounds."""
    options = [WRONG_KIND, NON_FINITE]
    if low is not None:
        options.append(st.floats(low - 1e6, low, exclude_max=low_ok))
    if high is not None:
        options.append(st.floats(high, high + 1e6, exclude_min=high_ok))
    return st.one_of(options)


def fractions(interval: str) -> st.SearchStrategy:
    """Not a fraction in ``interval``: wrong kinds, NaN/inf, negatives, percentages."""
    return st.one_of(reals(0.0, 1.0, low_ok=interval[0] == "[", high_ok=interval[-1] == "]"),
                     PERCENTAGES)


NOT_ARRAYS = st.one_of(
    st.none(), st.text(min_size=1, max_size=3), st.just(object()), st.just({"a": 1}),
    st.just([[1.0, 2.0], [3.0]]), st.just(["a", "b"]), st.just([1.0, None]),
    st.just(np.array([1 + 1j])), st.just(np.array([True, False])),
)


def _poisoned(shape: tuple[int, ...]) -> st.SearchStrategy:
    """An array of ``shape`` with one NaN or inf."""
    def build(value: float, index: int) -> np.ndarray:
        arr = np.ones(shape)
        arr.flat[index % arr.size] = value
        return arr
    return st.builds(build, NON_FINITE, st.integers(0, 10**6))


def arrays(shape: tuple[int, ...] = (3,), *, ndims: tuple[int, ...] | None = None,
           empty_ok: bool = False, extra: tuple[st.SearchStrategy, ...] = ()) -> st.SearchStrategy:
    """Not a numeric array, one with NaN/inf, empty (unless allowed), of another ndim."""
    options = [NOT_ARRAYS, _poisoned(shape), *extra]
    if not empty_ok:
        options.append(st.sampled_from([np.zeros((0,)), [], np.zeros((0, *shape[1:]))]))
    if ndims is not None:
        options.append(st.integers(0, 5).filter(lambda d: d not in ndims)
                       .map(lambda d: np.ones((2,) * d)))
    return st.one_of(options)


INT_ARRAYS = st.one_of(NOT_ARRAYS, st.just(np.array([0.5, 1.0])), st.just([1.5]))
LISTS_OF_ARRAYS = st.one_of(
    st.just(np.ones(3)), st.none(), st.text(max_size=3), st.just([]), st.just(5),
    arrays().map(lambda bad: [np.ones(3), bad]),
)
SPARSITY_LISTS = st.one_of(st.just(5), st.none(), st.just("0.5"), st.just({0.5}),
                           fractions("[0, 1)").map(lambda bad: [0.0, bad, 0.5]))
NOT_A_CHOICE = st.one_of(WRONG_KIND, st.text(min_size=1, max_size=8)).filter(
    lambda s: not isinstance(s, str) or s not in ("adam", "sgd", "good_fit", "a", "b"))
NOT_MODELS = st.one_of(WRONG_KIND, st.just("model.keras"), st.just(Path("m.h5")), st.just(type))
NOT_TFLITE = st.one_of(WRONG_KIND, st.just(Path("m.tflite")), st.just("m.tflite"),
                       st.binary(max_size=12).filter(lambda b: b[4:8] != b"TFL3"))

# --------------------------------------------------------------------------------------
# The functions, each with a valid call and bad values per argument
# --------------------------------------------------------------------------------------

RNG = np.random.default_rng(0)
W = RNG.normal(size=(4, 4))
KERNEL = RNG.normal(size=(3, 3, 2, 4))
NEXT_KERNEL = RNG.normal(size=(3, 3, 4, 5))
LABELS = np.array([0, 1, 2, 1, 0, 2])
PREDICTIONS = np.array([0, 1, 1, 1, 0, 2])
SCORES = np.eye(3)[PREDICTIONS]
DATA = Dataset("tiny", np.zeros((20, 4), np.float32), np.repeat(np.arange(2), 10),
               np.zeros((4, 4), np.float32), np.arange(4) % 2, np.zeros((4, 4), np.float32),
               np.arange(4) % 2, ("a", "b"))
TFLITE = b"\x1c\x00\x00\x00TFL3" + bytes(16)


@dataclass
class Case:
    func: Callable[..., Any]
    args: dict[str, Any]
    bad: dict[str, st.SearchStrategy]
    shown_as: dict[str, str] = field(default_factory=dict)  # argument -> name in the message
    runs: bool = True  # the valid call runs here without TensorFlow (else it would train)

    @property
    def id(self) -> str:
        return f"{self.func.__module__.removeprefix('labkit.')}.{self.func.__name__}"


q, p, c, f, m, s, v = quantization, pruning, compression, fitting, models, stats, validate
COUNTS = st.one_of(st.none(), st.just([5, 2]), st.just({}), st.just({"a": -1}),
                   st.just({"a": 1.5}), st.just({"a": True}), st.just({"a": 0, "b": 0}))
SYMBOLS = arrays((4,)).filter(lambda v: not (isinstance(v, np.ndarray) and v.dtype == bool))
CODE_LENGTHS = st.one_of(st.none(), st.just([1, 2]), st.just({}), st.just({"a": 0}),
                         st.just({"a": 1.0}), st.just({"a": 1, "b": 1, "c": 1}))
ACC = stats.accuracy_from_counts(5, 6)
COMPARISON = stats.compare(PREDICTIONS == LABELS, np.ones(6, bool))
lt = tradeoffs
CANDIDATES = [{"name": "a", "size_bytes": 100, "latency_ms": 0.5, "accuracy": 0.9}]
LIMITS = reals(0).filter(lambda x: x is not None)  # None is a valid limit: no limit
CASES = [
    # quantization
    Case(q.integer_range, {"bits": 8}, {"bits": ints(2, 16)}),
    Case(q.choose_qparams, {"x_min": -1.0, "x_max": 1.0, "bits": 8},
         {"x_min": st.one_of(reals(), st.floats(1.01, 1e6)), "x_max": reals(), "bits": ints(2, 16)}),
    Case(q.quantize, {"x": [0.1, -0.2], "scale": 0.1, "zero_point": 0, "bits": 8},
         {"x": arrays(empty_ok=True), "scale": arrays((1,), extra=(st.floats(-1e3, 0),)),
          "zero_point": st.one_of(arrays((1,)), st.just(0.5), st.integers(128, 10**4)),
          "bits": ints(2, 16)}),
    Case(q.dequantize, {"q": np.array([1, -2], np.int8), "scale": 0.1, "zero_point": 0},
         {"q": INT_ARRAYS, "scale": arrays((1,), extra=(st.floats(-1e3, 0),)),
          "zero_point": st.one_of(arrays((1,)), st.just(0.5))}),
    Case(q.quantize_per_channel, {"w": W, "bits": 8, "axis": -1},
         {"w": arrays((2, 2), extra=(st.just(1.0),)), "bits": ints(2, 16),
          "axis": st.one_of(ints(), st.integers(2, 100), st.integers(-100, -3))}),
    Case(q.fake_quantize, {"x": [0.0, 0.3, 1.0], "bits": 4, "x_min": 0.0, "x_max": 1.0},
         {"x": arrays(), "bits": ints(2, 16), "x_min": reals().filter(lambda x: x is not None),
          "x_max": reals().filter(lambda x: x is not None)}),
    Case(q.quantization_error, {"x": [1.0, 2.0], "x_hat": [1.0, 2.1]},
         {"x": arrays((2,), ndims=(1,)), "x_hat": arrays((2,), ndims=(1,))}),
    Case(q.percentile_range, {"x": np.arange(10.0), "percentile": 99.0},
         {"x": arrays(), "percentile": reals(50, 100, low_ok=False)}),
    # pruning
    Case(p.magnitude_prune, {"w": W, "sparsity": 0.5},
         {"w": arrays((4, 4)), "sparsity": fractions("[0, 1)")}),
    Case(p.global_threshold, {"weights": [W, KERNEL], "sparsity": 0.5},
         {"weights": LISTS_OF_ARRAYS, "sparsity": fractions("[0, 1)")}),
    Case(p.threshold_prune, {"w": W, "threshold": 0.1},
         {"w": arrays((4, 4)), "threshold": reals(0)}),
    Case(p.zero_fraction, {"w": W}, {"w": arrays((4, 4))}),
    Case(p.is_m_by_n_sparse, {"kernel": W, "m": 2, "n": 4},
         {"kernel": arrays((4, 4), ndims=(2, 4)), "m": st.one_of(ints(1), st.integers(4, 99)),
          "n": st.one_of(ints(2), st.integers(-5, 2))}),
    Case(p.rank_filters_l1, {"kernel": KERNEL}, {"kernel": arrays(KERNEL.shape, ndims=(4,))}),
    Case(p.prune_filters, {"kernel": KERNEL, "bias": np.zeros(4), "next_kernel": NEXT_KERNEL,
                           "keep": [0, 2]},
         {"kernel": arrays(KERNEL.shape, ndims=(4,), extra=(st.just(np.ones((3, 3, 2, 5))),)),
          "bias": arrays((4,), extra=(st.just(np.zeros(3)), st.just(np.zeros((4, 1))))),
          "next_kernel": arrays(NEXT_KERNEL.shape, ndims=(4,),
                                extra=(st.just(np.ones((3, 3, 3, 5))),)),
          "keep": st.one_of(INT_ARRAYS, st.just([]), st.just([0, 4]), st.just([-1]),
                            st.just([1, 1]), st.just([[0, 1]]))}),
    Case(p.kernel_image, {"kernel": KERNEL}, {"kernel": arrays(KERNEL.shape, ndims=(2, 4))}),
    Case(p.sparsity_plan, {"scan": {"a": [0.98, 0.97]}, "sparsities": [0.0, 0.5],
                           "baseline_accuracy": 0.98, "max_drop": 0.01},
         {"scan": st.one_of(st.just([0.9]), st.none(), st.just("a"),
                            arrays((2,)).map(lambda bad: {"a": bad}),
                            st.just({"a": [0.9, 0.8, 0.7]})),
          "sparsities": SPARSITY_LISTS, "baseline_accuracy": fractions("[0, 1]"),
          "max_drop": fractions("[0, 1)")}),
    Case(p.polynomial_schedule, {"final_sparsity": 0.5, "end_step": 100, "frequency": 10,
                                 "begin_step": 0, "initial_sparsity": 0.0},
         {"final_sparsity": fractions("[0, 1)"), "end_step": ints(1),
          "frequency": st.one_of(ints(1), st.integers(101, 10**4)), "begin_step": ints(0),
          "initial_sparsity": fractions("[0, 1)")},
         runs=False),
    Case(p.steps_per_epoch, {"num_samples": 100, "batch_size": 32},
         {"num_samples": ints(1), "batch_size": ints(1)}),
    # compression
    Case(c.kmeans_codebook, {"w": W, "k": 4, "iters": 5},
         {"w": arrays((4, 4)), "k": ints(1), "iters": ints(0)}),
    Case(c.index_bits, {"k": 16}, {"k": ints(1)}),
    Case(c.entropy_bits, {"values": [0, 0, 1, 1]}, {"values": SYMBOLS}),
    Case(c.huffman_code_lengths, {"counts": {"a": 5, "b": 2, "c": 1}}, {"counts": COUNTS}),
    Case(c.canonical_codes, {"lengths": {"a": 1, "b": 2, "c": 2}}, {"lengths": CODE_LENGTHS}),
    Case(c.huffman_encode, {"values": [0, 1, 2], "lengths": {0: 1, 1: 2, 2: 2}},
         {"values": st.one_of(SYMBOLS, st.just([0, 7])),
          "lengths": CODE_LENGTHS}),
    Case(c.huffman_decode, {"data": b"\x5c", "lengths": {"a": 1, "b": 2, "c": 2}, "count": 3},
         {"data": st.one_of(WRONG_KIND.filter(lambda v: not isinstance(v, (list, np.ndarray))),
                            st.just(b"")),
          "lengths": CODE_LENGTHS, "count": ints(0)}),
    Case(c.sparse_symbols, {"values": [0, 0, 3, 0, 5]}, {"values": SYMBOLS}),
    Case(c.coded_sizes, {"values": np.arange(-8, 8)}, {"values": SYMBOLS}),
    Case(c.xz, {"data": b"abc"}, {"data": st.one_of(WRONG_KIND, st.integers(0, 9))}),
    Case(c.softmax, {"logits": SCORES, "temperature": 2.0},
         {"logits": arrays((6, 3)), "temperature": reals(0, low_ok=False)}),
    Case(c.distillation_loss, {"labels": LABELS, "student_logits": SCORES,
                               "teacher_logits": SCORES, "temperature": 4.0, "alpha": 0.5},
         {"labels": st.one_of(INT_ARRAYS, st.just(LABELS[:3]), st.just(LABELS + 5)),
          "student_logits": arrays((6, 3), ndims=(2,), extra=(st.just(np.ones((5, 3))),)),
          "teacher_logits": arrays((6, 3), ndims=(2,), extra=(st.just(np.ones((6, 4))),)),
          "temperature": reals(0, low_ok=False), "alpha": fractions("[0, 1]")}),
    Case(c.low_rank, {"w": W, "rank": 2},
         {"w": arrays((4, 4), ndims=(2,)), "rank": st.one_of(ints(1), st.integers(5, 99))}),
    Case(c.low_rank_params, {"shape": (4, 5), "rank": 2},
         {"shape": st.one_of(st.none(), st.just(4), st.just((4,)), st.just((0, 5)),
                             st.just((4.0, 5)), st.just("45")),
          "rank": ints(1)}),
    # fitting
    Case(f.standardize, {"x_train": np.ones((3, 2)), "x_other": np.ones((1, 2))},
         {"x_train": arrays((3, 2), ndims=(2,)),
          "x_other": arrays((1, 2), ndims=(2,), empty_ok=True,
                            extra=(st.just(np.ones((1, 3))),))}),
    Case(f.early_stopping_epoch, {"val_loss": [1.0, 0.8], "patience": 1, "min_delta": 0.0},
         {"val_loss": arrays((2,), ndims=(1,)), "patience": ints(0), "min_delta": reals(0)}),
    Case(f.epochs_to_reach, {"val_accuracy": [0.2, 0.6], "target": 0.5},
         {"val_accuracy": arrays((2,), ndims=(1,)), "target": fractions("[0, 1]")}),
    Case(f.diagnose_fit, {"train_loss": [2.0, 1.0], "val_loss": [2.0, 1.1]},
         {"train_loss": arrays((2,), ndims=(1,), extra=(st.just([1.0]), st.just([1.0, 2.0, 3.0]))),
          "val_loss": arrays((2,), ndims=(1,), extra=(st.just([1.0, 2.0, 3.0]),))}),
    Case(f.learning_curves, {"regime": "good_fit", "epochs": 20, "seed": 0, "noise": 0.0},
         {"regime": NOT_A_CHOICE, "epochs": ints(20, 100), "seed": ints(0),
          "noise": reals(0, 0.05)}),
    Case(training.subset, {"data": DATA, "fraction": 0.5, "seed": 0},
         {"data": st.one_of(WRONG_KIND, st.just({"x_train": np.ones(3)})),
          "fraction": fractions("(0, 1]"), "seed": ints(0)}),
    Case(plots.markdown_table, {"header": ["a", "b"], "rows": [[1, 2]]},
         {"header": st.one_of(st.none(), st.just(5), st.just("ab"), st.just([])),
          "rows": st.one_of(st.none(), st.just(5), st.just("ab"), st.just([[1]]),
                            st.just([[1, 2, 3]]), st.just([5]))},),
    Case(m.build_mlp, {"hidden": (8,), "l2": 0.0, "dropout": 0.0, "input_len": 40,
                       "num_classes": 10},
         {"hidden": st.one_of(st.just(5), st.none(), st.just("64"),
                              ints(1).map(lambda bad: (8, bad))),
          "l2": reals(0), "dropout": fractions("[0, 1)"), "input_len": ints(1),
          "num_classes": ints(1)}, runs=False),
    Case(m.build_cnn, {"channels": 8, "input_len": 40, "num_classes": 10},
         {"channels": ints(1), "input_len": ints(1), "num_classes": ints(1)}, runs=False),
    Case(training.train, {"build_model": lambda: None, "data": DATA, "epochs": 1, "batch_size": 8,
                   "optimizer": "adam", "learning_rate": 1e-3, "max_shift": 0, "seed": 0},
         {"build_model": st.one_of(st.none(), st.just(5), st.just("mlp")),
          "data": st.one_of(WRONG_KIND, st.just({"x_train": np.ones(3)})), "epochs": ints(1),
          "batch_size": ints(1), "optimizer": NOT_A_CHOICE,
          "learning_rate": reals(0, low_ok=False), "max_shift": ints(0), "seed": ints(0)},
         runs=False),
    # models
    Case(m.model_size_bytes, {"num_params": 1000, "bits_per_weight": 8},
         {"num_params": ints(0), "bits_per_weight": ints(1)}),
    Case(m.build_course_cnn, {"input_shape": (32, 32, 1), "num_classes": 10, "width": 4,
                              "learning_rate": 1e-3, "seed": 0},
         {"input_shape": st.one_of(st.none(), st.just(32), st.just("32x32"), st.just((32, 32)),
                                   st.just((30, 30, 1)), st.just((32, 32, 0)),
                                   st.just((32.0, 32, 1))),
          "num_classes": ints(1), "width": ints(1), "learning_rate": reals(0, low_ok=False),
          "seed": ints(0)}, runs=False),
    Case(m.count_macs, {"model": None}, {"model": NOT_MODELS}, runs=False),
    # stats
    Case(s.wilson_interval, {"successes": 3, "n": 10, "confidence": 0.95},
         {"successes": st.one_of(ints(0), st.integers(11, 100)), "n": ints(1),
          "confidence": fractions("(0, 1)")}),
    Case(s.accuracy_from_counts, {"correct": 3, "n": 10, "confidence": 0.95},
         {"correct": st.one_of(ints(0), st.integers(11, 100)), "n": ints(1),
          "confidence": fractions("(0, 1)")}),
    Case(s.accuracy, {"predictions": SCORES, "labels": LABELS, "confidence": 0.9},
         {"predictions": arrays(SCORES.shape, ndims=(1, 2), extra=(st.just(np.ones(5, int)),
                                                                   st.just([0.0, 1.0] * 3))),
          "labels": st.one_of(INT_ARRAYS, st.just(np.ones(5, int)), st.just(np.ones((6, 1), int))),
          "confidence": fractions("(0, 1)")}),
    Case(s.is_correct, {"predictions": PREDICTIONS, "labels": LABELS},
         {"predictions": arrays((6, 3), ndims=(1, 2), extra=(st.just(np.ones(5, int)),)),
          "labels": st.one_of(INT_ARRAYS, st.just(np.ones(5, int)))}),
    Case(s.mcnemar, {"a": PREDICTIONS, "b": LABELS, "labels": LABELS},
         {"a": arrays((6, 3), ndims=(1, 2), extra=(st.just(np.ones(5, int)),)),
          "b": arrays((6, 3), ndims=(1, 2), extra=(st.just(np.ones(5, int)),)),
          "labels": st.one_of(INT_ARRAYS, st.just(np.ones(4, int)))}),
    Case(s.mcnemar_p_value, {"only_a": 3, "only_b": 5},
         {"only_a": ints(0), "only_b": ints(0)}),
    Case(s.paired_difference_interval, {"only_a": 3, "only_b": 5, "n": 100, "confidence": 0.95},
         {"only_a": st.one_of(ints(0), st.integers(101, 10**4)),
          "only_b": st.one_of(ints(0), st.integers(98, 10**4)), "n": ints(1),
          "confidence": fractions("(0, 1)")}),
    Case(s.compare, {"a": PREDICTIONS, "b": LABELS, "labels": LABELS, "names": ("x", "y"),
                     "confidence": 0.95},
         {"a": arrays((6, 3), ndims=(1, 2)), "b": arrays((6, 3), ndims=(1, 2)),
          "labels": INT_ARRAYS, "names": st.one_of(st.none(), st.just("xy"), st.just(("x",)),
                                                   st.just((1, 2))),
          "confidence": fractions("(0, 1)")}),
    Case(s.verdict, {"result": ACC, "above": 0.5},
         {"result": st.one_of(WRONG_KIND, st.just(0.98)), "above": fractions("[0, 1]")}),
    Case(s.verdict, {"result": COMPARISON, "above": -0.01},
         {"above": st.one_of(reals(-1, 1, low_ok=False, high_ok=False), PERCENTAGES)}),
    # validate: the name argument is what the message must show
    Case(v.check_int, {"value": 3, "name": "the_arg", "low": 0, "high": 9},
         {"value": ints(0, 9)}, shown_as={"value": "the_arg"}),
    Case(v.check_real, {"value": 0.5, "name": "the_arg", "low": 0, "high": 1},
         {"value": reals(0, 1)}, shown_as={"value": "the_arg"}),
    Case(v.check_fraction, {"value": 0.5, "name": "the_arg", "interval": "[0, 1)"},
         {"value": fractions("[0, 1)")}, shown_as={"value": "the_arg"}),
    Case(v.check_sparsity, {"sparsity": 0.5, "name": "the_arg"},
         {"sparsity": fractions("[0, 1)")}, shown_as={"sparsity": "the_arg"}),
    Case(v.check_choice, {"value": "a", "name": "the_arg", "choices": ("a", "b")},
         {"value": NOT_A_CHOICE}, shown_as={"value": "the_arg"}),
    Case(v.check_array, {"value": np.ones((2, 2)), "name": "the_arg", "ndim": 2},
         {"value": arrays((2, 2), ndims=(2,))}, shown_as={"value": "the_arg"}),
    Case(v.check_keras_model, {"model": None, "name": "the_arg"}, {"model": NOT_MODELS},
         shown_as={"model": "the_arg"}, runs=False),
    Case(v.check_split, {"split": (0.7, 0.15, 0.15)},
         {"split": st.one_of(WRONG_KIND, st.just((0.5, 0.5)), st.just((70, 15, 15)),
                             st.just((0.8, 0.15, 0.15)))}),
    Case(v.split_counts, {"n": 10, "split": (0.7, 0.15, 0.15)},
         {"n": ints(0), "split": st.just((0.5, 0.6, -0.1))}),
    Case(v.check_model_bytes, {"model_bytes": TFLITE, "name": "the_arg"},
         {"model_bytes": NOT_TFLITE}, shown_as={"model_bytes": "the_arg"}),
    # tradeoffs
    Case(lt.pareto_front, {"costs": [1.0, 2.0, 3.0], "scores": [0.5, 0.6, 0.7]},
         {"costs": arrays((3,), ndims=(1,)), "scores": arrays((3,), ndims=(1,))}),
    Case(lt.select_model, {"candidates": CANDIDATES, "max_size_bytes": 500, "max_latency_ms": 1.0,
                           "min_accuracy": 0.5},
         {"candidates": st.one_of(WRONG_KIND, st.just([{"name": "a"}])),
          "max_size_bytes": LIMITS, "max_latency_ms": LIMITS, "min_accuracy": LIMITS}),
    Case(lt.claim_verdict, {"measured": 3.5, "claimed_low": 3.0, "claimed_high": 4.0},
         {"measured": reals(), "claimed_low": reals(), "claimed_high": reals()}),
    Case(lt.accuracy_claim, {"comparison": COMPARISON, "low_points": 1.0, "high_points": 5.0},
         {"comparison": WRONG_KIND, "low_points": reals(0, 100), "high_points": reals(1, 100)}),
    Case(lt.speed_claim, {"speedups": [3.2, 3.9], "low": 3.0, "high": 4.0},
         {"speedups": arrays((2,), ndims=(1,)), "low": reals(), "high": reals()},
         shown_as={"low": "claimed_low", "high": "claimed_high"}),
]
PAIRS = [(case, arg) for case in CASES for arg in case.bad]


def _public(module: Any) -> set[str]:
    return {name for name, obj in inspect.getmembers(module, inspect.isfunction)
            if not name.startswith("_")
            and (obj.__module__ == module.__name__ or obj.__module__.startswith(module.__name__ + "."))}


# --------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------


def test_every_public_function_is_accounted_for():
    covered = {case.func.__name__ for case in CASES}
    for module in MODULES:
        key = module.__name__.rsplit(".", 1)[-1]
        public = _public(module)
        missing = public - covered - NOT_COVERED[key]
        assert not missing, f"{key}: add a Case (or a reason in NOT_COVERED) for {missing}"
        assert not (NOT_COVERED[key] - public), f"{key}: NOT_COVERED lists unknown names"
    assert len({case.id for case in CASES}) == 70  # functions covered (the report quotes it)


@pytest.mark.parametrize("case", [c for c in CASES if c.runs], ids=lambda c: c.id)
def test_the_valid_call_runs(case):
    case.func(**case.args)


@pytest.fixture(scope="module")
def tensorflow_was_loaded():
    return "tensorflow" in sys.modules


def _check_bad(case: Case, arg: str, bad: Any, tensorflow_was_loaded: bool) -> None:
    with pytest.raises((TypeError, ValueError)) as info:
        case.func(**{**case.args, arg: bad})
    message = str(info.value)
    assert case.shown_as.get(arg, arg) in message, f"{arg}={bad!r}: {message}"
    assert len(info.value.args) == 1, f"two-argument exception: {info.value.args}"
    raised_in = Path(str(info.traceback[-1].path)).resolve()
    assert LABKIT in raised_in.parents, f"raised by {raised_in}, not labkit: {message}"
    if not tensorflow_was_loaded:
        assert "tensorflow" not in sys.modules, f"{case.id} imported TensorFlow for {arg}"


PAIR_IDS = [f"{c.id}:{a}" for c, a in PAIRS]


@pytest.mark.parametrize("case, arg", PAIRS, ids=PAIR_IDS)
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_bad_argument_is_named(case, arg, data, tensorflow_was_loaded):
    _check_bad(case, arg, data.draw(case.bad[arg], label=arg), tensorflow_was_loaded)


@pytest.mark.slow
@pytest.mark.parametrize("case, arg", PAIRS, ids=PAIR_IDS)
@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_bad_argument_is_named_thoroughly(case, arg, data, tensorflow_was_loaded):
    _check_bad(case, arg, data.draw(case.bad[arg], label=arg), tensorflow_was_loaded)
