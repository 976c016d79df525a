"""LiteRT, the ``.tflite`` interpreter of phones and PCs (``ai_edge_litert``; notebook 02).

- :class:`LiteRT`: the backend (see :mod:`labkit.runtime.backend`); on x86 and Arm CPUs
  LiteRT runs float32 and int8 models through the XNNPACK delegate;
- :func:`predict` / :func:`evaluate`: outputs and accuracy of a model on a whole data set,
  in batches, with every variant taking the same float data.

Example
-------
>>> backend = LiteRT(batch_size=64)
>>> backend
LiteRT(batch_size=64)
>>> handle = backend.load(model_bytes, threads=1)  # doctest: +SKIP
>>> backend.predict(handle, x_test[:5]).shape  # doctest: +SKIP
(5, 10)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from labkit.runtime.backend import Backend, LatencyStats, flush_c_stdio, time_invocations
from labkit.runtime.report import ModelReport, describe
from labkit.runtime.tensors import (
    _from_output,
    _to_input,
    check_count,
    check_samples,
    random_input,
)
from labkit.validate import check_model_bytes


@dataclass
class LiteRTModel:
    """A model loaded by :class:`LiteRT`: the interpreter and the batch its input is sized for."""

    interpreter: Any
    threads: int | None
    batch: int | None  # first axis of the input; None for a scalar input

    @property
    def input(self) -> dict[str, Any]:
        return self.interpreter.get_input_details()[0]

    @property
    def output(self) -> dict[str, Any]:
        return self.interpreter.get_output_details()[0]

    def resize(self, batch: int) -> None:
        """Resize the input's first axis to ``batch`` (kept for the next calls)."""
        if self.batch is not None and batch != self.batch:
            self.interpreter.resize_tensor_input(self.input["index"],
                                                 [batch, *self.input["shape"][1:]], strict=False)
            self.interpreter.allocate_tensors()
            self.batch = batch


class LiteRT(Backend):
    """The LiteRT interpreter.

    Parameters
    ----------
    batch_size : int, default 256
        Samples per ``invoke()`` in :meth:`predict` (the input is resized once; the last
        batch is padded).
    """

    name = "litert"

    def __init__(self, *, batch_size: int = 256) -> None:
        self.batch_size = check_count("batch_size", batch_size)

    def __repr__(self) -> str:
        return f"LiteRT(batch_size={self.batch_size})"

    def load(self, model_bytes: bytes, *, threads: int | None = None) -> LiteRTModel:
        from ai_edge_litert.interpreter import Interpreter

        from labkit._tf import quiet_native_stderr

        model_bytes = check_model_bytes(model_bytes)
        if threads is not None:
            threads = check_count("threads", threads)
        with quiet_native_stderr():  # "INFO: Created TensorFlow Lite XNNPACK delegate for CPU."
            try:
                interpreter = Interpreter(model_content=model_bytes, num_threads=threads)
                interpreter.allocate_tensors()
            finally:
                flush_c_stdio()
        inputs = interpreter.get_input_details()
        batch = int(inputs[0]["shape"][0]) if inputs and len(inputs[0]["shape"]) else None
        return LiteRTModel(interpreter, threads, batch)

    def predict(self, handle: LiteRTModel, x: Any) -> np.ndarray:
        interp = handle.interpreter
        if len(interp.get_input_details()) != 1 or len(interp.get_output_details()) != 1:
            raise ValueError(f"predict handles models with one input and one output, this one "
                             f"has {len(interp.get_input_details())} inputs and "
                             f"{len(interp.get_output_details())} outputs")
        x = check_samples(x, handle.input)
        n = len(x)
        batch = max(1, min(self.batch_size, n))
        handle.resize(batch)
        in_detail, out_detail = handle.input, handle.output
        results = []
        for start in range(0, n, batch):
            chunk = _to_input(x[start:start + batch], in_detail)
            if len(chunk) < batch:
                pad = np.zeros((batch - len(chunk), *chunk.shape[1:]), dtype=chunk.dtype)
                chunk = np.concatenate([chunk, pad])
            interp.set_tensor(in_detail["index"], chunk)
            interp.invoke()
            out = interp.get_tensor(out_detail["index"])[: min(batch, n - start)]
            results.append(_from_output(out, out_detail))
        if not results:
            return np.zeros((0, *tuple(out_detail["shape"][1:])), np.float32)
        return np.concatenate(results)

    def benchmark(self, handle: LiteRTModel, *, warmup: int = 20, runs: int = 200,
                  seed: int = 0) -> LatencyStats:
        interp = handle.interpreter
        handle.resize(1)
        rng = np.random.default_rng(seed)
        for detail in interp.get_input_details():
            interp.set_tensor(detail["index"], random_input(detail, rng))
        # threads=None is LiteRT's default, under which XNNPACK runs on one thread
        return time_invocations(interp.invoke, threads=handle.threads or 1, warmup=warmup,
                                runs=runs)

    def describe(self, model_bytes: bytes) -> ModelReport:
        return describe(model_bytes)


def predict(model_bytes: bytes, x: Any, *, batch_size: int = 256,
            threads: int | None = None) -> np.ndarray:
    """Run a single-input, single-output ``.tflite`` model on every sample of ``x``.

    Parameters
    ----------
    model_bytes : bytes
        The ``.tflite`` model.
    x : array_like, shape ``(n, *input_shape)``
        Real-valued inputs as the Keras model takes them; they are quantized here when the
        model has an int8/uint8 input.
    batch_size : int, default 256
        Samples per ``invoke()`` (the input tensor is resized once; the last batch is padded).
    threads : int, optional
        Interpreter threads (LiteRT's default when None).

    Returns
    -------
    numpy.ndarray of float32, shape ``(n, *output_shape)``; int8 outputs are dequantized.

    Raises
    ------
    TypeError
        If ``model_bytes`` is not bytes or ``x`` is not numeric.
    ValueError
        If ``model_bytes`` is not a ``.tflite`` model, the model has several inputs or
        outputs, or ``x`` does not match its input shape.
    """
    model_bytes = check_model_bytes(model_bytes)
    backend = LiteRT(batch_size=batch_size)
    return backend.predict(backend.load(model_bytes, threads=threads), x)


def evaluate(model_bytes: bytes, x: Any, y: Any, *, batch_size: int = 256,
             threads: int | None = None) -> float:
    """Accuracy (a fraction in [0, 1]) of a classifier ``.tflite`` model on LiteRT.

    The predicted class is the argmax of the last output axis; ``y`` holds integer labels.
    See :func:`predict` for the other arguments.
    """
    y = np.asarray(y)
    if y.ndim != 1 or y.dtype.kind not in "iu":
        raise ValueError(f"y must be a 1-D array of integer labels, got shape {y.shape} dtype "
                         f"{y.dtype}")
    if len(y) != len(x):
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")
    if len(y) == 0:
        raise ValueError("x and y are empty; nothing to evaluate")
    out = predict(model_bytes, x, batch_size=batch_size, threads=threads)
    return float(np.mean(np.argmax(out.reshape(len(y), -1), axis=-1) == y))
