"""Every ONNX conversion of the course in one place, without the converters' noise (notebook 08).

- :func:`keras_to_onnx`: a tf_keras model → ``.onnx`` bytes with **tf2onnx**
  (``tf2onnx.convert.from_keras``), float32, batch axis left open;
- :func:`tflite_to_onnx`: a ``.tflite`` model → ``.onnx`` (``tf2onnx.convert.from_tflite``);
  an int8 ``.tflite`` becomes a QDQ graph with int8 input and output;
- :func:`quantize_static_int8`: ONNX Runtime's **static** post-training quantization of a
  float ONNX model (calibrated on ``x_calib``): QDQ format, int8 weights (per channel) and
  int8 activations, float input and output.

ONNX is an exchange format: a graph of standard operators (``Conv``, ``MatMul``, ``Relu``, …)
at a numbered *opset*, read by ONNX Runtime, OpenVINO, TensorRT and many others. tf2onnx
1.17 converts TensorFlow 2.21 / tf_keras models with numpy 2 on this machine. TensorFlow,
tf2onnx and onnxruntime are imported on first call.

Example
-------
>>> DEFAULT_OPSET
17
"""

from __future__ import annotations

import logging
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from labkit.validate import check_int, check_keras_model, check_model_bytes

DEFAULT_OPSET = 17  # supported by onnxruntime >= 1.13 and OpenVINO 2023+
INPUT_NAME = "input"


def _quietly(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call ``fn`` with TensorFlow's, tf2onnx's and onnxruntime's chatter silenced."""
    from labkit._tf import quiet_native_stderr

    loggers = [logging.getLogger(), logging.getLogger("tf2onnx")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with quiet_native_stderr(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def _tf2onnx() -> Any:
    from labkit._tf import load

    load()  # TensorFlow first, quietly, with tf_keras
    return _quietly(__import__, "tf2onnx")


def keras_to_onnx(model: Any, *, opset: int = DEFAULT_OPSET) -> bytes:
    """Export a tf_keras model to ONNX with tf2onnx; the input is named ``"input"``.

    Parameters
    ----------
    model : tf_keras.Model
        Built (trained) model with one input.
    opset : int, default 17
        The ONNX operator-set version to target.

    Returns
    -------
    bytes
        The serialized ``ModelProto`` (what ``onnx.save`` would write to a ``.onnx`` file).
    """
    from labkit._tf import load

    check_keras_model(model, built=True)
    opset = check_int(opset, "opset", low=7, high=23)
    tf, _ = load()
    tf2onnx = _tf2onnx()
    spec = (tf.TensorSpec((None, *model.input_shape[1:]), tf.float32, name=INPUT_NAME),)
    proto, _ = _quietly(tf2onnx.convert.from_keras, model, input_signature=spec, opset=opset)
    return proto.SerializeToString()


def tflite_to_onnx(model_bytes: bytes, *, opset: int = DEFAULT_OPSET) -> bytes:
    """Convert a ``.tflite`` model to ONNX with tf2onnx (quantized ops become QDQ pairs)."""
    model_bytes = check_model_bytes(model_bytes)
    opset = check_int(opset, "opset", low=7, high=23)
    tf2onnx = _tf2onnx()
    with tempfile.TemporaryDirectory(prefix="labkit-onnx-") as folder:
        path = Path(folder) / "model.tflite"
        path.write_bytes(model_bytes)
        proto, _ = _quietly(tf2onnx.convert.from_tflite, str(path), opset=opset)
    return proto.SerializeToString()


def quantize_static_int8(onnx_bytes: bytes, x_calib: Any, *, per_channel: bool = True) -> bytes:
    """ONNX Runtime's static int8 quantization of a float ONNX model.

    The model is first pre-processed (``quant_pre_process``: shape inference and graph
    clean-up, as ONNX Runtime recommends), then ``quantize_static`` runs every sample of
    ``x_calib`` through it to record activation ranges (MinMax calibration) and inserts
    ``QuantizeLinear``/``DequantizeLinear`` pairs (QDQ format): int8 weights, per output
    channel when ``per_channel``, int8 activations; the input and output stay float32.

    Parameters
    ----------
    onnx_bytes : bytes
        A float32 ONNX model with one input.
    x_calib : array_like, shape ``(n, *input_shape)``
        Calibration samples (a few hundred training samples).
    per_channel : bool, default True
    """
    from labkit.runtime.onnx import io_details, model_format

    if model_format(onnx_bytes, "onnx_bytes") != "onnx":
        raise ValueError("onnx_bytes is a .tflite model; convert it with tflite_to_onnx first")
    inp, _ = io_details(onnx_bytes)
    x = np.asarray(x_calib, dtype=np.float32)
    expected = tuple(int(d) for d in inp["shape_signature"][1:])
    if x.ndim != len(expected) + 1 or len(x) == 0 or any(
            e > 0 and e != s for e, s in zip(expected, x.shape[1:])):
        raise ValueError(f"x_calib must be a non-empty array of shape (n, "
                         f"{', '.join(map(str, expected))}), got {x.shape}")
    if not isinstance(per_channel, bool):
        raise TypeError(f"per_channel must be a bool, got {per_channel!r}")
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quant_pre_process,
        quantize_static,
    )

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.samples = iter(x[i:i + 1] for i in range(len(x)))

        def get_next(self) -> dict[str, np.ndarray] | None:
            sample = next(self.samples, None)
            return None if sample is None else {inp["name"]: sample}

    with tempfile.TemporaryDirectory(prefix="labkit-onnx-") as folder:
        src, pre, dst = (Path(folder) / f"{n}.onnx" for n in ("float", "pre", "int8"))
        src.write_bytes(bytes(onnx_bytes))
        _quietly(quant_pre_process, str(src), str(pre), skip_symbolic_shape=True)
        _quietly(quantize_static, str(pre), str(dst), Reader(), quant_format=QuantFormat.QDQ,
                 per_channel=per_channel, activation_type=QuantType.QInt8,
                 weight_type=QuantType.QInt8)
        return dst.read_bytes()


__all__ = ["DEFAULT_OPSET", "INPUT_NAME", "keras_to_onnx", "quantize_static_int8",
           "tflite_to_onnx"]
