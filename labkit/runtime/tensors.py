"""Float data in, float data out: what every backend does at a model's edges.

A quantized model takes int8 (or uint8/int16) inputs and gives int8 outputs. Every backend
quantizes float inputs with the input tensor's own scale and zero point (:func:`_to_input`)
and dequantizes outputs (:func:`_from_output`), so all variants of a model take the same
float data and their outputs compare directly. Here too: the checks of a model file and of
the sample arrays that every backend applies first.

A tensor *detail* is the dict LiteRT and TFLite Micro describe a tensor with: ``dtype``,
``shape``, ``shape_signature`` and ``quantization`` / ``quantization_parameters``.

Example
-------
>>> detail = {"dtype": np.int8, "quantization": (0.5, -128)}
>>> q = _to_input(np.array([0.0, 1.0, 200.0]), detail)
>>> q
array([-128, -126,  127], dtype=int8)
>>> _from_output(q, detail)
array([  0. ,   1. , 127.5], dtype=float32)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labkit.validate import check_int

_INT_KINDS = (np.int8, np.uint8, np.int16)


def check_count(name: str, value: Any, minimum: int = 1) -> int:
    """``value`` as an int ``>= minimum`` (:func:`labkit.validate.check_int`)."""
    return check_int(value, name, low=minimum)


def check_samples(x: Any, detail: dict[str, Any]) -> np.ndarray:
    """``x`` as an array after checking it is a numeric batch ``(n, *input_shape)``.

    Axes the model leaves open (``-1`` in ``shape_signature``) accept any length.
    """
    x = np.asarray(x)
    expected = tuple(int(d) for d in detail.get("shape_signature", detail["shape"])[1:])
    if x.ndim != len(expected) + 1 or any(e > 0 and e != s for e, s in zip(expected, x.shape[1:])):
        raise ValueError(f"x must have shape (n, {', '.join(map(str, expected))}) to match the "
                         f"model's input, got {x.shape}")
    if x.dtype.kind not in "fiu":
        raise TypeError(f"x must be numeric, got dtype {x.dtype}")
    return x


def quantization_of(detail: dict[str, Any]) -> tuple[float, int]:
    """``(scale, zero_point)`` of a tensor detail; ``(0.0, 0)`` when it has none."""
    params = detail.get("quantization_parameters") or {}
    scales = np.atleast_1d(params.get("scales", []))
    zeros = np.atleast_1d(params.get("zero_points", []))
    if scales.size:
        return float(scales[0]), int(zeros[0]) if zeros.size else 0
    scale, zero = detail.get("quantization", (0.0, 0))
    return float(scale), int(zero)


def _to_input(x: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    """Float data → the input tensor's dtype (quantized with its scale and zero point)."""
    dtype = np.dtype(detail["dtype"])
    if dtype.type in _INT_KINDS:
        scale, zero = quantization_of(detail)
        if scale == 0:
            raise ValueError(f"the model's {dtype} input has no quantization parameters; "
                             "cannot quantize float data for it")
        info = np.iinfo(dtype)
        q = np.round(np.asarray(x, dtype=np.float64) / scale) + zero
        return np.clip(q, info.min, info.max).astype(dtype)
    return np.asarray(x).astype(dtype)


def _from_output(y: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    """Output tensor → float32 (dequantized when it is an integer tensor)."""
    if np.dtype(detail["dtype"]).type in _INT_KINDS:
        scale, zero = quantization_of(detail)
        if scale:
            return ((y.astype(np.int32) - zero) * scale).astype(np.float32)
    return y.astype(np.float32)


def random_input(detail: dict[str, Any], rng: np.random.Generator) -> np.ndarray:
    """Random values of the tensor's dtype and shape (integers over their whole range)."""
    dtype = np.dtype(detail["dtype"])
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        value = rng.integers(info.min, info.max, size=detail["shape"], endpoint=True)
    else:
        value = rng.random(detail["shape"])
    return value.astype(dtype)
