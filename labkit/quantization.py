"""Affine quantization by hand, and the TFLite converter's quantization variants (notebook 02).

Pure numpy (no TensorFlow), the math of notebook 02's exercises:

- :func:`integer_range`, :func:`choose_qparams`, :func:`quantize`, :func:`dequantize`,
  :func:`quantize_per_channel`, :func:`fake_quantize`;
- :func:`quantization_error` (MSE and SQNR in dB) and :func:`percentile_range` (calibration
  that clips outliers); :func:`activations` collects the tensors calibration looks at.

TensorFlow glue (imported on first call): :func:`quantize_aware_train` (QAT with tfmot).
The converters notebook 02 uses — :func:`convert_float32`, :func:`convert_dynamic_range`,
:func:`convert_float16`, :func:`convert_int8` (full integer, int8 input and output),
:func:`convert_qat`, and :func:`convert`, which picks a variant by name — live in
:mod:`labkit.convert` and are re-exported here. Run and measure the results with
:mod:`labkit.runtime`.

The rules, for a signed grid of ``bits`` bits, ``qmin = -2**(bits-1)``, ``qmax = 2**(bits-1) - 1``:

- real value ``r`` and integer ``q`` are related by ``r = scale * (q - zero_point)``;
- asymmetric: ``lo = min(x_min, 0)``, ``hi = max(x_max, 0)``,
  ``scale = (hi - lo) / (qmax - qmin)``, ``zero_point = round(qmin - lo / scale)`` clipped
  to ``[qmin, qmax]``;
- symmetric: ``scale = max(|x_min|, |x_max|) / qmax`` and ``zero_point = 0``;
- an all-zero range (nothing to represent) gives ``scale = 1.0, zero_point = 0``;
- ``quantize``: ``clip(round(r / scale) + zero_point, qmin, qmax)``, rounding half to even
  (``np.round``).

Example
-------
>>> scale, zero_point = choose_qparams(-1.0, 3.0, bits=8)
>>> round(scale, 6), zero_point
(0.015686, -64)
>>> q = quantize(np.array([-1.0, 0.0, 3.0]), scale, zero_point)
>>> q, q.dtype.name
(array([-128,  -64,  127], dtype=int8), 'int8')
>>> dequantize(q, scale, zero_point)  # 0 is exact; the ends move by less than scale / 2
array([-1.0039216,  0.       ,  2.9960785], dtype=float32)
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from labkit.convert import (
    VARIANTS,
    convert,
    convert_dynamic_range,
    convert_float16,
    convert_float32,
    convert_int8,
    convert_qat,
)
from labkit.validate import check_array, check_int, check_keras_model, check_real

MAX_BITS = 16


# --------------------------------------------------------------------------------------
# Input checks shared by the numpy functions
# --------------------------------------------------------------------------------------

def _check_bits(bits: Any) -> int:
    return check_int(bits, "bits", low=2, high=MAX_BITS, hint="8 is the usual choice for int8 models")


def _check_scale(scale: Any) -> np.ndarray:
    arr = check_array(scale, "scale").astype(np.float64)
    if np.any(arr <= 0):
        raise ValueError(f"scale must be > 0, got {scale!r}; compute it with "
                         "choose_qparams(x_min, x_max)")
    return arr


def _check_zero_point(zero_point: Any, bits: int | None) -> np.ndarray:
    arr = check_array(zero_point, "zero_point")
    if arr.dtype.kind == "f":
        if not np.all(arr == np.round(arr)):
            raise TypeError(f"zero_point must be an integer, got {zero_point!r}")
        arr = arr.astype(np.int64)
    if bits is not None:
        qmin, qmax = integer_range(bits)
        if np.any(arr < qmin) or np.any(arr > qmax):
            raise ValueError(f"zero_point {zero_point!r} is outside the {bits}-bit grid "
                             f"[{qmin}, {qmax}]")
    return arr.astype(np.int64)


def _storage_dtype(bits: int) -> type[np.signedinteger]:
    return np.int8 if bits <= 8 else np.int16


# --------------------------------------------------------------------------------------
# Affine quantization (exercises 02.choose_qparams, 02.quantize, 02.dequantize,
# 02.quantize_per_channel)
# --------------------------------------------------------------------------------------

def integer_range(bits: int, *, symmetric: bool = False) -> tuple[int, int]:
    """The signed integer grid ``(qmin, qmax)`` of ``bits`` bits.

    Symmetric quantization drops the most negative code so that the grid is ``±qmax``.

    Example
    -------
    >>> integer_range(8), integer_range(8, symmetric=True), integer_range(4)
    ((-128, 127), (-127, 127), (-8, 7))
    """
    bits = _check_bits(bits)
    qmax = 2 ** (bits - 1) - 1
    return (-qmax if symmetric else -qmax - 1), qmax


def choose_qparams(x_min: float, x_max: float, bits: int = 8, symmetric: bool = False
                   ) -> tuple[float, int]:
    """Scale and zero point that map ``[x_min, x_max]`` onto a signed ``bits``-bit grid.

    Parameters
    ----------
    x_min, x_max : float
        The range to represent, ``x_min <= x_max``. It is widened to contain 0, so that 0
        is represented exactly (zero padding, ReLU outputs).
    bits : int, default 8
        Width of the grid, 2 to 16: ``qmin = -2**(bits-1)``, ``qmax = 2**(bits-1) - 1``.
    symmetric : bool, default False
        ``True``: ``scale = max(|x_min|, |x_max|) / qmax`` and ``zero_point = 0``.
        ``False``: ``scale = (hi - lo) / (qmax - qmin)`` with ``lo = min(x_min, 0)``,
        ``hi = max(x_max, 0)``, and ``zero_point = round(qmin - lo / scale)`` clipped to
        ``[qmin, qmax]``.

    Returns
    -------
    (scale, zero_point) : (float, int)
        ``scale > 0``. A range that is all zero returns ``(1.0, 0)``.

    Raises
    ------
    TypeError
        If a bound is not a real number or ``bits`` is not an int.
    ValueError
        If a bound is not finite, ``x_min > x_max``, or ``bits`` is outside 2–16.

    Example
    -------
    >>> choose_qparams(0.0, 6.0)  # ReLU6 outputs: 0 maps to -128
    (0.023529411764705882, -128)
    >>> choose_qparams(-0.5, 0.25, symmetric=True)
    (0.003937007874015748, 0)
    """
    x_min, x_max = check_real(x_min, "x_min"), check_real(x_max, "x_max")
    if x_min > x_max:
        raise ValueError(f"x_min must be <= x_max, got x_min={x_min}, x_max={x_max}; "
                         "swap them")
    qmin, qmax = integer_range(bits)
    if symmetric:
        bound = max(abs(x_min), abs(x_max))
        return (bound / qmax, 0) if bound > 0 else (1.0, 0)
    lo, hi = min(x_min, 0.0), max(x_max, 0.0)
    if hi == lo:
        return 1.0, 0
    scale = (hi - lo) / (qmax - qmin)
    zero_point = int(np.clip(np.round(qmin - lo / scale), qmin, qmax))
    return scale, zero_point


def quantize(x: Any, scale: Any, zero_point: Any, bits: int = 8) -> np.ndarray:
    """Real values to integers: ``clip(round(x / scale) + zero_point, qmin, qmax)``.

    Parameters
    ----------
    x : array_like of float
        Values to quantize, any shape.
    scale : float > 0, or array broadcastable to ``x``
    zero_point : int, or integer array broadcastable to ``x``; inside the grid
    bits : int, default 8
        Grid width, 2–16 (``qmin = -2**(bits-1)``, ``qmax = 2**(bits-1) - 1``).

    Returns
    -------
    numpy.ndarray
        Same shape as ``x``; ``int8`` for ``bits <= 8``, else ``int16``. Rounds half to even.

    Raises
    ------
    TypeError
        If ``x`` is not numeric, or ``bits`` or ``zero_point`` is not an integer.
    ValueError
        If ``x`` or ``scale`` holds NaN/inf, ``scale <= 0``, ``zero_point`` is off the grid,
        or ``bits`` is outside 2–16.

    Example
    -------
    >>> quantize([0.1, -0.26, 5.0], 0.1, 0, bits=4)
    array([ 1, -3,  7], dtype=int8)
    """
    bits = _check_bits(bits)
    scale = _check_scale(scale)
    zero_point = _check_zero_point(zero_point, bits)
    qmin, qmax = integer_range(bits)
    x = check_array(x, "x", allow_empty=True).astype(np.float64)
    q = np.round(x / scale) + zero_point
    return np.clip(q, qmin, qmax).astype(_storage_dtype(bits))


def dequantize(q: Any, scale: Any, zero_point: Any) -> np.ndarray:
    """Integers back to real values: ``scale * (q - zero_point)``, as float32.

    The subtraction is done in a wide type: ``int8`` arithmetic would wrap around
    (``np.int8(-128) - 100`` is 28, not -228).

    Parameters
    ----------
    q : array_like of int
    scale : float > 0, or array broadcastable to ``q``
    zero_point : int, or integer array broadcastable to ``q``

    Returns
    -------
    numpy.ndarray of float32, the shape of ``q`` (broadcast with scale and zero point).

    Raises
    ------
    TypeError
        If ``q`` or ``zero_point`` is not integer.
    ValueError
        If ``scale <= 0``.

    Example
    -------
    >>> dequantize(np.array([-128, 0, 127], dtype=np.int8), 0.5, -128)
    array([  0. ,  64. , 127.5], dtype=float32)
    """
    arr = check_array(q, "q", kinds="iu", allow_empty=True, hint="quantize() first")
    scale = _check_scale(scale)
    zero_point = _check_zero_point(zero_point, None)
    return ((arr.astype(np.int64) - zero_point) * scale).astype(np.float32)


def quantize_per_channel(w: Any, bits: int = 8, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric quantization with one scale per channel along ``axis``.

    Channel ``c`` gets ``scale[c] = max |w[..., c, ...]| / qmax`` (the maximum taken over
    every axis except ``axis``; a channel of zeros gets scale 1.0) and zero point 0, which
    is how LiteRT stores int8 convolution kernels.

    Parameters
    ----------
    w : array_like of float, at least 1-D
        E.g. a Keras Conv2D kernel ``(kh, kw, c_in, c_out)``: output channels are ``axis=-1``.
    bits : int, default 8
    axis : int, default -1
        The channel axis; negative values count from the end.

    Returns
    -------
    (q, scales)
        ``q``: integers of ``w``'s shape in ``[-qmax, qmax]`` (int8 for ``bits <= 8``, else
        int16); ``scales``: float64 array of shape ``(w.shape[axis],)``.

    Raises
    ------
    ValueError
        If ``w`` is 0-D, ``axis`` is out of range, or ``bits`` is outside 2–16.

    Example
    -------
    >>> q, scales = quantize_per_channel(np.array([[0.5, -2.0], [-1.0, 1.0]]))
    >>> q
    array([[  64, -127],
           [-127,   64]], dtype=int8)
    >>> scales.round(5)
    array([0.00787, 0.01575])
    """
    bits = _check_bits(bits)
    w = check_array(w, "w").astype(np.float64)
    if w.ndim == 0:
        raise ValueError("w must have at least one axis (the channels), got a scalar")
    axis = check_int(axis, "axis")
    if not -w.ndim <= axis < w.ndim:
        raise ValueError(f"axis {axis} is out of range for w with shape {w.shape}")
    axis = int(axis) % w.ndim
    _, qmax = integer_range(bits, symmetric=True)
    others = tuple(i for i in range(w.ndim) if i != axis)
    bound = np.max(np.abs(w), axis=others) if others else np.abs(w)
    scales = np.where(bound > 0, bound / qmax, 1.0)
    shape = [1] * w.ndim
    shape[axis] = -1
    q = np.clip(np.round(w / scales.reshape(shape)), -qmax, qmax)
    return q.astype(_storage_dtype(bits)), scales


# --------------------------------------------------------------------------------------
# Error measures and calibration
# --------------------------------------------------------------------------------------

def fake_quantize(x: Any, bits: int = 8, *, x_min: float | None = None,
                  x_max: float | None = None, symmetric: bool = False) -> np.ndarray:
    """Quantize then dequantize ``x`` with one scale: what the model computes with.

    The range defaults to ``[min(x), max(x)]`` (min/max calibration); values outside a
    narrower range are clipped.

    Example
    -------
    >>> fake_quantize(np.array([0.0, 0.3, 1.0]), bits=2)
    array([0.        , 0.33333334, 1.        ], dtype=float32)
    """
    x = check_array(x, "x").astype(np.float64)
    lo = float(x.min()) if x_min is None else x_min
    hi = float(x.max()) if x_max is None else x_max
    scale, zero_point = choose_qparams(lo, hi, bits, symmetric)
    return dequantize(quantize(x, scale, zero_point, bits), scale, zero_point)


def quantization_error(x: Any, x_hat: Any) -> tuple[float, float]:
    """``(mse, sqnr_db)`` of an approximation ``x_hat`` of ``x``.

    SQNR (signal-to-quantization-noise ratio) is ``10 log10(mean(x²) / mse)`` in dB; it
    grows by about 6 dB per bit. A perfect copy gives ``(0.0, inf)``; any error on an all-zero
    ``x`` gives ``-inf``.

    Example
    -------
    >>> mse, sqnr = quantization_error([1.0, -1.0], [0.9, -1.1])
    >>> round(mse, 4), round(sqnr, 1)
    (0.01, 20.0)
    """
    x = check_array(x, "x").astype(np.float64)
    x_hat = check_array(x_hat, "x_hat").astype(np.float64)
    if x.shape != x_hat.shape:
        raise ValueError(f"x and x_hat must have the same shape, got {x.shape} and {x_hat.shape}")
    mse = float(np.mean((x - x_hat) ** 2))
    power = float(np.mean(x**2))
    if mse == 0:
        return 0.0, float("inf")
    if power == 0:  # all-zero signal, non-zero error
        return mse, float("-inf")
    return mse, float(10.0 * np.log10(power / mse))


def percentile_range(x: Any, percentile: float = 99.99) -> tuple[float, float]:
    """Calibration range that ignores outliers: the ``100 - p`` and ``p`` percentiles.

    ``percentile=100`` is min/max calibration.

    Example
    -------
    >>> percentile_range(np.arange(101.0), 90)
    (10.0, 90.0)
    """
    p = check_real(percentile, "percentile", low=50, high=100, include="high",
                   hint="99.99 ignores the 0.01 % most extreme values")
    lo, hi = np.percentile(check_array(x, "x").astype(np.float64), [100 - p, p])
    return float(lo), float(hi)


def activations(model: Any, x: Any, layer_names: Sequence[str], *,
                batch_size: int = 256) -> dict[str, np.ndarray]:
    """Outputs of the named layers of a tf_keras model for inputs ``x``.

    What calibration looks at: the ranges of these tensors decide their int8 scales.

    Parameters
    ----------
    model : tf_keras.Model
    x : array_like, shape ``(n, *model.input_shape[1:])``
    layer_names : sequence of str
        Names of layers of ``model`` (``[layer.name for layer in model.layers]``).

    Returns
    -------
    dict of name -> numpy.ndarray, the layer's output for every sample (after its activation
    function).
    """
    from labkit._tf import load

    _, keras = load()
    check_keras_model(model)
    known = [layer.name for layer in model.layers]
    missing = [name for name in layer_names if name not in known]
    if missing or not layer_names:
        raise ValueError(f"layer_names must name layers of the model, got {list(layer_names)}; "
                         f"the model has {known}")
    probe = keras.Model(model.inputs, [model.get_layer(name).output for name in layer_names])
    outputs = probe.predict(np.asarray(x, dtype=np.float32), batch_size=batch_size, verbose=0)
    if len(layer_names) == 1:
        outputs = [outputs]
    return dict(zip(layer_names, outputs))


# --------------------------------------------------------------------------------------
# Quantization-aware training (TensorFlow imported on first call)
# --------------------------------------------------------------------------------------

def quantize_aware_train(model: Any, x: Any, y: Any, *, epochs: int = 1, batch_size: int = 64,
                         learning_rate: float = 1e-4, seed: int = 0) -> Any:
    """Quantization-aware training: fine-tune a copy of ``model`` with fake-quantized weights
    and activations (tfmot ``quantize_model``), so it learns to live with int8 rounding.

    ``model`` itself is not changed. Convert the result with :func:`convert_qat`.

    Parameters
    ----------
    model : tf_keras.Model
        A trained float model (start from trained weights; QAT is a short fine-tune).
    x, y : arrays
        Training data and integer labels (sparse categorical cross-entropy).
    epochs, batch_size, learning_rate, seed
        The fine-tune: small learning rate, an epoch or two.

    Returns
    -------
    tf_keras.Model
        The quantization-aware model (compiled, trained).
    """
    from labkit._tf import load, load_tfmot, quiet_native_stderr

    _, keras = load()
    check_keras_model(model)
    epochs = check_int(epochs, "epochs", low=1)
    tfmot = load_tfmot()
    with quiet_native_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        keras.utils.set_random_seed(seed)
        qat_model = tfmot.quantization.keras.quantize_model(model)
    qat_model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    qat_model.fit(np.asarray(x, dtype=np.float32), np.asarray(y), epochs=int(epochs),
                  batch_size=batch_size, verbose=0, shuffle=True)
    return qat_model


__all__ = [
    "MAX_BITS", "VARIANTS", "activations", "choose_qparams", "convert", "convert_dynamic_range",
    "convert_float16", "convert_float32", "convert_int8", "convert_qat", "dequantize",
    "fake_quantize", "integer_range", "percentile_range", "quantization_error", "quantize",
    "quantize_aware_train", "quantize_per_channel",
]
