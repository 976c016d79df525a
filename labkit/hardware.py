"""Choosing hardware for a model: device catalog, work counts, roofline, compatibility (notebook 06).

- :func:`load_catalog` reads ``hardware_catalog.json``: microcontrollers, single-board CPUs,
  embedded GPUs, TPUs, NPUs and a cloud TPU, every figure with the public source it comes
  from (:class:`Figure`); a figure the vendor does not publish is ``None``.
- The arithmetic of notebook 06's exercises: :func:`conv2d_macs`, :func:`dense_macs`,
  :func:`arithmetic_intensity` (2 operations per multiply-accumulate), :func:`roofline_latency_s`
  and :func:`select_hardware` (plain data in, plain data out).
- :func:`profile_keras` and :func:`profile_tflite`: MACs, parameters and bytes moved per layer
  (:class:`LayerProfile`), from a tf_keras model or straight from a ``.tflite`` file.
- :func:`estimate_latency_s`: a roofline estimate of a whole profile on a device (or on this
  machine's measured roofs, :func:`measure_roofs`).
- :func:`compatibility`: can a device run a ``.tflite`` at all (precision, operators, memory,
  and for microcontrollers a real TFLite Micro run inside the device's RAM).

Nothing here imports TensorFlow.

Example
-------
>>> conv2d_macs(32, 32, 3, 3, 16, 32)
4718592
>>> arithmetic_intensity(1_000, 500)
4.0
>>> roofline_latency_s(1e6, 1e6, peak_ops_per_s=1e12, bandwidth_bytes_per_s=1e9)  # memory-bound
0.001
"""

from __future__ import annotations

import json
import numbers
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

CATALOG_PATH = Path(__file__).with_name("hardware_catalog.json")
FIGURES = ("clock_hz", "int8_ops_per_s", "float_ops_per_s", "float_precision", "memory_bytes",
           "flash_bytes", "bandwidth_bytes_per_s", "power_w", "sleep_power_w", "supply_v",
           "price_usd", "precisions", "runtimes")
KINDS = ("mcu", "cpu", "gpu", "tpu", "npu", "cloud")
OPS_PER_MAC = 2  # one multiply and one add

# Operators the Edge TPU compiler maps to the TPU (coral-models-intro, "Supported operations").
EDGE_TPU_OPS = frozenset({
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "EXPAND_DIMS",
    "FULLY_CONNECTED", "L2_NORMALIZATION", "LOGISTIC", "LSTM", "MAXIMUM", "MAX_POOL_2D", "MEAN",
    "MINIMUM", "MUL", "PACK", "PAD", "PRELU", "QUANTIZE", "REDUCE_MAX", "REDUCE_MIN", "RELU",
    "RELU6", "RELU_N1_TO_1", "RESHAPE", "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR", "RSQRT",
    "SLICE", "SOFTMAX", "SPACE_TO_DEPTH", "SPLIT", "SQUEEZE", "STRIDED_SLICE", "SUB", "SUM",
    "SQUARED_DIFFERENCE", "TANH", "TRANSPOSE", "TRANSPOSE_CONV",
})


# --------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------

def _check_count(name: str, value: Any, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_positive(name: str, value: Any, *, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}, got {value}")
    return value


# --------------------------------------------------------------------------------------
# The catalog
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Figure:
    """One catalog figure: its value (``None`` when unknown), the source key, a note."""

    value: Any
    source: str
    note: str = ""

    def __repr__(self) -> str:
        note = f"; {self.note}" if self.note else ""
        return f"Figure({self.value!r} [{self.source}{note}])"


@dataclass(frozen=True)
class Device:
    """A device of the catalog: ``figures`` maps each name of :data:`FIGURES` to a Figure."""

    id: str
    name: str
    kind: str
    figures: dict[str, Figure] = field(repr=False)

    def value(self, name: str) -> Any:
        """The figure's value, or ``None`` when the vendor does not publish it."""
        if name not in self.figures:
            raise KeyError(f"{self.id} has no figure {name!r}; figures are {', '.join(FIGURES)}")
        return self.figures[name].value

    def peak_ops_per_s(self, precision: str) -> float | None:
        """Peak operations per second for ``"int8"`` or the float precision the device has."""
        if precision == "int8":
            return self.value("int8_ops_per_s")
        if precision not in self.value("precisions"):
            return None
        return self.value("float_ops_per_s")

    def record(self) -> dict[str, Any]:
        """The device as plain data (id, name, kind and every figure's value)."""
        return {"id": self.id, "name": self.name, "kind": self.kind,
                **{name: self.value(name) for name in FIGURES}}

    def __repr__(self) -> str:
        def show(name: str, scale: float, unit: str) -> str:
            v = self.value(name)
            return "unknown" if v is None else f"{v / scale:g} {unit}"

        return (f"Device({self.id}: {self.name}; int8 {show('int8_ops_per_s', 1e12, 'TOPS')}, "
                f"power {show('power_w', 1, 'W')}, bandwidth "
                f"{show('bandwidth_bytes_per_s', 1e9, 'GB/s')})")


@dataclass(frozen=True)
class Catalog:
    """The devices and the sources their figures cite (``sources[key]``: title and url)."""

    devices: tuple[Device, ...]
    sources: dict[str, dict[str, str]] = field(repr=False)

    def __iter__(self):
        return iter(self.devices)

    def __len__(self) -> int:
        return len(self.devices)

    def __getitem__(self, device_id: str) -> Device:
        for device in self.devices:
            if device.id == device_id:
                return device
        raise KeyError(f"no device {device_id!r}; the catalog has "
                       f"{', '.join(d.id for d in self.devices)}")

    def records(self) -> list[dict[str, Any]]:
        """Every device as plain data: what :func:`select_hardware` takes."""
        return [d.record() for d in self.devices]

    def cite(self, device_id: str, name: str) -> str:
        """'value — source title (url)' for one figure, for tables and footnotes."""
        fig = self[device_id].figures[name]
        src = self.sources[fig.source]
        return f"{fig.value!r} — {src['title']} ({src['url']})" + (f"; {fig.note}" if fig.note
                                                                       else "")


def load_catalog(path: Path | str | None = None) -> Catalog:
    """Read and validate the device catalog (every figure must name a listed source).

    Raises
    ------
    ValueError
        If a device lacks a figure, a figure has no source or cites an unknown one.

    Example
    -------
    >>> catalog = load_catalog()
    >>> catalog["coral_usb"].value("int8_ops_per_s")
    4000000000000.0
    """
    data = json.loads(Path(path or CATALOG_PATH).read_text(encoding="utf-8"))
    sources = data["sources"]
    devices = []
    for entry in data["devices"]:
        if entry.get("kind") not in KINDS:
            raise ValueError(f"device {entry.get('id')!r}: kind must be one of {KINDS}")
        figures = {}
        for name in FIGURES:
            raw = entry["figures"].get(name)
            if raw is None:
                raise ValueError(f"device {entry['id']!r} has no figure {name!r}; write "
                                 '{"value": null, "source": ...} when it is unknown')
            source = raw.get("source", "")
            if source not in sources:
                raise ValueError(f"device {entry['id']!r}, figure {name!r}: source {source!r} is "
                                 "not in the catalog's sources")
            figures[name] = Figure(raw["value"], source, raw.get("note", ""))
        devices.append(Device(entry["id"], entry["name"], entry["kind"], figures))
    return Catalog(tuple(devices), sources)


# --------------------------------------------------------------------------------------
# Work and the roofline (exercises 06.conv2d_macs, 06.dense_macs, 06.arithmetic_intensity,
# 06.roofline_latency_s)
# --------------------------------------------------------------------------------------

def conv2d_macs(h_out: int, w_out: int, k_h: int, k_w: int, c_in: int, c_out: int) -> int:
    """Multiply-accumulates of a standard 2-D convolution (batch 1, no bias).

    Every output value (``h_out × w_out × c_out`` of them) is a dot product over a
    ``k_h × k_w × c_in`` window.

    Example
    -------
    >>> conv2d_macs(16, 16, 3, 3, 32, 64)
    4718592
    """
    dims = [_check_count(n, v) for n, v in (("h_out", h_out), ("w_out", w_out), ("k_h", k_h),
                                            ("k_w", k_w), ("c_in", c_in), ("c_out", c_out))]
    h, w, kh, kw, ci, co = dims
    return h * w * co * kh * kw * ci


def dense_macs(n_in: int, n_out: int) -> int:
    """Multiply-accumulates of a dense (fully connected) layer for one input vector.

    Example
    -------
    >>> dense_macs(4096, 10)
    40960
    """
    return _check_count("n_in", n_in) * _check_count("n_out", n_out)


def arithmetic_intensity(macs: float, bytes_moved: float) -> float:
    """Operations per byte moved, counting 2 operations (multiply + add) per MAC.

    Example
    -------
    >>> arithmetic_intensity(4_718_592, 90_112)
    104.72727272727273
    """
    macs = _check_positive("macs", macs, allow_zero=True)
    bytes_moved = _check_positive("bytes_moved", bytes_moved)
    return OPS_PER_MAC * macs / bytes_moved


def roofline_latency_s(macs: float, bytes_moved: float, peak_ops_per_s: float,
                       bandwidth_bytes_per_s: float) -> float:
    """Roofline time of one layer: the slower of computing and moving its data.

    ``max(2 · macs / peak_ops_per_s, bytes_moved / bandwidth_bytes_per_s)`` — a lower bound,
    since real kernels reach neither roof.

    Example
    -------
    >>> roofline_latency_s(1e9, 1e6, peak_ops_per_s=1e12, bandwidth_bytes_per_s=1e10)  # compute
    0.002
    """
    macs = _check_positive("macs", macs, allow_zero=True)
    bytes_moved = _check_positive("bytes_moved", bytes_moved, allow_zero=True)
    peak = _check_positive("peak_ops_per_s", peak_ops_per_s)
    bandwidth = _check_positive("bandwidth_bytes_per_s", bandwidth_bytes_per_s)
    return max(OPS_PER_MAC * macs / peak, bytes_moved / bandwidth)


def ridge_point(peak_ops_per_s: float, bandwidth_bytes_per_s: float) -> float:
    """Arithmetic intensity (ops/byte) where a device turns from memory- to compute-bound."""
    return (_check_positive("peak_ops_per_s", peak_ops_per_s)
            / _check_positive("bandwidth_bytes_per_s", bandwidth_bytes_per_s))


# --------------------------------------------------------------------------------------
# Selecting hardware (exercise 06.select_hardware)
# --------------------------------------------------------------------------------------

SELECT_RULE = """\
A device is feasible when all of these hold (an unknown figure, None, never passes):
1. the requirement's precision is in the device's precisions;
2. the model's weights fit: model_bytes <= memory_bytes;
3. the estimated latency meets the limit: 2 * macs / (peak * efficiency) <= max_latency_s,
   where peak is int8_ops_per_s for "int8" and float_ops_per_s otherwise;
4. power_w <= max_power_w;
5. if max_price_usd is given (not None): price_usd <= max_price_usd.
Feasible devices are ranked by energy per inference, power_w * latency, lowest first;
ties by id."""


def _estimated_latency_s(req: dict[str, Any], device: dict[str, Any]) -> float | None:
    key = "int8_ops_per_s" if req["precision"] == "int8" else "float_ops_per_s"
    peak = device.get(key)
    if peak is None or peak <= 0:
        return None
    return OPS_PER_MAC * req["macs"] / (peak * req["efficiency"])


def _feasible(req: dict[str, Any], device: dict[str, Any]) -> float | None:
    """The device's energy per inference if it meets every requirement, else None."""
    if req["precision"] not in (device.get("precisions") or ()):
        return None
    memory = device.get("memory_bytes")
    if memory is None or req["model_bytes"] > memory:
        return None
    latency = _estimated_latency_s(req, device)
    if latency is None or latency > req["max_latency_s"]:
        return None
    power = device.get("power_w")
    if power is None or power > req["max_power_w"]:
        return None
    if req.get("max_price_usd") is not None:
        price = device.get("price_usd")
        if price is None or price > req["max_price_usd"]:
            return None
    return power * latency


def select_hardware(requirements: dict[str, Any], catalog: Sequence[dict[str, Any]]) -> list[str]:
    """Ids of the devices that meet ``requirements``, best first (the rule: :data:`SELECT_RULE`).

    Parameters
    ----------
    requirements : dict
        ``macs`` (per inference), ``model_bytes``, ``precision`` (``"int8"``, ``"float16"``,
        ``"float32"``), ``efficiency`` (fraction of peak reached, in (0, 1]),
        ``max_latency_s``, ``max_power_w``, and optionally ``max_price_usd``.
    catalog : list of dict
        Plain device records, as :meth:`Catalog.records` makes them (``None`` = unknown).

    Returns
    -------
    list of str
        Feasible device ids, lowest energy per inference first.

    Example
    -------
    >>> req = {"macs": 1e6, "model_bytes": 1e4, "precision": "int8", "efficiency": 0.5,
    ...        "max_latency_s": 0.1, "max_power_w": 5.0}
    >>> select_hardware(req, load_catalog().records())[:2]
    ['coral_usb', 'nrf52840']
    """
    for key in ("macs", "model_bytes", "precision", "efficiency", "max_latency_s", "max_power_w"):
        if key not in requirements:
            raise ValueError(f"requirements has no {key!r}; it needs macs, model_bytes, precision, "
                             "efficiency, max_latency_s and max_power_w")
    if not 0 < requirements["efficiency"] <= 1:
        raise ValueError(f"efficiency must be in (0, 1], got {requirements['efficiency']}")
    scored = []
    for device in catalog:
        energy = _feasible(requirements, device)
        if energy is not None:
            scored.append((energy, device["id"]))
    return [device_id for _, device_id in sorted(scored)]


def explain_choice(requirements: dict[str, Any], device: dict[str, Any]) -> str:
    """Why one device passes or fails :data:`SELECT_RULE` — the first reason, in words."""
    if requirements["precision"] not in (device.get("precisions") or ()):
        return f"no {requirements['precision']} support"
    memory = device.get("memory_bytes")
    if memory is None:
        return "memory unknown"
    if requirements["model_bytes"] > memory:
        return f"model needs {requirements['model_bytes'] / 1e6:.2f} MB, has {memory / 1e6:.2f} MB"
    latency = _estimated_latency_s(requirements, device)
    if latency is None:
        return f"peak {requirements['precision']} throughput unknown"
    if latency > requirements["max_latency_s"]:
        return f"{1e3 * latency:.3g} ms > {1e3 * requirements['max_latency_s']:.3g} ms"
    power = device.get("power_w")
    if power is None:
        return "power unknown"
    if power > requirements["max_power_w"]:
        return f"{power:g} W > {requirements['max_power_w']:g} W"
    if requirements.get("max_price_usd") is not None:
        price = device.get("price_usd")
        if price is None:
            return "price unknown"
        if price > requirements["max_price_usd"]:
            return f"${price:g} > ${requirements['max_price_usd']:g}"
    return f"feasible: {1e3 * latency:.3g} ms, {1e3 * power * latency:.3g} mJ per inference"


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


# --------------------------------------------------------------------------------------
# Roofline estimates and this machine's roofs
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Roofs:
    """A compute roof and a memory roof (e.g. a catalog device, or this machine measured)."""

    name: str
    peak_ops_per_s: float
    bandwidth_bytes_per_s: float

    @property
    def ridge(self) -> float:
        return self.peak_ops_per_s / self.bandwidth_bytes_per_s

    def __repr__(self) -> str:
        return (f"Roofs({self.name}: {self.peak_ops_per_s / 1e9:.3g} G ops/s, "
                f"{self.bandwidth_bytes_per_s / 1e9:.3g} GB/s, ridge {self.ridge:.3g} ops/B)")


def device_roofs(device: Device, precision: str) -> Roofs | None:
    """The device's roofs for ``precision``, or None when a figure is unknown."""
    peak = device.peak_ops_per_s(precision)
    bandwidth = device.value("bandwidth_bytes_per_s")
    if peak is None or bandwidth is None:
        return None
    return Roofs(device.name, float(peak), float(bandwidth))


@dataclass(frozen=True)
class Estimate:
    """A roofline estimate of a profile: total seconds and, per layer, time and bound."""

    roofs: Roofs
    total_s: float
    layer_s: tuple[float, ...]
    bound: tuple[str, ...]  # "compute" or "memory" per layer

    def __repr__(self) -> str:
        n_mem = self.bound.count("memory")
        return (f"Estimate({self.roofs.name}: {1e3 * self.total_s:.4g} ms, {n_mem} of "
                f"{len(self.bound)} layers memory-bound)")


def estimate_latency_s(profile: Iterable[LayerProfile], roofs: Roofs) -> Estimate:
    """Roofline time of every layer (:func:`roofline_latency_s`) and their sum."""
    times, bounds = [], []
    for layer in profile:
        t = roofline_latency_s(layer.macs, layer.bytes_moved, roofs.peak_ops_per_s,
                               roofs.bandwidth_bytes_per_s)
        times.append(t)
        compute = OPS_PER_MAC * layer.macs / roofs.peak_ops_per_s
        bounds.append("compute" if compute >= t else "memory")
    return Estimate(roofs, float(sum(times)), tuple(times), tuple(bounds))


def measure_bandwidth_bytes_per_s(*, size_bytes: int = 256 * 2**20, repeats: int = 5) -> float:
    """This machine's memory bandwidth: best of ``repeats`` numpy copies of a large array.

    A copy reads and writes ``size_bytes`` each, so 2 × size_bytes cross the memory bus.
    """
    size = _check_count("size_bytes", size_bytes, 2**20)
    src = np.ones(size // 8)
    dst = np.empty_like(src)
    best = np.inf
    for _ in range(_check_count("repeats", repeats, 1)):
        start = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - start)
    return 2 * src.nbytes / best


def compute_bound_model(*, size: int = 32, channels: int = 128, layers: int = 3) -> Any:
    """A tf_keras model of wide 3×3 convolutions: high arithmetic intensity, for measuring a
    processor's practical compute roof (untrained; latency does not depend on the weights)."""
    from labkit._tf import load

    _, keras = load()
    keras.utils.set_random_seed(0)
    inner = [keras.layers.Conv2D(channels, 3, padding="same", activation="relu")
             for _ in range(layers)]
    return keras.Sequential([keras.Input((size, size, channels)), *inner],
                            name=f"compute_bound_{channels}")


def xnnpack_latency_ms(model_bytes: bytes, *, xnnpack: bool, threads: int = 1,
                       warmup: int = 10, runs: int = 100) -> float:
    """Median ``invoke()`` time with LiteRT's default XNNPACK delegate on or off.

    ``xnnpack=False`` uses LiteRT's built-in kernels without default delegates
    (``OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES``): the same model, another software
    stack.
    """
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    from labkit._tf import quiet_native_stderr
    from labkit.validate import check_model_bytes

    model_bytes = check_model_bytes(model_bytes)
    resolver = (OpResolverType.AUTO if xnnpack
                else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    with quiet_native_stderr():
        interp = Interpreter(model_content=model_bytes, num_threads=threads,
                             experimental_op_resolver_type=resolver)
        interp.allocate_tensors()
    rng = np.random.default_rng(0)
    for detail in interp.get_input_details():
        dtype = np.dtype(detail["dtype"])
        value = (rng.integers(-128, 128, size=detail["shape"]) if dtype.kind in "iu"
                 else rng.random(detail["shape"]))
        interp.set_tensor(detail["index"], value.astype(dtype))
    for _ in range(warmup):
        interp.invoke()
    times = np.empty(_check_count("runs", runs, 1))
    for i in range(len(times)):
        start = time.perf_counter_ns()
        interp.invoke()
        times[i] = time.perf_counter_ns() - start
    return float(np.median(times) / 1e6)


# --------------------------------------------------------------------------------------
# Compatibility
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Compatibility:
    """Whether a device can run a model: ``status`` is "yes", "no" or "unchecked"."""

    device_id: str
    status: str
    reasons: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.status == "yes"

    def __repr__(self) -> str:
        why = f": {'; '.join(self.reasons)}" if self.reasons else ""
        return f"Compatibility({self.device_id} {self.status}{why})"


def model_precision(model_bytes: bytes) -> str:
    """``"int8"`` (full integer), ``"dynamic_range"``, ``"float16"`` or ``"float32"``."""
    from labkit.runtime import describe

    report = describe(model_bytes)
    weights = report.weight_dtypes
    if "float16" in weights:
        return "float16"
    if weights & {"int8", "uint8"}:
        float_act = any(t.dtype.startswith("float") for t in report.inputs) and not (
            {"QUANTIZE"} & set(report.ops))
        return "dynamic_range" if float_act else "int8"
    return "float32"


def compatibility(model_bytes: bytes, device: Device) -> Compatibility:
    """Can ``device`` run this ``.tflite`` model? Precision, operators and memory, in order.

    - precision: the model's precision must be one the device runs (a dynamic-range model
      needs float32 kernels with int8 weights: CPUs only);
    - operators: the Edge TPU maps only its supported ops (others fall back to the host CPU,
      reported as a reason); for microcontrollers TFLite Micro really loads and runs the model
      with a tensor arena as large as the device's RAM;
    - memory: the model file must fit in flash (MCUs) or memory.
    GPUs and NPUs whose operator lists labkit does not ship are "unchecked" beyond precision
    and memory.
    """
    from labkit.runtime import describe, runs_on_micro

    report = describe(model_bytes)
    precision = model_precision(model_bytes)
    precisions = device.value("precisions") or []
    reasons: list[str] = []
    if precision == "dynamic_range":
        if device.kind != "cpu":
            reasons.append("dynamic-range model (int8 weights, float activations) runs on CPU "
                           "kernels only")
    elif precision not in precisions:
        reasons.append(f"{precision} model; the device runs {', '.join(precisions) or 'none'}")
    storage = device.value("flash_bytes") if device.kind == "mcu" else device.value("memory_bytes")
    if storage is not None and report.size_bytes > storage:
        reasons.append(f"model file {report.size_bytes:,} B > {storage:,} B of "
                       f"{'flash' if device.kind == 'mcu' else 'memory'}")
    if reasons:
        return Compatibility(device.id, "no", tuple(reasons))
    if device.kind == "mcu":
        ram = device.value("memory_bytes")
        if ram is None:
            return Compatibility(device.id, "unchecked", ("RAM size unknown",))
        support = runs_on_micro(model_bytes, arena_size=int(ram))
        if not support:
            return Compatibility(device.id, "no", (f"TFLite Micro with a {ram // 1024} KB arena: "
                                                   f"{support.reason}",))
        return Compatibility(device.id, "yes", ("ran on TFLite Micro within the device's RAM",))
    if device.id.startswith("coral"):
        outside = sorted(set(report.ops) - EDGE_TPU_OPS - {"DEQUANTIZE"})
        if outside:
            return Compatibility(device.id, "yes", (f"ops {', '.join(outside)} fall back to the "
                                                    "host CPU",))
        return Compatibility(device.id, "yes", ("every op is on the Edge TPU's list",))
    if device.kind == "cpu":
        return Compatibility(device.id, "yes", ("LiteRT's CPU kernels run every builtin op",))
    return Compatibility(device.id, "unchecked", ("precision and memory fit; operator support "
                                                  "not checked (vendor compiler decides)",))
