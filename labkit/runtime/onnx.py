"""ONNX Runtime, Microsoft's inference engine for ONNX models (``onnxruntime``; notebook 08).

- :class:`OnnxRuntime`: the backend (see :mod:`labkit.runtime.backend`). It loads ``.onnx``
  bytes, and also ``.tflite`` bytes, which it converts to ONNX first
  (:func:`labkit.convert_onnx.tflite_to_onnx`, which imports TensorFlow);
- :func:`describe_onnx`: ops, tensors, parameter bytes and I/O quantization of an ONNX file
  → the same :class:`~labkit.runtime.report.ModelReport` that ``describe`` gives for a
  ``.tflite``;
- :func:`model_format`: ``"tflite"`` or ``"onnx"``, from the file's first bytes;
- :func:`io_details`: the input and output of an ONNX graph as tensor *details* (dtype,
  shape, and the scale and zero point of an integer input or output, read from the
  ``DequantizeLinear`` / ``QuantizeLinear`` next to it), so quantized models take float
  data like every other backend's.

``onnxruntime`` and ``onnx`` are imported when first needed, never with this module.

Example
-------
>>> OnnxRuntime(batch_size=64)
OnnxRuntime(batch_size=64, providers=('CPUExecutionProvider',))
>>> model_format(b"\\x1c\\x00\\x00\\x00TFL3" + bytes(8))
'tflite'
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from labkit.runtime.backend import Backend, BackendError, LatencyStats, time_invocations
from labkit.runtime.report import ModelReport, TensorInfo, describe
from labkit.runtime.tensors import _from_output, _to_input, check_count, check_samples, random_input

_WEIGHTED_OPS = ("Conv", "ConvTranspose", "Gemm", "MatMul", "ConvInteger", "QLinearConv")
_LAYOUT_OPS = ("Reshape", "Transpose", "Squeeze", "Unsqueeze", "Identity", "Flatten")  # keep values


def model_format(model_bytes: Any, name: str = "model_bytes") -> str:
    """``"tflite"`` (a ``TFL3`` flatbuffer) or ``"onnx"`` (a protobuf ``ModelProto``).

    Raises ``TypeError`` for anything but bytes, ``ValueError`` for bytes that are neither.
    """
    if not isinstance(model_bytes, (bytes, bytearray, memoryview)):
        hint = ("; a file path? read it with Path(path).read_bytes()"
                if isinstance(model_bytes, (str, os.PathLike)) else "")
        raise TypeError(f"{name} must be the bytes of an .onnx or .tflite model, got "
                        f"{type(model_bytes).__name__}{hint}")
    head = bytes(model_bytes[:8])
    if head[4:8] == b"TFL3":
        return "tflite"
    if head[:1] == b"\x08":  # field 1 of ModelProto (ir_version), a varint
        return "onnx"
    raise ValueError(f"{name} is neither a .tflite flatbuffer nor an ONNX model (it starts "
                     f"with {head!r}); pass the bytes a converter returned")


def _load_proto(model_bytes: bytes) -> Any:
    import onnx

    try:
        return onnx.load_from_string(bytes(model_bytes))
    except Exception as exc:  # protobuf's DecodeError and friends
        raise ValueError(f"model_bytes is not a readable ONNX model ({exc})") from exc


def _initializers(graph: Any) -> dict[str, np.ndarray]:
    from onnx import numpy_helper

    return {init.name: numpy_helper.to_array(init) for init in graph.initializer}


def _value_detail(value: Any) -> dict[str, Any]:
    from onnx import helper

    tensor = value.type.tensor_type
    dims = [d.dim_value if d.HasField("dim_value") else -1 for d in tensor.shape.dim]
    shape = [max(d, 1) for d in dims]
    return {"name": value.name, "dtype": helper.tensor_dtype_to_np_dtype(tensor.elem_type).type,
            "shape": np.array(shape), "shape_signature": np.array(dims),
            "quantization": (0.0, 0)}


def io_details(model_bytes: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """Details of the (first) graph input and output; integer ones carry their quantization."""
    graph = _load_proto(model_bytes).graph
    consts = _initializers(graph)
    ins = [v for v in graph.input if v.name not in consts]
    if not ins or not graph.output:
        raise ValueError("the ONNX graph has no input or no output")
    inp, out = _value_detail(ins[0]), _value_detail(graph.output[0])
    if np.dtype(inp["dtype"]).kind in "iu":
        node = _follow(graph, inp["name"], forward=True)
        if node is not None and node.op_type == "DequantizeLinear":
            inp["quantization"] = _qparams(node, consts)
    if np.dtype(out["dtype"]).kind in "iu":
        node = _follow(graph, out["name"], forward=False)
        if node is not None and node.op_type == "QuantizeLinear":
            out["quantization"] = _qparams(node, consts)
    return inp, out


def _follow(graph: Any, tensor: str, *, forward: bool) -> Any:
    """The first node after (or before) ``tensor`` that is not a layout-only op."""
    for _ in range(len(graph.node)):
        nodes = [n for n in graph.node if tensor in (n.input[:1] if forward else n.output)]
        if not nodes:
            return None
        if nodes[0].op_type not in _LAYOUT_OPS:
            return nodes[0]
        tensor = nodes[0].output[0] if forward else nodes[0].input[0]
    return None


def _qparams(node: Any, consts: dict[str, np.ndarray]) -> tuple[float, int]:
    scale = float(np.ravel(consts[node.input[1]])[0])
    zero = int(np.ravel(consts[node.input[2]])[0]) if len(node.input) > 2 and node.input[2] else 0
    return scale, zero


def describe_onnx(model_bytes: bytes) -> ModelReport:
    """Ops, tensors by type, stored parameters and I/O of an ONNX model (a :class:`ModelReport`).

    Parameters are the graph's initializers (weights, biases, scales, shapes); a role such as
    ``"Conv #2 weights"`` names the first node that reads each.
    """
    import onnx

    model = _load_proto(model_bytes)
    graph = onnx.shape_inference.infer_shapes(model).graph
    consts = _initializers(graph)
    ops: dict[str, int] = {}
    roles: dict[str, str] = {}
    for node in graph.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
        for position, tensor in enumerate(node.input):
            if tensor in consts and tensor not in roles:
                role = (("weights", "bias")[position - 1]
                        if node.op_type in _WEIGHTED_OPS and position in (1, 2) else
                        f"input {position}")
                roles[tensor] = f"{node.op_type} #{ops[node.op_type]} {role}"
    constants = tuple(TensorInfo(name, str(value.dtype), tuple(int(d) for d in value.shape),
                                 size_bytes=int(value.nbytes), role=roles.get(name, ""), index=i)
                      for i, (name, value) in enumerate(consts.items()))
    param_bytes: dict[str, int] = {}
    param_count: dict[str, int] = {}
    for c in constants:
        param_bytes[c.dtype] = param_bytes.get(c.dtype, 0) + c.size_bytes
        param_count[c.dtype] = param_count.get(c.dtype, 0) + int(np.prod(c.shape, dtype=np.int64))
    by_dtype: dict[str, int] = {}
    for value in [*graph.input, *graph.value_info, *graph.output]:
        if value.name not in consts:
            dtype = np.dtype(_value_detail(value)["dtype"]).name
            by_dtype[dtype] = by_dtype.get(dtype, 0) + 1
    for c in constants:
        by_dtype[c.dtype] = by_dtype.get(c.dtype, 0) + 1
    inp, out = io_details(model_bytes)

    def info(detail: dict[str, Any]) -> TensorInfo:
        scale, zero = detail["quantization"]
        return TensorInfo(detail["name"], np.dtype(detail["dtype"]).name,
                          tuple(int(d) for d in detail["shape_signature"]),
                          (scale,) if scale else (), (zero,) if scale else ())

    return ModelReport(len(model_bytes), ops, by_dtype, param_bytes, param_count, (info(inp),),
                       (info(out),), constants)


@dataclass
class OnnxModel:
    """A model loaded by :class:`OnnxRuntime`: the session and its input/output details."""

    session: Any
    input: dict[str, Any]
    output: dict[str, Any]
    threads: int | None


class OnnxRuntime(Backend):
    """ONNX Runtime's ``InferenceSession``.

    Parameters
    ----------
    batch_size : int, default 256
        Samples per ``run()`` in :meth:`predict` (a fixed batch axis is used as it is).
    providers : tuple of str, default ``("CPUExecutionProvider",)``
        Execution providers in order of preference, e.g. ``("TensorrtExecutionProvider",
        "CUDAExecutionProvider", "CPUExecutionProvider")`` with onnxruntime-gpu.
    """

    name = "onnx"

    def __init__(self, *, batch_size: int = 256,
                 providers: tuple[str, ...] = ("CPUExecutionProvider",)) -> None:
        self.batch_size = check_count("batch_size", batch_size)
        if (not isinstance(providers, (tuple, list)) or not providers
                or not all(isinstance(p, str) for p in providers)):
            raise TypeError(f"providers must be a non-empty tuple of provider names, got "
                            f"{providers!r}")
        self.providers = tuple(providers)

    def __repr__(self) -> str:
        return f"OnnxRuntime(batch_size={self.batch_size}, providers={self.providers})"

    def load(self, model_bytes: bytes, *, threads: int | None = None) -> OnnxModel:
        import onnxruntime as ort

        if model_format(model_bytes) == "tflite":
            from labkit.convert_onnx import tflite_to_onnx

            model_bytes = tflite_to_onnx(model_bytes)
        model_bytes = bytes(model_bytes)
        if threads is not None:
            threads = check_count("threads", threads)
        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = threads or 0  # 0: ONNX Runtime's default
        inp, out = io_details(model_bytes)
        try:
            session = ort.InferenceSession(model_bytes, options, providers=list(self.providers))
        except Exception as exc:  # onnxruntime's own exception types (Fail, InvalidGraph, ...)
            raise BackendError(f"ONNX Runtime refused the model: {exc}") from exc
        return OnnxModel(session, inp, out, threads)

    def predict(self, handle: OnnxModel, x: Any) -> np.ndarray:
        x = check_samples(x, handle.input)
        fixed = int(handle.input["shape_signature"][0])
        batch = fixed if fixed > 0 else max(1, min(self.batch_size, len(x)))
        results = []
        for start in range(0, len(x), batch):
            chunk = _to_input(x[start:start + batch], handle.input)
            n = len(chunk)
            if fixed > 0 and n < batch:
                chunk = np.concatenate([chunk, np.zeros((batch - n, *chunk.shape[1:]),
                                                        chunk.dtype)])
            out = handle.session.run(None, {handle.input["name"]: chunk})[0][:n]
            results.append(_from_output(out, handle.output))
        if not results:
            return np.zeros((0, *handle.output["shape"][1:]), np.float32)
        return np.concatenate(results)

    def benchmark(self, handle: OnnxModel, *, warmup: int = 20, runs: int = 200,
                  seed: int = 0) -> LatencyStats:
        detail = {**handle.input, "shape": [1, *handle.input["shape"][1:]]}
        feed = {handle.input["name"]: random_input(detail, np.random.default_rng(seed))}
        session = handle.session
        return time_invocations(lambda: session.run(None, feed),
                                threads=handle.threads or os.cpu_count() or 1,
                                warmup=warmup, runs=runs)

    def describe(self, model_bytes: bytes) -> ModelReport:
        if model_format(model_bytes) == "tflite":
            return describe(bytes(model_bytes))
        return describe_onnx(bytes(model_bytes))
