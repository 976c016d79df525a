"""Edge Impulse from Python: upload data, profile and deploy a model, or estimate offline (notebook 08).

With an API key (``EI_API_KEY``, from a project's Dashboard → Keys) these functions call the
official ``edgeimpulse`` SDK, which talks to Edge Impulse's servers:

- :func:`upload_directory`: ``ei.data.upload_directory`` — the gesture files are already
  in the data acquisition format; Edge Impulse splits them 80/20 and labels them from the
  file name;
- :func:`profile`: ``ei.model.profile`` — Edge Impulse's estimate of RAM, ROM and latency of
  a ``.tflite`` on one of its devices → the ``int8`` (or ``float32``) part of the response,
  as a dict shaped like ``edgeimpulse_api.ProfileModelInfo.to_dict()``;
- :func:`deploy`: ``ei.model.deploy`` — the model as a C++ library (a zip).

The SDK reads ``EI_API_ENDPOINT`` and ``EI_INGESTION_ENDPOINT`` when it is imported; these
functions read them again on every call, so the tests can point the same code at a local
server. ``import edgeimpulse`` takes seconds (it imports TensorFlow and Keras): it is
imported only inside these functions.

Without a key, :func:`offline_profile` gives the same fields from what can be measured or
looked up here: RAM = the TFLite Micro tensor arena (measured by TFLite Micro's recording
allocator), ROM = the model file + the TFLite Micro core runtime (:data:`TFLM_CORE_BYTES`,
kernels not included), latency = a roofline lower bound from the device catalog of notebook
06 (``2 · MACs / peak int8 ops/s``).

Example
-------
>>> sorted(PROFILE_FIELDS)[:3]
['customMetrics', 'device', 'hasPerformance']
"""

from __future__ import annotations

import io
import json
import math
import os
from pathlib import Path
from typing import Any

from labkit.validate import check_model_bytes

DEFAULT_DEVICE = "cortex-m4f-80mhz"  # Edge Impulse's generic Cortex-M4F target (SDK docs)
TFLM_CORE_BYTES = 16 * 1024
"""Flash of TFLite Micro's core runtime: "The core runtime just fits in 16 KB on an Arm
Cortex M3" (TensorFlow Lite for Microcontrollers overview,
https://www.tensorflow.org/lite/microcontrollers). The kernels a model uses come on top."""
PROFILE_FIELDS = ("variant", "device", "tfliteFileSizeBytes", "isSupportedOnMcu", "memory",
                  "timePerInferenceMs", "customMetrics", "hasPerformance")
"""The fields of ``edgeimpulse_api.ProfileModelInfo`` that both profiles fill."""


# --------------------------------------------------------------------------------------
# Offline: TFLite Micro's arena, the model's size and the device catalog
# --------------------------------------------------------------------------------------

def micro_arena_bytes(model_bytes: bytes) -> int:
    """Bytes of tensor arena TFLite Micro really allocates for the model (after one invoke),
    as its ``RecordingMicroAllocator`` reports them: :func:`labkit.runtime.arena_bytes`."""
    from labkit.runtime import arena_bytes

    return arena_bytes(check_model_bytes(model_bytes))


def offline_profile(model_bytes: bytes, device: Any) -> dict[str, Any]:
    """Edge Impulse's profile fields for ``model_bytes`` on a catalog microcontroller.

    Parameters
    ----------
    model_bytes : bytes
        A float32 or int8 ``.tflite`` model.
    device : labkit.hardware.Device
        A microcontroller of :func:`labkit.hardware.load_catalog` (``kind == "mcu"``).

    Returns
    -------
    dict
        Shaped like ``edgeimpulse_api.ProfileModelInfo.to_dict()``: ``variant``, ``device``
        (the catalog id), ``tfliteFileSizeBytes``, ``isSupportedOnMcu`` (it runs in TFLite
        Micro and arena and file fit the device's RAM and flash), ``memory.tflite`` (``ram``
        = ``arenaSize`` = the measured arena; ``rom`` = file + :data:`TFLM_CORE_BYTES`),
        ``timePerInferenceMs`` (whole ms, rounded up: 2 · MACs at the device's peak int8
        rate — a lower bound), ``mcuSupportError`` when it does not fit.
    """
    from labkit import hardware
    from labkit.runtime import runs_on_micro

    model_bytes = check_model_bytes(model_bytes)
    if not isinstance(device, hardware.Device) or device.kind != "mcu":
        raise TypeError(f"device must be a microcontroller of labkit.hardware.load_catalog(), "
                        f"got {device!r:.80}")
    variant = hardware.model_precision(model_bytes)
    support = runs_on_micro(model_bytes)
    info: dict[str, Any] = {"variant": variant if variant in ("int8", "float32") else "float32",
                            "device": device.id, "tfliteFileSizeBytes": len(model_bytes),
                            "customMetrics": []}
    if not support:
        info.update(isSupportedOnMcu=False, hasPerformance=False, mcuSupportError=support.reason)
        return info
    arena = micro_arena_bytes(model_bytes)
    rom = len(model_bytes) + TFLM_CORE_BYTES
    ram_limit, flash_limit = device.value("memory_bytes"), device.value("flash_bytes")
    errors = []
    if ram_limit is not None and arena > ram_limit:
        errors.append(f"needs {arena:,} B of RAM for the arena, {device.id} has {ram_limit:,} B")
    if flash_limit is not None and rom > flash_limit:
        errors.append(f"needs {rom:,} B of flash, {device.id} has {flash_limit:,} B")
    macs = sum(layer.macs for layer in hardware.profile_tflite(model_bytes))
    peak = device.peak_ops_per_s("int8" if variant == "int8" else "float32")
    info.update(isSupportedOnMcu=not errors,
                memory={"tflite": {"ram": arena, "rom": rom, "arenaSize": arena}},
                hasPerformance=peak is not None)
    if peak:
        info["timePerInferenceMs"] = math.ceil(1e3 * hardware.OPS_PER_MAC * macs / peak)
    if errors:
        info["mcuSupportError"] = "; ".join(errors)
    return info


def profile_summary(info: dict[str, Any]) -> dict[str, Any]:
    """The few numbers of a profile (offline or from Edge Impulse) as plain data."""
    memory = (info.get("memory") or {}).get("tflite") or {}
    return {"device": info.get("device"), "variant": info.get("variant"),
            "ram_bytes": memory.get("ram"), "rom_bytes": memory.get("rom"),
            "arena_bytes": memory.get("arenaSize"), "latency_ms": info.get("timePerInferenceMs"),
            "supported": info.get("isSupportedOnMcu"), "error": info.get("mcuSupportError")}


# --------------------------------------------------------------------------------------
# Online: the edgeimpulse SDK
# --------------------------------------------------------------------------------------

def _sdk(api_key: str | None) -> Any:
    """``import edgeimpulse`` (slow) with the key and the endpoints of the environment."""
    key = api_key or os.environ.get("EI_API_KEY")
    if not key:
        raise ValueError("no Edge Impulse API key: pass api_key or set EI_API_KEY (Studio: your "
                         "project → Dashboard → Keys)")
    import edgeimpulse as ei

    ei.API_KEY = key
    ei.API_ENDPOINT = os.environ.get("EI_API_ENDPOINT", "https://studio.edgeimpulse.com/v1")
    ei.INGESTION_ENDPOINT = os.environ.get("EI_INGESTION_ENDPOINT",
                                           "https://ingestion.edgeimpulse.com")
    return ei


def upload_directory(folder: str | os.PathLike, *, api_key: str | None = None,
                     category: str = "split") -> tuple[int, int]:
    """Upload every data-acquisition file of ``folder`` (``ei.data.upload_directory``);
    ``category="split"`` lets Edge Impulse put each in training or testing. Files already in
    the project are refused by Edge Impulse, not uploaded twice. Returns (uploaded, failed)."""
    if not Path(folder).is_dir():
        raise ValueError(f"folder must be a directory of data acquisition files, got {folder!r}")
    ei = _sdk(api_key)
    import edgeimpulse.data  # noqa: F401  (not imported by `import edgeimpulse`)

    result = ei.data.upload_directory(directory=str(folder), category=category)
    return len(result.successes), len(result.fails)


def profile(model_bytes: bytes, *, device: str = DEFAULT_DEVICE, api_key: str | None = None,
            timeout_s: float = 600.0) -> dict[str, Any]:
    """Edge Impulse's profile of a ``.tflite`` on ``device`` (``ei.model.profile``): the
    part for the model's precision, as a dict shaped like ``ProfileModelInfo.to_dict()``."""
    from labkit.hardware import model_precision

    model_bytes = check_model_bytes(model_bytes)
    ei = _sdk(api_key)
    response = ei.model.profile(model=model_bytes, device=device, timeout_sec=timeout_s)
    info = response.model.profile_info
    part = info.int8 if model_precision(model_bytes) == "int8" else info.float32
    if part is None:
        raise RuntimeError(f"Edge Impulse returned no profile for this model on {device}")
    return json.loads(part.to_json())  # plain data: enums become their strings


def deploy(model_bytes: bytes, labels: list[str], *, api_key: str | None = None,
           deploy_target: str = "zip", timeout_s: float = 900.0) -> bytes:
    """The model as an Edge Impulse deployment (``ei.model.deploy``; ``"zip"``: a C++ library
    with TFLite Micro inside), for a classifier with these class ``labels``."""
    model_bytes = check_model_bytes(model_bytes)
    if not isinstance(labels, (list, tuple)) or not all(isinstance(x, str) for x in labels):
        raise TypeError(f"labels must be a list of class names, got {labels!r:.80}")
    ei = _sdk(api_key)
    out = ei.model.deploy(model=model_bytes,
                          model_output_type=ei.model.output_type.Classification(
                              labels=list(labels)),
                          deploy_target=deploy_target, timeout_sec=timeout_s)
    return out.getvalue() if isinstance(out, io.BytesIO) else bytes(out)


__all__ = ["DEFAULT_DEVICE", "PROFILE_FIELDS", "TFLM_CORE_BYTES", "deploy", "micro_arena_bytes",
           "offline_profile", "profile", "profile_summary", "upload_directory"]
