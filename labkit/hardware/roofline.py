"""Work and the roofline (MACs, arithmetic intensity, latency bounds) and choosing hardware."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from labkit.hardware.catalog import OPS_PER_MAC, _check_count, _check_positive

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
    >>> from labkit.hardware import load_catalog
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
