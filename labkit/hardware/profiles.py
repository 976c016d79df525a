"""Model profiles: MACs, parameters and bytes moved per layer, from tf_keras or a .tflite."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from labkit.hardware.catalog import OPS_PER_MAC, _check_count

# --------------------------------------------------------------------------------------
# Model profiles
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LayerProfile:
    """Work and traffic of one layer: MACs, parameters, and the bytes it reads and writes."""

    name: str
    kind: str
    macs: int
    params: int
    input_bytes: int
    weight_bytes: int
    output_bytes: int

    @property
    def bytes_moved(self) -> int:
        """Input + weights + output: each read or written once (no cache reuse counted)."""
        return self.input_bytes + self.weight_bytes + self.output_bytes

    @property
    def intensity(self) -> float:
        """Operations per byte moved (2 per MAC)."""
        return OPS_PER_MAC * self.macs / self.bytes_moved if self.bytes_moved else 0.0

    def __repr__(self) -> str:
        return (f"LayerProfile({self.name} {self.kind}: {self.macs:,} MACs, {self.params:,} params, "
                f"{self.bytes_moved:,} B moved, {self.intensity:.1f} ops/B)")


def profile_keras(model: Any, *, bytes_per_value: int = 4) -> list[LayerProfile]:
    """Per-layer profile of a built tf_keras model at batch 1.

    Activations and weights are counted at ``bytes_per_value`` each (4 for float32, 1 for
    int8). MACs are those of :func:`labkit.models.count_macs`.
    """
    from labkit._tf import load
    from labkit.models import _layer_macs

    _, keras = load()
    if not isinstance(model, keras.Model) or not model.built:
        raise TypeError("model must be a built tf_keras Model (call model.build(input_shape))")
    size = _check_count("bytes_per_value", bytes_per_value, 1)
    rows = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        n_in = int(np.prod(layer.input_shape[1:]))
        n_out = int(np.prod(layer.output_shape[1:]))
        params = int(layer.count_params())
        rows.append(LayerProfile(layer.name, type(layer).__name__, int(_layer_macs(layer, keras)),
                                 params, n_in * size, params * size, n_out * size))
    return rows


def _schema():
    from ai_edge_litert import schema_py_generated as schema

    return schema


def profile_tflite(model_bytes: bytes) -> list[LayerProfile]:
    """Per-operator profile read from a ``.tflite`` file (its real tensor types and shapes).

    MACs are counted for CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED; bytes are the
    sizes of each operator's inputs (weights and biases as stored) and outputs.
    """
    from labkit.runtime.report import _names, _op_name
    from labkit.validate import check_model_bytes

    model_bytes = check_model_bytes(model_bytes)
    schema = _schema()
    model = schema.Model.GetRootAs(model_bytes, 0)
    graph = model.Subgraphs(0)
    type_names, op_names = _names(schema.TensorType), _names(schema.BuiltinOperator)

    def tensor(i: int) -> tuple[tuple[int, ...], int, bool]:
        t = graph.Tensors(int(i))
        shape = t.ShapeAsNumpy()
        shape = tuple(int(d) for d in shape) if isinstance(shape, np.ndarray) else ()
        try:
            itemsize = np.dtype(type_names[t.Type()].lower()).itemsize
        except TypeError:  # string, resource or variant tensors
            itemsize = 0
        buffer = model.Buffers(t.Buffer()) if t.Buffer() else None
        constant = buffer is not None and bool(buffer.DataLength() or buffer.Size())
        return shape, int(np.prod(shape, dtype=np.int64)) * itemsize, constant

    rows = []
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        kind = _op_name(model.OperatorCodes(op.OpcodeIndex()), op_names)
        ins = [tensor(t) for t in op.InputsAsNumpy() if t >= 0]
        outs = [tensor(t) for t in op.OutputsAsNumpy() if t >= 0]
        weights = [t for t in ins if t[2]]
        acts = [t for t in ins if not t[2]]
        out_shape = outs[0][0] if outs else ()
        macs = 0
        if kind in ("CONV_2D", "DEPTHWISE_CONV_2D") and weights and len(out_shape) == 4:
            _, kh, kw, last = weights[0][0]
            _, h, w, c_out = out_shape
            macs = h * w * c_out * kh * kw * (last if kind == "CONV_2D" else 1)
        elif kind == "FULLY_CONNECTED" and weights:
            n_out, n_in = weights[0][0][:2]
            rows_in = int(np.prod(out_shape[:-1])) if out_shape else 1
            macs = rows_in * n_in * n_out
        params = sum(int(np.prod(t[0], dtype=np.int64)) for t in weights)
        rows.append(LayerProfile(f"{kind.lower()}_{i}", kind, int(macs), params,
                                 sum(t[1] for t in acts), sum(t[1] for t in weights),
                                 sum(t[1] for t in outs)))
    return rows
