"""Run and measure ``.tflite`` models on LiteRT and TFLite Micro (introduced in notebook 02).

- :func:`predict` / :func:`evaluate`: outputs and accuracy on the LiteRT interpreter
  (``ai_edge_litert``), in batches, quantizing int8/uint8 inputs and dequantizing outputs
  with the model's own scale and zero point, so every variant takes the same float data.
- :func:`benchmark`: latency of one ``invoke()`` at batch 1 → :class:`LatencyStats`;
  :func:`benchmark_models` compares several models in interleaved rounds.
- :func:`inspect`: what is inside a model file (ops, tensor types, bytes of parameters by
  type, input/output quantization) → :class:`ModelReport`. Reads the flatbuffer directly.
- :func:`runs_on_micro` and :func:`run_micro`: TFLite Micro, the microcontroller
  interpreter, which runs float32 and int8 models but refuses dynamic-range and float16 ones.
- :func:`gzipped_size_bytes`: the size of a model file after gzip.

Nothing here imports TensorFlow.

Example
-------
>>> stats = LatencyStats(median_ms=0.5, p10_ms=0.4, p90_ms=0.7, mean_ms=0.55, min_ms=0.38,
...                      count=200, threads=1)
>>> stats
LatencyStats(median 0.500 ms, p10 0.400 ms, p90 0.700 ms, mean 0.550 ms, 200 runs, 1 thread)
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import gzip
import numbers
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from labkit.validate import check_int, check_model_bytes

DEFAULT_MICRO_ARENA_BYTES = 4 * 1024 * 1024  # generous for a PC; pass the real budget on an MCU
_INT_KINDS = (np.int8, np.uint8, np.int16)


# --------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------

def _quant(detail: dict[str, Any]) -> tuple[float, int]:
    """(scale, zero_point) of a LiteRT or TFLite Micro tensor detail; (0.0, 0) if none."""
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
        scale, zero = _quant(detail)
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
        scale, zero = _quant(detail)
        if scale:
            return ((y.astype(np.int32) - zero) * scale).astype(np.float32)
    return y.astype(np.float32)


def _flush_c_stdio() -> None:
    """Flush C stdio buffers, so native log lines leave while stderr is still redirected."""
    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError, TypeError):  # no C library handle (e.g. Windows)
        pass


def _interpreter(model_bytes: bytes, threads: int | None, batch: int | None = None) -> Any:
    """A LiteRT interpreter with tensors allocated (input resized to ``batch`` if given)."""
    from ai_edge_litert.interpreter import Interpreter

    from labkit._tf import quiet_native_stderr

    with quiet_native_stderr():  # "INFO: Created TensorFlow Lite XNNPACK delegate for CPU."
        try:
            interp = Interpreter(model_content=model_bytes, num_threads=threads)
            if batch is not None:
                detail = interp.get_input_details()[0]
                interp.resize_tensor_input(detail["index"], [batch, *detail["shape"][1:]],
                                           strict=False)
            interp.allocate_tensors()
        finally:
            _flush_c_stdio()
    return interp


def _check_samples(x: Any, detail: dict[str, Any]) -> np.ndarray:
    x = np.asarray(x)
    expected = tuple(int(d) for d in detail["shape_signature"][1:])
    if x.ndim != len(expected) + 1 or any(e > 0 and e != s for e, s in zip(expected, x.shape[1:])):
        raise ValueError(f"x must have shape (n, {', '.join(map(str, expected))}) to match the "
                         f"model's input, got {x.shape}")
    if x.dtype.kind not in "fiu":
        raise TypeError(f"x must be numeric, got dtype {x.dtype}")
    return x


# --------------------------------------------------------------------------------------
# Outputs and accuracy
# --------------------------------------------------------------------------------------

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
    """
    model_bytes = check_model_bytes(model_bytes)
    batch_size = check_int(batch_size, "batch_size", low=1)
    report = inspect(model_bytes)
    if len(report.inputs) != 1 or len(report.outputs) != 1:
        raise ValueError(f"predict handles models with one input and one output, this one has "
                         f"{len(report.inputs)} inputs and {len(report.outputs)} outputs")
    x = np.asarray(x)
    n = len(x) if x.ndim else 0
    batch = max(1, min(batch_size, n))
    interp = _interpreter(model_bytes, threads, batch)
    x = _check_samples(x, interp.get_input_details()[0])
    in_detail = interp.get_input_details()[0]
    out_detail = interp.get_output_details()[0]
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
    return np.concatenate(results) if results else np.zeros((0,), np.float32)


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


# --------------------------------------------------------------------------------------
# Latency
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LatencyStats:
    """Latency of one ``invoke()`` in milliseconds, over ``count`` timed runs."""

    median_ms: float
    p10_ms: float
    p90_ms: float
    mean_ms: float
    min_ms: float
    count: int
    threads: int

    def __repr__(self) -> str:
        return (f"LatencyStats(median {self.median_ms:.3f} ms, p10 {self.p10_ms:.3f} ms, "
                f"p90 {self.p90_ms:.3f} ms, mean {self.mean_ms:.3f} ms, {self.count} runs, "
                f"{self.threads} thread{'s' if self.threads != 1 else ''})")

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def benchmark(model_bytes: bytes, *, threads: int = 1, warmup: int = 20, runs: int = 200,
              seed: int = 0) -> LatencyStats:
    """Time ``invoke()`` of a ``.tflite`` model at batch 1 on LiteRT.

    The input is set once (random values of the input's dtype); only ``invoke()`` is
    timed, with the garbage collector paused. Other programs running on the machine add
    noise: compare medians, and rerun when p90 is far above the median.

    Parameters
    ----------
    model_bytes : bytes
    threads : int, default 1
        Interpreter threads (the XNNPACK delegate uses them).
    warmup : int, default 20
        Untimed runs first (caches, lazy initialisation).
    runs : int, default 200
        Timed runs.
    seed : int
        Seed of the random input.

    Returns
    -------
    LatencyStats
        ``median_ms``, ``p10_ms``, ``p90_ms``, ``mean_ms``, ``min_ms``, ``count``, ``threads``.
    """
    model_bytes = check_model_bytes(model_bytes)
    threads = check_int(threads, "threads", low=1)
    warmup = check_int(warmup, "warmup", low=0)
    runs = check_int(runs, "runs", low=1)
    interp = _interpreter(model_bytes, threads)
    rng = np.random.default_rng(seed)
    for detail in interp.get_input_details():
        dtype = np.dtype(detail["dtype"])
        if dtype.kind in "iu":
            info = np.iinfo(dtype)
            value = rng.integers(info.min, info.max, size=detail["shape"], endpoint=True)
        else:
            value = rng.random(detail["shape"])
        interp.set_tensor(detail["index"], value.astype(dtype))
    for _ in range(warmup):
        interp.invoke()
    times = np.empty(runs)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for i in range(runs):
            start = time.perf_counter_ns()
            interp.invoke()
            times[i] = time.perf_counter_ns() - start
    finally:
        if was_enabled:
            gc.enable()
    ms = times / 1e6
    p10, median, p90 = np.percentile(ms, [10, 50, 90])
    return LatencyStats(float(median), float(p10), float(p90), float(ms.mean()),
                        float(ms.min()), runs, threads)


def benchmark_models(models: dict[str, bytes], *, threads: int = 1, rounds: int = 3,
                     warmup: int = 20, runs: int = 200) -> dict[str, LatencyStats]:
    """Benchmark several models fairly: ``rounds`` rounds, each timing every model in turn,
    keeping for each model the round with the lowest median.

    Another program that runs for a while slows down whichever model is being timed; taking
    the best of interleaved rounds keeps that from deciding a comparison.

    Parameters
    ----------
    models : dict of name -> ``.tflite`` bytes
    threads, warmup, runs
        As in :func:`benchmark`.
    rounds : int, default 3

    Returns
    -------
    dict of name -> LatencyStats, in the order of ``models``.
    """
    if not isinstance(models, dict) or not models:
        raise TypeError("models must be a non-empty dict of name -> .tflite bytes")
    rounds = check_int(rounds, "rounds", low=1)
    best: dict[str, LatencyStats] = {}
    for _ in range(rounds):
        for name, model_bytes in models.items():
            stats = benchmark(model_bytes, threads=threads, warmup=warmup, runs=runs)
            if name not in best or stats.median_ms < best[name].median_ms:
                best[name] = stats
    return best


# --------------------------------------------------------------------------------------
# What is inside a model
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TensorInfo:
    """One tensor of a ``.tflite`` model: type, shape, quantization, stored bytes."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    scales: tuple[float, ...] = ()
    zero_points: tuple[int, ...] = ()
    size_bytes: int = 0  # bytes stored in the file (constants only)
    role: str = ""  # for constants: the op that reads it and how, e.g. "CONV_2D #1 weights"
    index: int = -1  # position in the subgraph (LiteRT's tensor index)

    @property
    def per_channel(self) -> bool:
        return len(self.scales) > 1

    def quantization(self) -> str:
        """``"none"``, ``"scale 0.0039, zero point -128"`` or ``"per-channel (16 scales)"``."""
        if not self.scales:
            return "none"
        if self.per_channel:
            return f"per-channel ({len(self.scales)} scales)"
        return f"scale {self.scales[0]:.4g}, zero point {self.zero_points[0]}"

    def __repr__(self) -> str:
        return f"<{self.dtype} {self.name} {list(self.shape)} quantization: {self.quantization()}>"


@dataclass(frozen=True)
class ModelReport:
    """What :func:`inspect` found in a ``.tflite`` model."""

    size_bytes: int
    ops: dict[str, int]
    tensors_by_dtype: dict[str, int]
    param_bytes_by_dtype: dict[str, int]
    param_count_by_dtype: dict[str, int]
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]
    constants: tuple[TensorInfo, ...] = field(repr=False)

    def __repr__(self) -> str:
        def io(tensors: tuple[TensorInfo, ...]) -> str:
            return "; ".join(f"{t.dtype} {list(t.shape)} ({t.quantization()})" for t in tensors)

        ops = ", ".join(f"{name}×{n}" for name, n in self.ops.items())
        params = ", ".join(f"{d}: {self.param_count_by_dtype[d]:,} values / {b:,} B"
                           for d, b in self.param_bytes_by_dtype.items())
        tensors = ", ".join(f"{d}: {n}" for d, n in self.tensors_by_dtype.items())
        return (f"ModelReport({self.size_bytes:,} bytes)\n"
                f"  ops:        {ops}\n"
                f"  tensors:    {tensors}\n"
                f"  parameters: {params}\n"
                f"  input:      {io(self.inputs)}\n"
                f"  output:     {io(self.outputs)}")

    @property
    def weight_dtypes(self) -> set[str]:
        """Types of the weight tensors (constants with 2 or more axes: kernels, matrices)."""
        return {t.dtype for t in self.constants if len(t.shape) >= 2}

    def table(self) -> str:
        """A Markdown table of the stored constants (weights, biases, shapes)."""
        lines = ["| constant | dtype | shape | bytes | quantization |", "|---|---|---|---:|---|"]
        for t in self.constants:
            lines.append(f"| {t.role or t.name} | {t.dtype} | {list(t.shape)} | "
                         f"{t.size_bytes:,} | {t.quantization()} |")
        return "\n".join(lines)


def _names(enum_class: type) -> dict[int, str]:
    return {v: k for k, v in vars(enum_class).items() if not k.startswith("_")}


_WEIGHTED_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "CONV_3D", "TRANSPOSE_CONV")


def _roles(model: Any, graph: Any, op_names: dict[int, str]) -> dict[int, tuple[int, str]]:
    """Tensor index → (op position, "CONV_2D #2 weights") for the first op that reads it.

    A float16 constant read by DEQUANTIZE takes the role of the dequantized copy.
    """
    roles: dict[int, tuple[int, str]] = {}
    dequantized: dict[int, int] = {}  # output tensor of a DEQUANTIZE -> its input tensor
    seen: dict[str, int] = {}
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        name = _op_name(model.OperatorCodes(op.OpcodeIndex()), op_names)
        seen[name] = seen.get(name, 0) + 1
        inputs = op.InputsAsNumpy()
        if name == "DEQUANTIZE":
            dequantized[int(op.OutputsAsNumpy()[0])] = int(inputs[0])
            continue
        for position, tensor in enumerate(inputs if isinstance(inputs, np.ndarray) else ()):
            tensor = dequantized.get(int(tensor), int(tensor))
            if tensor < 0 or tensor in roles:
                continue
            if name in _WEIGHTED_OPS and position in (1, 2):
                role = ("weights", "bias")[position - 1]
            else:
                role = {0: "input", 1: "shape" if name == "RESHAPE" else "input 1"}.get(
                    position, f"input {position}")
            roles[tensor] = (i, f"{name} #{seen[name]} {role}")
    return roles


def _op_name(code: Any, op_names: dict[int, str]) -> str:
    number = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
    name = op_names.get(number, f"OP_{number}")
    if name == "CUSTOM":
        name = f"CUSTOM:{(code.CustomCode() or b'').decode()}"
    return name


def _tensor_info(tensor: Any, index: int, size_bytes: int, type_names: dict[int, str],
                 role: str = "") -> TensorInfo:
    shape = tensor.ShapeAsNumpy()
    shape = tuple(int(d) for d in shape) if isinstance(shape, np.ndarray) else ()
    quant = tensor.Quantization()
    scales: tuple[float, ...] = ()
    zeros: tuple[int, ...] = ()
    if quant is not None and quant.ScaleLength():
        scales = tuple(float(s) for s in quant.ScaleAsNumpy())
        zeros = tuple(int(z) for z in quant.ZeroPointAsNumpy()) if quant.ZeroPointLength() \
            else (0,) * len(scales)
    return TensorInfo((tensor.Name() or b"").decode(), type_names[tensor.Type()].lower(),
                      shape, scales, zeros, size_bytes, role, index)


def inspect(model_bytes: bytes) -> ModelReport:
    """Read a ``.tflite`` model's ops, tensors, parameter bytes and I/O quantization.

    Parameters are the constant tensors stored in the file (weights, biases, shapes); their
    bytes by dtype show what a converter setting changed (float32 → int8 weights, float16
    copies, int32 biases).

    Returns
    -------
    ModelReport
        Prints as a short summary; ``.table()`` lists every constant tensor.
    """
    from ai_edge_litert import schema_py_generated as schema

    model_bytes = check_model_bytes(model_bytes)
    model = schema.Model.GetRootAs(model_bytes, 0)
    type_names, op_names = _names(schema.TensorType), _names(schema.BuiltinOperator)
    ops: dict[str, int] = {}
    tensors_by_dtype: dict[str, int] = {}
    param_bytes: dict[str, int] = {}
    param_count: dict[str, int] = {}
    constants: list[tuple[int, int, TensorInfo]] = []
    inputs: list[TensorInfo] = []
    outputs: list[TensorInfo] = []
    for g in range(model.SubgraphsLength()):
        graph = model.Subgraphs(g)
        for i in range(graph.OperatorsLength()):
            name = _op_name(model.OperatorCodes(graph.Operators(i).OpcodeIndex()), op_names)
            ops[name] = ops.get(name, 0) + 1
        roles = _roles(model, graph, op_names)
        infos = []
        for i in range(graph.TensorsLength()):
            tensor = graph.Tensors(i)
            buffer = model.Buffers(tensor.Buffer()) if tensor.Buffer() else None
            stored = (buffer.DataLength() or int(buffer.Size())) if buffer is not None else 0
            order, role = roles.get(i, (len(roles), "")) if stored else (0, "")
            info = _tensor_info(tensor, i, stored, type_names, role)
            infos.append(info)
            tensors_by_dtype[info.dtype] = tensors_by_dtype.get(info.dtype, 0) + 1
            if stored:
                constants.append((g, order, info))
                param_bytes[info.dtype] = param_bytes.get(info.dtype, 0) + stored
                param_count[info.dtype] = (param_count.get(info.dtype, 0)
                                           + int(np.prod(info.shape, dtype=np.int64)))
        if g == 0:
            inputs = [infos[int(i)] for i in graph.InputsAsNumpy()]
            outputs = [infos[int(i)] for i in graph.OutputsAsNumpy()]
    return ModelReport(len(model_bytes), ops, tensors_by_dtype, param_bytes, param_count,
                       tuple(inputs), tuple(outputs),
                       tuple(info for *_, info in sorted(constants, key=lambda c: c[:2])))


def read_constant(model_bytes: bytes, tensor: TensorInfo | int) -> np.ndarray:
    """The values of a constant tensor (weights, biases) as stored in the file.

    Parameters
    ----------
    model_bytes : bytes
    tensor : TensorInfo or int
        An entry of ``inspect(model_bytes).constants``, or its ``index``.

    Returns
    -------
    numpy.ndarray with the tensor's dtype and shape (e.g. int8 ``(c_out, kh, kw, c_in)`` for
    a quantized CONV_2D kernel; dequantize with its ``scales``).
    """
    from ai_edge_litert import schema_py_generated as schema

    model_bytes = check_model_bytes(model_bytes)
    index = tensor.index if isinstance(tensor, TensorInfo) else tensor
    model = schema.Model.GetRootAs(model_bytes, 0)
    graph = model.Subgraphs(0)
    if isinstance(index, bool) or not isinstance(index, numbers.Integral) \
            or not 0 <= index < graph.TensorsLength():
        raise ValueError(f"tensor must be a TensorInfo or an index in [0, "
                         f"{graph.TensorsLength()}), got {tensor!r}")
    flat = graph.Tensors(int(index))
    info = _tensor_info(flat, int(index), 0, _names(schema.TensorType))
    buffer = model.Buffers(flat.Buffer()) if flat.Buffer() else None
    if buffer is None or not (buffer.DataLength() or buffer.Size()):
        raise ValueError(f"tensor {index} ({info.name}) is not a constant: it has no data in "
                         "the file")
    if buffer.DataLength():
        raw = buffer.DataAsNumpy().tobytes()
    else:
        raw = model_bytes[int(buffer.Offset()):int(buffer.Offset()) + int(buffer.Size())]
    try:
        dtype = np.dtype(info.dtype)
    except TypeError as exc:
        raise ValueError(f"cannot read a {info.dtype} tensor as a numpy array") from exc
    return np.frombuffer(raw, dtype=dtype).reshape(info.shape).copy()


def gzipped_size_bytes(model_bytes: bytes) -> int:
    """Size of the model file after gzip (level 9): what a download or OTA update costs."""
    return len(gzip.compress(check_model_bytes(model_bytes), compresslevel=9, mtime=0))


# --------------------------------------------------------------------------------------
# TFLite Micro
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MicroSupport:
    """Whether TFLite Micro runs a model; ``reason`` says why not. Truthy when it runs.

    Unpacks as ``ok, reason = runs_on_micro(model_bytes)``.
    """

    ok: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.ok

    def __iter__(self) -> Iterator[Any]:
        return iter((self.ok, self.reason))

    def __repr__(self) -> str:
        return "MicroSupport(runs)" if self.ok else f"MicroSupport(refused: {self.reason})"


class MicroError(RuntimeError):
    """TFLite Micro refused the model; the message says why."""


@contextlib.contextmanager
def _capture_native_stderr() -> Iterator[list[str]]:
    """Capture what C++ code writes to file descriptor 2; the text lands in the list."""
    captured: list[str] = []
    with tempfile.TemporaryFile(mode="w+b") as sink:
        try:
            saved = os.dup(2)
        except OSError:
            yield captured
            return
        os.dup2(sink.fileno(), 2)
        try:
            yield captured
        finally:
            _flush_c_stdio()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            captured.append(sink.read().decode(errors="replace"))


def _micro_reason(model_bytes: bytes, native: str) -> str:
    report = inspect(model_bytes)
    lines = [line.strip() for line in native.splitlines() if line.strip()]
    detail = f" (TFLite Micro said: {' / '.join(lines[:2])})" if lines else ""
    if "float16" in report.tensors_by_dtype:
        why = "float16 model: TFLite Micro has no float16 kernels, it runs float32 or int8 models"
    elif "int8" in report.weight_dtypes and "float32" in {t.dtype for t in report.inputs}:
        why = ("dynamic-range (hybrid) model: int8 weights with float32 activations are not "
               "supported by TFLite Micro; convert to full int8 or keep float32")
    else:
        why = "TFLite Micro could not prepare the model"
    return why + detail


def _micro_interpreter(model_bytes: bytes, arena_size: int | None) -> Any:
    from tflite_micro.python.tflite_micro import runtime as micro

    arena = arena_size or max(DEFAULT_MICRO_ARENA_BYTES, 10 * len(model_bytes))
    arena = check_int(arena, "arena_size", low=1024)
    with _capture_native_stderr() as native:
        try:
            return micro.Interpreter.from_bytes(model_bytes, arena_size=arena)
        except RuntimeError as exc:
            error = exc
    raise MicroError(_micro_reason(model_bytes, native[0] if native else "")) from error


def runs_on_micro(model_bytes: bytes, *, arena_size: int | None = None) -> MicroSupport:
    """Whether TFLite Micro can load and run the model (one invoke on zeros).

    Never raises for a refused model: returns ``MicroSupport(False, reason)``.

    Parameters
    ----------
    model_bytes : bytes
    arena_size : int, optional
        Tensor arena in bytes; default 4 MiB or 10× the model, whichever is larger.

    Example
    -------
    >>> ok, reason = runs_on_micro(model_bytes)  # doctest: +SKIP
    """
    model_bytes = check_model_bytes(model_bytes)
    try:
        interp = _micro_interpreter(model_bytes, arena_size)
        for i in range(len(inspect(model_bytes).inputs)):
            detail = interp.get_input_details(i)
            interp.set_input(np.zeros(detail["shape"], detail["dtype"]), i)
        with _capture_native_stderr():
            interp.invoke()
    except MicroError as exc:
        return MicroSupport(False, str(exc))
    except RuntimeError as exc:
        return MicroSupport(False, f"TFLite Micro failed to run the model: {exc}")
    return MicroSupport(True, "")


def run_micro(model_bytes: bytes, x: Any, *, arena_size: int | None = None) -> np.ndarray:
    """Run a float32 or int8 model on TFLite Micro, one sample at a time.

    Inputs are quantized and outputs dequantized as in :func:`predict`, so the results
    compare directly with LiteRT's.

    Parameters
    ----------
    model_bytes : bytes
    x : array_like, shape ``(n, *input_shape)``
        Real-valued inputs.
    arena_size : int, optional
        Tensor arena in bytes (see :func:`runs_on_micro`).

    Returns
    -------
    numpy.ndarray of float32, shape ``(n, *output_shape)``.

    Raises
    ------
    MicroError
        If TFLite Micro refuses the model (dynamic-range, float16), with the reason.
    """
    model_bytes = check_model_bytes(model_bytes)
    interp = _micro_interpreter(model_bytes, arena_size)
    in_detail, out_detail = interp.get_input_details(0), interp.get_output_details(0)
    x = np.asarray(x)
    expected = tuple(int(d) for d in in_detail["shape"][1:])
    if x.shape[1:] != expected:
        raise ValueError(f"x must have shape (n, {', '.join(map(str, expected))}), got {x.shape}")
    results = []
    for sample in x:
        interp.set_input(_to_input(sample[None], in_detail), 0)
        interp.invoke()
        results.append(_from_output(interp.get_output(0), out_detail))
    if not results:
        return np.zeros((0, *tuple(out_detail["shape"][1:])), np.float32)
    return np.concatenate(results)
