"""Roofline estimates of a whole model, and this machine's measured roofs."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from labkit.hardware.catalog import OPS_PER_MAC, Device, _check_count
from labkit.hardware.profiles import LayerProfile
from labkit.hardware.roofline import roofline_latency_s

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
