"""The device catalog: microcontrollers to cloud TPUs, every figure with its public source."""

from __future__ import annotations

import json
import numbers
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

CATALOG_PATH = Path(__file__).parents[1] / "hardware_catalog.json"
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
