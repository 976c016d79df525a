"""What is inside a ``.tflite`` file, read from the flatbuffer itself (notebooks 02, 03).

- :func:`describe`: ops, tensors by type, bytes of parameters by type, input/output
  quantization → :class:`ModelReport`, whose constants are :class:`TensorInfo` records;
- :func:`read_constant`: the stored values of one constant (an int8 kernel, int32 biases);
- :func:`gzipped_size_bytes`: the size of the file after gzip.

It reads the file with the schema that ships with LiteRT (``ai_edge_litert``), without
loading an interpreter, so it also describes models an interpreter would refuse.

Example
-------
>>> TensorInfo("conv/kernel", "int8", (8, 3, 3, 1), scales=(0.01,) * 8, zero_points=(0,) * 8)
<int8 conv/kernel [8, 3, 3, 1] quantization: per-channel (8 scales)>
>>> TensorInfo("input", "int8", (1, 8, 8, 1), scales=(0.0627,), zero_points=(-128,))
<int8 input [1, 8, 8, 1] quantization: scale 0.0627, zero point -128>
"""

from __future__ import annotations

import gzip
import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from labkit.validate import check_model_bytes


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
    """What :func:`describe` found in a ``.tflite`` model."""

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


def describe(model_bytes: bytes) -> ModelReport:
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
        An entry of ``describe(model_bytes).constants``, or its ``index``.

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

