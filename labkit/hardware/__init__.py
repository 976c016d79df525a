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
  machine's measured roofs, :func:`measure_bandwidth_bytes_per_s` and
  :func:`compute_bound_model`).
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

from labkit.hardware.catalog import (
    CATALOG_PATH,
    EDGE_TPU_OPS,
    FIGURES,
    KINDS,
    OPS_PER_MAC,
    Catalog,
    Device,
    Figure,
    load_catalog,
)
from labkit.hardware.compatibility import Compatibility, compatibility, model_precision
from labkit.hardware.estimates import (
    Estimate,
    Roofs,
    compute_bound_model,
    device_roofs,
    estimate_latency_s,
    measure_bandwidth_bytes_per_s,
    xnnpack_latency_ms,
)
from labkit.hardware.profiles import LayerProfile, profile_keras, profile_tflite
from labkit.hardware.roofline import (
    SELECT_RULE,
    arithmetic_intensity,
    conv2d_macs,
    dense_macs,
    explain_choice,
    ridge_point,
    roofline_latency_s,
    select_hardware,
)

__all__ = [
    "CATALOG_PATH",
    "Catalog",
    "Compatibility",
    "Device",
    "EDGE_TPU_OPS",
    "Estimate",
    "FIGURES",
    "Figure",
    "KINDS",
    "LayerProfile",
    "OPS_PER_MAC",
    "Roofs",
    "SELECT_RULE",
    "arithmetic_intensity",
    "compatibility",
    "compute_bound_model",
    "conv2d_macs",
    "dense_macs",
    "device_roofs",
    "estimate_latency_s",
    "explain_choice",
    "load_catalog",
    "measure_bandwidth_bytes_per_s",
    "model_precision",
    "profile_keras",
    "profile_tflite",
    "ridge_point",
    "roofline_latency_s",
    "select_hardware",
    "xnnpack_latency_ms",
]
