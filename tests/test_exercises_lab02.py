"""Lab 02's exercises: the references score full marks, the typical mistakes lose points."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SEEDS, assert_caught, unguarded

from labkit import quantization as lq
from labkit.grading.core import run_exercise
from labkit.grading.registry import get_exercise, lab_exercises


def _score(exercise_id, fn, seed):
    return run_exercise(get_exercise(exercise_id), [fn], seed=seed)


def test_lab02_registers_the_six_exercises():
    ids = [e.id for e in lab_exercises("02")]
    assert ids == ["02.choose_qparams", "02.quantize", "02.dequantize",
                   "02.quantize_per_channel", "02.convert_int8", "02.convert_dynamic_range"]


@pytest.mark.parametrize("exercise_id", ["02.choose_qparams", "02.quantize", "02.dequantize",
                                         "02.quantize_per_channel"])
def test_reference_scores_full_marks(exercise_id):
    reference = unguarded(get_exercise(exercise_id).reference)  # unblocked copy
    for seed in SEEDS:
        result = _score(exercise_id, reference, seed)
        assert result.score == result.max_score, result.message


def test_calling_labkits_own_answer_scores_zero():
    result = _score("02.quantize", lambda x, s, z, bits=8: lq.quantize(x, s, z, bits), 0)
    assert result.score == 0 and result.stage == "reference"


# --------------------------------------------------------------------------------------
# choose_qparams
# --------------------------------------------------------------------------------------

def _qparams(x_min, x_max, bits=8, symmetric=False, *, levels=None, widen=True,
             round_fn=np.round, sign=-1, qmin=None, sym_qmax=None, zero_guard=True):
    """A configurable choose_qparams: each keyword reproduces one typical mistake."""
    qmin = -(2 ** (bits - 1)) if qmin is None else qmin(bits)
    qmax = qmin + (2**bits - 1)
    if symmetric:
        bound = max(abs(x_min), abs(x_max))
        top = (2 ** (bits - 1) - 1) if sym_qmax is None else sym_qmax(bits)
        return (bound / top if bound or not zero_guard else 1.0), 0
    lo, hi = (min(x_min, 0.0), max(x_max, 0.0)) if widen else (x_min, x_max)
    if hi == lo and zero_guard:
        return 1.0, 0
    scale = (hi - lo) / (levels(bits) if levels else qmax - qmin)
    zero_point = int(np.clip(round_fn(qmin + sign * lo / scale), qmin, qmax))
    return scale, zero_point


def test_choose_qparams_config_without_mistakes_is_right():
    for seed in SEEDS:
        assert _score("02.choose_qparams", _qparams, seed).score == 4


@pytest.mark.parametrize("mistake", [
    {"levels": lambda bits: 2**bits},                 # 2^bits instead of 2^bits - 1
    {"sign": +1},                                     # zero-point sign
    {"round_fn": np.floor},                           # floor instead of round
    {"widen": False},                                 # range does not contain 0
    {"qmin": lambda bits: 0},                         # unsigned grid
    {"sym_qmax": lambda bits: 2 ** (bits - 1)},       # symmetric with 128
    {"zero_guard": False},                            # divides by zero on [0, 0]
], ids=["2^bits", "zp-sign", "floor", "no-zero", "unsigned", "sym-128", "zero-range"])
def test_choose_qparams_mistakes_are_caught(mistake):
    def wrong(x_min, x_max, bits=8, symmetric=False):
        return _qparams(x_min, x_max, bits, symmetric, **mistake)

    assert_caught("02.choose_qparams", wrong)


def test_choose_qparams_ignoring_bits_is_caught():
    assert_caught("02.choose_qparams", lambda x_min, x_max, bits=8, symmetric=False:
                   _qparams(x_min, x_max, 8, symmetric))


# --------------------------------------------------------------------------------------
# quantize / dequantize
# --------------------------------------------------------------------------------------

QUANTIZE_MISTAKES = {
    "floor": lambda x, s, z, bits=8: np.clip(np.floor(x / s) + z, -(2 ** (bits - 1)),
                                             2 ** (bits - 1) - 1).astype(np.int32),
    "int-truncation": lambda x, s, z, bits=8: np.clip((x / s).astype(np.int64) + z,
                                                      -(2 ** (bits - 1)), 2 ** (bits - 1) - 1),
    "no-clip": lambda x, s, z, bits=8: (np.round(x / s) + z).astype(np.int32),
    "int8-wrap": lambda x, s, z, bits=8: (np.round(x / s) + z).astype(np.int64).astype(np.int8),
    "zp-sign": lambda x, s, z, bits=8: np.clip(np.round(x / s) - z, -(2 ** (bits - 1)),
                                               2 ** (bits - 1) - 1).astype(np.int32),
    "clip-2^bits": lambda x, s, z, bits=8: np.clip(np.round(x / s) + z, -(2 ** bits) // 2,
                                                   2 ** bits // 2).astype(np.int32),
    "clip-int8-always": lambda x, s, z, bits=8: np.clip(np.round(x / s) + z, -128,
                                                        127).astype(np.int32),
    "float-result": lambda x, s, z, bits=8: np.clip(np.round(x / s) + z, -(2 ** (bits - 1)),
                                                    2 ** (bits - 1) - 1),
}


@pytest.mark.parametrize("name", QUANTIZE_MISTAKES)
def test_quantize_mistakes_are_caught(name):
    assert_caught("02.quantize", QUANTIZE_MISTAKES[name])


def test_quantize_in_float32_still_passes():
    def float32(x, s, z, bits=8):
        q = np.round(np.asarray(x, np.float32) / np.float32(s)) + z
        return np.clip(q, -(2 ** (bits - 1)), 2 ** (bits - 1) - 1).astype(np.int32)

    for seed in SEEDS:
        assert _score("02.quantize", float32, seed).score == 3


DEQUANTIZE_MISTAKES = {
    "zp-sign": lambda q, s, z: (np.asarray(q, np.float64) + z) * s,
    "scale-then-shift": lambda q, s, z: np.asarray(q) * s - z,
    "int8-overflow": lambda q, s, z: (np.asarray(q) - np.asarray(z, np.asarray(q).dtype)) * s,
    "integer-result": lambda q, s, z: ((np.asarray(q, np.int64) - z) * s).astype(np.int64),
}


@pytest.mark.parametrize("name", DEQUANTIZE_MISTAKES)
def test_dequantize_mistakes_are_caught(name):
    with np.errstate(over="ignore"):
        assert_caught("02.dequantize", DEQUANTIZE_MISTAKES[name])


# --------------------------------------------------------------------------------------
# quantize_per_channel
# --------------------------------------------------------------------------------------

def _per_channel(w, bits=8, axis=-1, *, reduce_axis=False, qmax_fn=None, per_tensor=False,
                 ignore_axis=False, zero_guard=True, asymmetric=False):
    w = np.asarray(w, np.float64)
    axis = -1 if ignore_axis else axis % w.ndim
    qmax = (2 ** (bits - 1) - 1) if qmax_fn is None else qmax_fn(bits)
    others = tuple(i for i in range(w.ndim) if i != axis)
    if per_tensor:
        bound = np.full(w.shape[axis], np.abs(w).max())
    elif reduce_axis:
        bound = np.abs(w).max(axis=axis)
    elif asymmetric:
        bound = (w.max(axis=others) - w.min(axis=others)) / 2
    else:
        bound = np.abs(w).max(axis=others)
    scales = np.where(bound > 0, bound / qmax, 1.0) if zero_guard else bound / qmax
    view = [1] * w.ndim
    if not reduce_axis:
        view[axis] = -1
        scales_b = scales.reshape(view)
    else:
        scales_b = np.expand_dims(scales, axis)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.clip(np.round(w / scales_b), -qmax, qmax)
    return np.nan_to_num(q).astype(np.int32), scales


def test_per_channel_config_without_mistakes_is_right():
    for seed in SEEDS:
        assert _score("02.quantize_per_channel", _per_channel, seed).score == 3


@pytest.mark.parametrize("mistake", [
    {"reduce_axis": True},                        # wrong axis: max over the channel axis
    {"qmax_fn": lambda bits: 2 ** (bits - 1)},    # 2^(bits-1) instead of 2^(bits-1) - 1
    {"per_tensor": True},                         # one scale for the whole tensor
    {"ignore_axis": True},                        # always the last axis
    {"zero_guard": False},                        # a zero channel divides by zero
    {"asymmetric": True},                         # (max - min) / 2 instead of max |w|
], ids=["wrong-axis", "2^(bits-1)", "per-tensor", "ignores-axis", "zero-channel", "asymmetric"])
def test_per_channel_mistakes_are_caught(mistake):
    def wrong(w, bits=8, axis=-1):
        return _per_channel(w, bits, axis, **mistake)

    assert_caught("02.quantize_per_channel", wrong)


# --------------------------------------------------------------------------------------
# convert_int8 (converts a tiny model: a few seconds)
# --------------------------------------------------------------------------------------

def _converter(model, configure):
    import warnings

    from labkit._tf import load, quiet_native_stderr

    tf, _ = load()
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    configure(converter, tf)
    with quiet_native_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return converter.convert()


_CONVERTED: dict = {}  # the mistakes below are deterministic converters: their bytes are cached,
# so the 50 seeds exercise the judge's tests rather than the converter's speed


def _memoized(fn):
    def answer(*args):
        key = (fn, *(a if isinstance(a, str) else _digest(a) for a in args))
        if key not in _CONVERTED:
            _CONVERTED[key] = fn(*args)
        return _CONVERTED[key]
    return answer


def _digest(value):
    import hashlib

    digest = hashlib.sha256()
    for w in (value.get_weights() if hasattr(value, "get_weights") else [np.asarray(value)]):
        digest.update(np.ascontiguousarray(w).tobytes())
    return digest.hexdigest()


def test_convert_int8_reference_scores_full_marks():
    result = _score("02.convert_int8", unguarded(lq.convert_int8), 0)
    assert result.score == result.max_score == 4, result.message


def test_convert_int8_dynamic_range_is_caught():
    def dynamic(model, x_calib):
        def configure(c, tf):
            c.optimizations = [tf.lite.Optimize.DEFAULT]
        return _converter(model, configure)

    result = _score("02.convert_int8", dynamic, 0)
    assert result.score == 2, result  # valid + accurate, but float I/O and float activations
    assert "int8" in result.message


def test_convert_int8_float_io_is_caught():
    def float_io(model, x_calib):
        def configure(c, tf):
            c.optimizations = [tf.lite.Optimize.DEFAULT]
            c.representative_dataset = lambda: ([s[None]] for s in x_calib)
            c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        return _converter(model, configure)

    result = _score("02.convert_int8", float_io, 0)
    assert result.score == 3 and result.stage == "values", result
    assert "input and output" in result.message


def _int8_dynamic(model, x_calib):
    def configure(c, tf):
        c.optimizations = [tf.lite.Optimize.DEFAULT]
    return _converter(model, configure)


def _int8_float_io(model, x_calib):
    def configure(c, tf):
        c.optimizations = [tf.lite.Optimize.DEFAULT]
        c.representative_dataset = lambda: ([s[None]] for s in x_calib)
        c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    return _converter(model, configure)


def _int8_uncalibrated(model, x_calib):  # calibrates on zeros instead of x_calib
    def configure(c, tf):
        c.optimizations = [tf.lite.Optimize.DEFAULT]
        c.representative_dataset = lambda: ([np.zeros_like(s[None])] for s in x_calib[:20])
        c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        c.inference_input_type = c.inference_output_type = tf.int8
    return _converter(model, configure)


INT8_MISTAKES = {"dynamic range only": _memoized(_int8_dynamic),
                 "float input and output": _memoized(_int8_float_io),
                 "calibrated on zeros": _memoized(_int8_uncalibrated),
                 "returns a path": lambda m, x: "model.tflite"}


@pytest.mark.slow
@pytest.mark.parametrize("mistake", INT8_MISTAKES)
def test_convert_int8_mistakes_lose_points_on_every_seed(mistake):
    assert_caught("02.convert_int8", INT8_MISTAKES[mistake])


@pytest.mark.parametrize("wrong", [lambda m, x: "model.tflite", lambda m, x: None],
                         ids=["path", "none"])
def test_convert_int8_non_bytes_scores_zero(wrong):
    result = _score("02.convert_int8", wrong, 0)
    assert result.score == 0 and result.stage == "type", result


# --------------------------------------------------------------------------------------
# convert_dynamic_range (the syllabus' snippet, from a SavedModel folder; slow: every test
# runs the student's converter, and the typical mistakes run on 50 seeds)
# --------------------------------------------------------------------------------------

def _from_saved_model(configure):
    @_memoized
    def convert_dynamic_range(saved_model_dir):
        import warnings

        from labkit._tf import load, quiet_native_stderr

        tf, _ = load()
        converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir)
        configure(converter, tf)
        with quiet_native_stderr(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return converter.convert()
    return convert_dynamic_range


def _optimize(flag):
    return lambda c, tf: setattr(c, "optimizations", [getattr(tf.lite.Optimize, flag)])


def _float16(c, tf):
    c.optimizations = [tf.lite.Optimize.DEFAULT]
    c.target_spec.supported_types = [tf.float16]


def _calibrated(c, tf):  # a made-up representative dataset: int8 activations
    c.optimizations = [tf.lite.Optimize.DEFAULT]
    c.representative_dataset = lambda: ([np.full((1, 8, 8, 1), v, np.float32)]
                                        for v in np.linspace(0, 1, 20))


def _full_int8(c, tf):
    _calibrated(c, tf)
    c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    c.inference_input_type = c.inference_output_type = tf.int8


DYNAMIC_MISTAKES = {
    "no optimizations flag (a float32 model)": _from_saved_model(lambda c, tf: None),
    "wrong flag: EXPERIMENTAL_SPARSITY": _from_saved_model(_optimize("EXPERIMENTAL_SPARSITY")),
    "float16 supported types": _from_saved_model(_float16),
    "a representative dataset (int8 activations)": _from_saved_model(_calibrated),
    "full integer with int8 input and output": _from_saved_model(_full_int8),
    "returns the path of a file": lambda saved_model_dir: saved_model_dir + "/model.tflite",
}


@pytest.mark.slow
def test_convert_dynamic_range_reference_scores_full_marks():
    for seed in range(3):
        result = _score("02.convert_dynamic_range", unguarded(lq.convert_dynamic_range), seed)
        assert result.score == result.max_score == 4, result.message


def test_convert_dynamic_range_syllabus_snippet_scores_full_marks():
    snippet = _from_saved_model(_optimize("DEFAULT"))
    result = _score("02.convert_dynamic_range", snippet, 0)
    assert result.score == 4, result.message


@pytest.mark.slow
@pytest.mark.parametrize("mistake", DYNAMIC_MISTAKES)
def test_convert_dynamic_range_mistakes_lose_points_on_every_seed(mistake):
    assert_caught("02.convert_dynamic_range", DYNAMIC_MISTAKES[mistake])
