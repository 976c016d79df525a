"""Compatibility: a model's precision and operators against what a device runs."""

from __future__ import annotations

from dataclasses import dataclass

from labkit.hardware.catalog import EDGE_TPU_OPS, Device

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
