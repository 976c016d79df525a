"""Exercises of notebook 02_quantization: affine quantization by hand, then real converters —
the syllabus' dynamic-range call on a SavedModel folder and a full-integer model.

``02.convert_dynamic_range`` takes the *path* of a SavedModel folder: the test writes the folder
and passes ``ctx.file_for_student(folder)``, which is the folder itself in the notebook and a
read-only copy under ``/judge`` in the batch grader's sandbox.

References live in :mod:`labkit.quantization`. The integer codes a student returns are
compared exactly, except where the unrounded value sits on a .5 tie (within float32's
precision), where either neighbour is accepted: float32 and float64 arithmetic may round
such a value differently.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from labkit import quantization as lq
from labkit import runtime
from labkit.grading.compare import Mismatch
from labkit.grading.core import Exercise, Test, TestContext

# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def _pair(got: Any, what: str, names: str) -> Sequence[Any]:
    if got is None:
        raise Mismatch("type", f"{what} returned None; expected a tuple {names} — did you "
                       "forget `return`?")
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise Mismatch("type", f"{what} returned {type(got).__name__}; expected a tuple {names}",
                       f"End with `return {names[1:-1]}`.")
    return got


def _expect_codes(ctx: TestContext, got: Any, expected: np.ndarray, unrounded: np.ndarray, *,
                  what: str, hint: str) -> None:
    """Integer codes equal to ``expected``, either neighbour accepted on a .5 tie."""
    expected = np.asarray(expected)
    try:
        arr = np.asarray(got)
        comparable = arr.shape == expected.shape and arr.dtype.kind in "iuf"
    except (TypeError, ValueError):
        comparable = False
    if comparable:
        frac = np.abs(unrounded - np.floor(unrounded))
        near = 1e-6 + 4e-7 * np.abs(unrounded)  # float32 arithmetic is exact to ~6e-8 relative
        tie = (np.abs(frac - 0.5) < near) & (np.abs(arr.astype(np.float64) - expected) <= 1)
        expected = np.where(tie, arr, expected)
    ctx.expect_array(got, expected, what=what, rtol=0, atol=0, kind="i", hint=hint)


def _range(ctx: TestContext, kind: str) -> tuple[float, float]:
    a, b = sorted(float(v) for v in ctx.rng.uniform(0.05, 10.0, size=2))
    if kind == "around zero":
        return -a, b
    if kind == "positive":
        return a, b
    return -b, -a  # negative


# --------------------------------------------------------------------------------------
# 02.choose_qparams
# --------------------------------------------------------------------------------------

_QP_HINT = ("Follow the rules in the notebook: qmin = -2**(bits-1), qmax = 2**(bits-1) - 1, "
            "scale = (max' - min') / (qmax - qmin), zero_point = round(qmin - min' / scale).")


def _expect_qparams(ctx: TestContext, args: tuple, hint: str) -> None:
    what = f"choose_qparams{args}"
    got = _pair(ctx.student(*args), what, "(scale, zero_point)")
    scale, zero_point = ctx.reference(*args)
    ctx.expect_close(got[0], scale, what=f"the scale of {what}", rtol=1e-6, hint=hint)
    ctx.expect_equal(got[1], zero_point, what=f"the zero point of {what}", hint=hint)


def _qparams_around_zero(ctx: TestContext) -> None:
    for _ in range(5):
        _expect_qparams(ctx, (*_range(ctx, "around zero"), 8, False), _QP_HINT)


def _qparams_contain_zero(ctx: TestContext) -> None:
    hint = ("The range must contain 0 so that 0.0 is exact: use min' = min(x_min, 0) and "
            "max' = max(x_max, 0) before computing the scale.")
    for kind in ("positive", "negative", "positive", "negative"):
        _expect_qparams(ctx, (*_range(ctx, kind), 8, False), hint)


def _qparams_symmetric(ctx: TestContext) -> None:
    hint = ("Symmetric: zero_point is 0 and scale = max(|x_min|, |x_max|) / qmax with "
            "qmax = 2**(bits-1) - 1 (the grid is ±qmax; -2**(bits-1) is not used).")
    for bits in (8, 8, 4, 16):
        _expect_qparams(ctx, (*_range(ctx, "around zero"), bits, True), hint)
    _expect_qparams(ctx, (*_range(ctx, "positive"), 8, True), hint)


def _qparams_bits_and_zero_range(ctx: TestContext) -> None:
    for bits in (2, 3, 4, 6, 12, 16):
        _expect_qparams(ctx, (*_range(ctx, "around zero"), bits, False),
                        "Use `bits` for the grid: qmin = -2**(bits-1), qmax = 2**(bits-1) - 1.")
    hint = "An all-zero range has nothing to scale: return scale 1.0 and zero point 0."
    _expect_qparams(ctx, (0.0, 0.0, 8, False), hint)
    _expect_qparams(ctx, (0.0, 0.0, 8, True), hint)


# --------------------------------------------------------------------------------------
# 02.quantize
# --------------------------------------------------------------------------------------

def _expect_quantized(ctx: TestContext, x: np.ndarray, scale: float, zero_point: int, bits: int,
                      hint: str) -> None:
    what = f"quantize(x, scale={scale:.4g}, zero_point={zero_point}, bits={bits})"
    got = ctx.student(x.copy(), scale, zero_point, bits)
    _expect_codes(ctx, got, ctx.reference(x, scale, zero_point, bits), x / scale,
                  what=what, hint=hint)


def _quantize_inside(ctx: TestContext) -> None:
    hint = ("q = round(x / scale) + zero_point: round to the nearest integer (np.round, not "
            "floor or int()), add the zero point (do not subtract it), return integers.")
    for _ in range(3):
        lo, hi = _range(ctx, "around zero")
        scale, zero_point = lq.choose_qparams(lo, hi, 8)
        _expect_quantized(ctx, ctx.rng.uniform(lo, hi, size=(4, 25)), scale, zero_point, 8, hint)


def _quantize_clips(ctx: TestContext) -> None:
    hint = ("Values outside the range must saturate: clip to [qmin, qmax] = "
            "[-2**(bits-1), 2**(bits-1) - 1] after adding the zero point.")
    lo, hi = _range(ctx, "around zero")
    scale, zero_point = lq.choose_qparams(lo, hi, 8)
    x = ctx.rng.uniform(5 * lo, 5 * hi, size=200)
    _expect_quantized(ctx, x, scale, zero_point, 8, hint)


def _quantize_bits(ctx: TestContext) -> None:
    hint = "The grid depends on `bits`: clip to [-2**(bits-1), 2**(bits-1) - 1]."
    for bits, symmetric in ((4, False), (2, False), (6, True), (16, False)):
        lo, hi = _range(ctx, "around zero")
        scale, zero_point = lq.choose_qparams(lo, hi, bits, symmetric)
        x = ctx.rng.uniform(1.5 * lo, 1.5 * hi, size=100)
        _expect_quantized(ctx, x, scale, zero_point, bits, hint)


# --------------------------------------------------------------------------------------
# 02.dequantize
# --------------------------------------------------------------------------------------

def _expect_dequantized(ctx: TestContext, q: np.ndarray, scale: float, zero_point: int,
                        hint: str) -> None:
    what = f"dequantize(q, scale={scale:.4g}, zero_point={zero_point})"
    got = ctx.student(q.copy(), scale, zero_point)
    expected = ctx.reference(q, scale, zero_point)
    ctx.expect_array(got, expected, what=what, rtol=1e-5, atol=1e-6 * scale, kind="f", hint=hint)


def _dequantize_codes(ctx: TestContext) -> None:
    hint = "r = scale * (q - zero_point): subtract the zero point before scaling; return floats."
    for _ in range(3):
        scale = float(ctx.rng.uniform(0.001, 0.5))
        zero_point = int(ctx.rng.integers(-100, 100))
        q = ctx.rng.integers(-128, 128, size=(5, 20)).astype(np.int32)
        _expect_dequantized(ctx, q, scale, zero_point, hint)


def _dequantize_int8(ctx: TestContext) -> None:
    hint = ("int8 arithmetic wraps around (np.int8(-128) - 1 is 127): convert q to a wider "
            "type, e.g. q.astype(np.int32) or float, before subtracting the zero point.")
    q = np.arange(-128, 128).astype(np.int8)
    for zero_point in (-128, 127, int(ctx.rng.integers(-128, 128))):
        _expect_dequantized(ctx, q, float(ctx.rng.uniform(0.001, 0.5)), zero_point, hint)


# --------------------------------------------------------------------------------------
# 02.quantize_per_channel
# --------------------------------------------------------------------------------------

def _kernel(ctx: TestContext, shape: tuple[int, ...], axis: int) -> np.ndarray:
    """Random weights whose channels (along ``axis``) have very different magnitudes."""
    gains = np.exp(ctx.rng.uniform(-3, 1, size=shape[axis]))
    view = [1] * len(shape)
    view[axis] = -1
    return ctx.rng.normal(size=shape) * gains.reshape(view)


def _expect_per_channel(ctx: TestContext, w: np.ndarray, kwargs: dict[str, int],
                        hint: str) -> None:
    args = ", ".join(f"{k}={v}" for k, v in kwargs.items())
    what = f"quantize_per_channel(w with shape {w.shape}{', ' + args if args else ''})"
    got = _pair(ctx.student(w.copy(), **kwargs), what, "(q, scales)")
    q, scales = ctx.reference(w, **kwargs)
    ctx.expect_array(got[1], scales, what=f"scales of {what}", rtol=1e-6, atol=1e-12, hint=hint)
    view = [1] * w.ndim
    view[kwargs.get("axis", -1)] = -1
    _expect_codes(ctx, got[0], q, w / scales.reshape(view), what=f"q of {what}", hint=hint)


def _per_channel_conv(ctx: TestContext) -> None:
    hint = ("One scale per output channel (the last axis of a Keras kernel): take max |w| "
            "over all the OTHER axes, then scale = that max / (2**(bits-1) - 1).")
    shape = (3, 3, int(ctx.rng.integers(2, 6)), int(ctx.rng.integers(6, 12)))
    _expect_per_channel(ctx, _kernel(ctx, shape, -1), {}, hint)


def _per_channel_axis_bits(ctx: TestContext) -> None:
    hint = ("Use the `axis` and `bits` arguments: scales has one entry per index of w along "
            "`axis` (shape (w.shape[axis],)), and qmax = 2**(bits-1) - 1.")
    _expect_per_channel(ctx, _kernel(ctx, (6, 20), 0), {"bits": 4, "axis": 0}, hint)
    _expect_per_channel(ctx, _kernel(ctx, (4, 7, 5), 1), {"bits": 8, "axis": 1}, hint)
    _expect_per_channel(ctx, _kernel(ctx, (5, 9), 1), {"bits": 6, "axis": -1}, hint)


def _per_channel_zero_channel(ctx: TestContext) -> None:
    hint = "A channel of zeros has max |w| = 0: give it scale 1.0 instead of dividing by zero."
    w = _kernel(ctx, (3, 3, 2, 6), -1)
    w[..., int(ctx.rng.integers(0, 6))] = 0.0
    _expect_per_channel(ctx, w, {}, hint)


# --------------------------------------------------------------------------------------
# 02.convert_int8
# --------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _tiny_digits_setup() -> tuple[list[np.ndarray], np.ndarray, np.ndarray, np.ndarray, float]:
    """Weights of a tiny CNN trained on 8×8 digits (a few seconds, once per process), its
    calibration images, held-out images and labels, and the float model's accuracy."""
    from labkit.data import load_digits

    ds = load_digits(8)
    model = _tiny_model()
    model.fit(ds.x_train, ds.y_train, epochs=25, batch_size=32, verbose=0)
    x_held = np.concatenate([ds.x_val, ds.x_test])
    y_held = np.concatenate([ds.y_val, ds.y_test])
    float_acc = float(np.mean(np.argmax(model.predict(x_held, verbose=0), -1) == y_held))
    return model.get_weights(), ds.x_train[:200], x_held, y_held, float_acc


def _tiny_model() -> Any:
    from labkit._tf import load

    _, keras = load()
    layers = keras.layers
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8, 8, 1)),
                              layers.Conv2D(8, 3, padding="same", activation="relu"),
                              layers.MaxPooling2D(),
                              layers.Flatten(),
                              layers.Dense(10, activation="softmax")])
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
    return model


def _student_tflite(ctx: TestContext) -> tuple[bytes, Any]:
    """Call the student's convert_int8 on a fresh copy of the trained tiny model."""
    from labkit import runtime
    from labkit._tf import quiet_native_stderr

    weights, x_calib, *_ = _tiny_digits_setup()
    model = _tiny_model()
    model.set_weights(weights)
    with quiet_native_stderr(), warnings.catch_warnings():  # the converter's chatter
        warnings.simplefilter("ignore")
        got = ctx.student(model, x_calib.copy())
    if got is None:
        raise Mismatch("type", "convert_int8 returned None; expected the bytes of a .tflite "
                       "model — did you forget `return converter.convert()`?")
    if not isinstance(got, (bytes, bytearray)):
        raise Mismatch("type", f"convert_int8 returned {type(got).__name__}; expected bytes",
                       "Return what converter.convert() gives you (do not save it to a file).")
    try:
        return bytes(got), runtime.describe(bytes(got))
    except ValueError as exc:
        raise Mismatch("type", f"the returned bytes are not a .tflite model ({exc})") from None


def _int8_valid(ctx: TestContext) -> None:
    _student_tflite(ctx)


def _int8_io(ctx: TestContext) -> None:
    _, report = _student_tflite(ctx)
    types = (report.inputs[0].dtype, report.outputs[0].dtype)
    if types != ("int8", "int8"):
        raise Mismatch("values", f"the model's input and output types are {types}; expected "
                       "('int8', 'int8')", "Set converter.inference_input_type and "
                       "converter.inference_output_type to tf.int8.")


def _int8_weights(ctx: TestContext) -> None:
    _, report = _student_tflite(ctx)
    weights = sorted(report.weight_dtypes)
    io_floats = sum(t.dtype.startswith("float") for t in report.inputs + report.outputs)
    inner_floats = sum(n for d, n in report.tensors_by_dtype.items()
                       if d.startswith("float")) - io_floats
    if weights != ["int8"] or inner_floats:
        raise Mismatch("values", f"weights are stored as {weights} and {inner_floats} tensors "
                       "inside the model are float; expected int8 weights and int8 "
                       "activations",
                       "Full integer needs converter.optimizations = [tf.lite.Optimize.DEFAULT], "
                       "a representative_dataset, and target_spec.supported_ops = "
                       "[tf.lite.OpsSet.TFLITE_BUILTINS_INT8].")


def _int8_accuracy(ctx: TestContext) -> None:
    from labkit import runtime

    model_bytes, _ = _student_tflite(ctx)
    *_, x_held, y_held, float_acc = _tiny_digits_setup()
    acc = runtime.evaluate(model_bytes, x_held, y_held)
    if acc < float_acc - 0.015:
        raise Mismatch("values", f"held-out accuracy {100 * acc:.1f}% is more than 1.5 points "
                       f"below the float model's {100 * float_acc:.1f}%",
                       "Calibrate with x_calib: representative_dataset must yield "
                       "[sample[None].astype(np.float32)] for the samples of x_calib.")


# --------------------------------------------------------------------------------------
# 02.convert_dynamic_range: the syllabus' snippet, from a SavedModel folder
# --------------------------------------------------------------------------------------

_DR_HINT = ("converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir); "
            "converter.optimizations = [tf.lite.Optimize.DEFAULT]; return converter.convert() "
            "— no representative dataset, no other setting.")


@functools.lru_cache(maxsize=1)
def _saved_model_dir() -> str:
    """The tiny digits CNN saved as a SavedModel folder (once per process)."""
    import tempfile

    from labkit._tf import load, quiet_native_stderr

    tf, _ = load()
    weights, *_ = _tiny_digits_setup()
    model = _tiny_model()
    model.set_weights(weights)
    folder = tempfile.mkdtemp(prefix="labkit-savedmodel-")
    with quiet_native_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tf.saved_model.save(model, folder)
    return folder


def _student_dynamic(ctx: TestContext) -> tuple[bytes, Any]:
    from labkit._tf import quiet_native_stderr

    with quiet_native_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = ctx.student(ctx.file_for_student(_saved_model_dir()))
    if got is None:
        raise Mismatch("type", "convert_dynamic_range returned None; expected the bytes of a "
                       ".tflite model — did you forget `return converter.convert()`?")
    if not isinstance(got, (bytes, bytearray)):
        raise Mismatch("type", f"convert_dynamic_range returned {type(got).__name__}; expected "
                       "bytes", "Return what converter.convert() gives you (do not save it).")
    try:
        return bytes(got), runtime.describe(bytes(got))
    except ValueError as exc:
        raise Mismatch("type", f"the returned bytes are not a .tflite model ({exc})") from None


def _dynamic_valid(ctx: TestContext) -> None:
    _student_dynamic(ctx)


def _dynamic_weights(ctx: TestContext) -> None:
    """The converter quantizes weight tensors of 1,024 values or more (smaller ones, such as
    the first convolution's 72 weights, stay float32); none may be float16."""
    _, report = _student_dynamic(ctx)
    large = {t.dtype for t in report.constants if len(t.shape) >= 2 and np.prod(t.shape) >= 1024}
    weights = sorted(large | ({"float16"} & report.weight_dtypes))
    if weights != ["int8"]:
        hint = ("float16 weights come from target_spec.supported_types = [tf.float16]: leave it "
                "out." if "float16" in weights else _DR_HINT)
        raise Mismatch("values", f"the model stores its large weight tensors as {weights}; "
                       "dynamic-range quantization stores them as int8", hint)


def _dynamic_activations(ctx: TestContext) -> None:
    _, report = _student_dynamic(ctx)
    types = (report.inputs[0].dtype, report.outputs[0].dtype)
    int8_tensors = (report.tensors_by_dtype.get("int8", 0)
                    - sum(t.dtype == "int8" for t in report.constants))
    if types != ("float32", "float32") or int8_tensors > 0:
        raise Mismatch("values", f"input and output are {types} and {int8_tensors} activation "
                       "tensors are int8; dynamic range keeps float32 activations, input and "
                       "output (kernels quantize them on the fly)",
                       "No representative_dataset, no TFLITE_BUILTINS_INT8, no int8 "
                       "inference types: that is full-integer quantization.")


def _dynamic_accuracy(ctx: TestContext) -> None:
    model_bytes, _ = _student_dynamic(ctx)
    *_, x_held, y_held, float_acc = _tiny_digits_setup()
    acc = runtime.evaluate(model_bytes, x_held, y_held)
    if acc < float_acc - 0.015:
        raise Mismatch("values", f"held-out accuracy {100 * acc:.1f}% is more than 1.5 points "
                       f"below the float model's {100 * float_acc:.1f}%: is this the model of "
                       "the folder you were given?", _DR_HINT)


# --------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------

EXERCISES = (
    Exercise(
        id="02.choose_qparams",
        title="Scale and zero point of a range",
        name="choose_qparams",
        reference=lq.choose_qparams,
        tests=(
            Test("asymmetric, range around 0", 1, _qparams_around_zero),
            Test("ranges that do not contain 0", 1, _qparams_contain_zero),
            Test("symmetric", 1, _qparams_symmetric),
            Test("other bit widths and the all-zero range", 1, _qparams_bits_and_zero_range),
        ),
        hint=_QP_HINT,
    ),
    Exercise(
        id="02.quantize",
        title="Quantize real values to integers",
        name="quantize",
        reference=lq.quantize,
        equivalents=(runtime._to_input,),
        tests=(
            Test("values inside the range", 1, _quantize_inside),
            Test("values outside the range saturate", 1, _quantize_clips),
            Test("other bit widths", 1, _quantize_bits),
        ),
        hint="q = clip(round(x / scale) + zero_point, qmin, qmax), as integers.",
    ),
    Exercise(
        id="02.dequantize",
        title="Dequantize integers back to real values",
        name="dequantize",
        reference=lq.dequantize,
        equivalents=(runtime._from_output,),
        tests=(
            Test("random codes", 1, _dequantize_codes),
            Test("int8 codes and extreme zero points", 1, _dequantize_int8),
        ),
        hint="r = scale * (q - zero_point), computed in a type that cannot overflow.",
    ),
    Exercise(
        id="02.quantize_per_channel",
        title="Per-channel symmetric quantization of a kernel",
        name="quantize_per_channel",
        reference=lq.quantize_per_channel,
        tests=(
            Test("conv kernel, output channels last", 1, _per_channel_conv),
            Test("other axes and bit widths", 1, _per_channel_axis_bits),
            Test("a channel of zeros", 1, _per_channel_zero_channel),
        ),
        hint="One symmetric scale per channel: max |w| over the other axes / (2**(bits-1) - 1).",
    ),
    Exercise(
        id="02.convert_int8",
        title="A full-integer .tflite model",
        name="convert_int8",
        reference=lq.convert_int8,
        tests=(
            Test("returns a .tflite model", 1, _int8_valid, time_limit_s=20.0),
            Test("int8 input and output", 1, _int8_io, time_limit_s=20.0),
            Test("int8 weights and activations", 1, _int8_weights, time_limit_s=20.0),
            Test("accuracy within 1.5 points of the float model", 1, _int8_accuracy,
                 time_limit_s=20.0),
        ),
        hint="Use tf.lite.TFLiteConverter.from_keras_model with a representative dataset.",
    ),
    Exercise(
        id="02.convert_dynamic_range",
        title="The syllabus' converter snippet: dynamic range from a SavedModel",
        name="convert_dynamic_range",
        reference=lq.convert_dynamic_range,
        tests=(
            Test("returns a .tflite model", 1, _dynamic_valid, time_limit_s=20.0),
            Test("int8 weights", 1, _dynamic_weights, time_limit_s=20.0),
            Test("float32 activations, input and output", 1, _dynamic_activations,
                 time_limit_s=20.0),
            Test("the model of the folder, as accurate as the float model", 1,
                 _dynamic_accuracy, time_limit_s=20.0),
        ),
        hint=_DR_HINT,
    ),
)
