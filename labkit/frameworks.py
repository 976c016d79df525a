"""Edge AI frameworks side by side: parity, the cost of a runtime, and Edge Impulse (notebook 08).

- :func:`parity`: how far a runtime's outputs are from the reference (Keras) outputs — the
  largest absolute difference and the share of samples whose top-1 class agrees (exercise
  08.parity);
- :func:`ei_sample` / :func:`ei_signature_valid`: a sample in Edge Impulse's *data
  acquisition format*, unsigned or signed with HMAC-SHA256, and the check the ingestion
  service makes (exercise 08.ei_sample);
- :data:`RUNTIMES`, :func:`import_time_s`, :func:`installed_size_bytes`: what a runtime costs
  before it runs anything — seconds to import in a fresh Python, megabytes on disk;
- :func:`tensorrt_status`: whether this machine can run TensorRT (an NVIDIA GPU and
  TensorRT), and if not, why not;
- :func:`load_frameworks`: the sourced comparison of frameworks (``frameworks_catalog.json``);
- Edge Impulse profiling (in :mod:`labkit.edge_impulse`).

The running of models on each runtime is :mod:`labkit.runtime` (LiteRT, TFLite Micro,
ONNX Runtime, OpenVINO) and the conversions :mod:`labkit.convert` and
:mod:`labkit.convert_onnx`. Nothing here imports TensorFlow.

Example
-------
>>> parity([[2.0, 1.0], [0.0, 3.0]], [[1.5, 1.0], [0.5, 0.2]])
{'max_abs_diff': 2.8, 'top1_agreement': 0.5}
>>> ei_sample([[1.0, 2.0]], 10, ["accX", "accY"], ["m/s2", "m/s2"], "PHONE")["protected"]
{'ver': 'v1', 'alg': 'none'}
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.metadata
import importlib.util
import json
import numbers
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from labkit.validate import check_array, check_int, check_real

CATALOG_PATH = Path(__file__).with_name("frameworks_catalog.json")
EMPTY_SIGNATURE = "0" * 64  # HS256 gives 32 bytes, written as 64 hex digits


# --------------------------------------------------------------------------------------
# Exercise 08.parity
# --------------------------------------------------------------------------------------

def parity(reference_logits: Any, other_logits: Any) -> dict[str, float]:
    """Output parity of a runtime with the reference, on the same samples.

    Parameters
    ----------
    reference_logits, other_logits : array_like, shape ``(n, classes)``
        Scores (logits or probabilities) of the reference model (Keras) and of the other
        runtime, row ``i`` for sample ``i``.

    Returns
    -------
    dict
        ``max_abs_diff``: the largest ``|reference - other|`` over every sample and class;
        ``top1_agreement``: the fraction of samples whose argmax (the first one on ties,
        as ``numpy.argmax``) is the same class in both.

    Example
    -------
    >>> parity([[0.1, 0.9]], [[0.1, 0.9]])
    {'max_abs_diff': 0.0, 'top1_agreement': 1.0}
    """
    ref = check_array(reference_logits, "reference_logits", ndim=2,
                      hint="pass scores of shape (n, classes)")
    other = check_array(other_logits, "other_logits", ndim=2,
                        hint="pass scores of shape (n, classes)")
    if ref.shape != other.shape:
        raise ValueError(f"reference_logits and other_logits must have the same shape, got "
                         f"{ref.shape} and {other.shape}; predict on the same samples")
    diff = np.abs(ref.astype(np.float64) - other.astype(np.float64))
    agree = np.argmax(ref, axis=1) == np.argmax(other, axis=1)
    return {"max_abs_diff": float(diff.max()), "top1_agreement": float(agree.mean())}


# --------------------------------------------------------------------------------------
# Exercise 08.ei_sample: Edge Impulse's data acquisition format
# --------------------------------------------------------------------------------------

def _check_names(value: Any, name: str, count: int) -> list[str]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
        raise TypeError(f"{name} must be a list of non-empty strings, got {value!r:.80}")
    if len(value) != count:
        raise ValueError(f"{name} must have one entry per column of values ({count}), got "
                         f"{len(value)}")
    return list(value)


def ei_sample(values: Any, interval_ms: float, sensor_names: list[str], units: list[str],
              device_type: str, hmac_key: str | None = None) -> dict[str, Any]:
    """One sample in Edge Impulse's data acquisition format, signed when ``hmac_key`` is given.

    The object has three parts: ``protected`` (``ver`` "v1" and ``alg``), ``signature``
    and ``payload`` (``device_type``, ``interval_ms``, ``sensors`` — one ``{"name",
    "units"}`` per column — and ``values``, one list per time step). Without a key ``alg``
    is ``"none"`` and the signature is 64 zeros. With a key ``alg`` is ``"HS256"`` and the
    signature is the hex HMAC-SHA256, keyed with the HMAC key's text (UTF-8), of
    ``json.dumps(sample)`` computed while ``signature`` still holds the 64 zeros — the
    recipe of Edge Impulse's own Python example. Send exactly ``json.dumps(sample)``: the
    signature covers those bytes. No ``iat`` (optional, only for devices with a real clock)
    and no ``device_name`` (optional), so the result depends on the arguments alone.

    Parameters
    ----------
    values : array_like, shape ``(steps, sensors)``
        Readings, one row per time step.
    interval_ms : float
        Time between two rows in milliseconds (e.g. 16 for 62.5 Hz), > 0.
    sensor_names, units : list of str
        One per column, e.g. ``["accX", "accY", "accZ"]`` and ``["m/s2"] * 3``.
    device_type : str
        The device model, e.g. ``"ARDUINO_NANO33BLE"``.
    hmac_key : str, optional
        The project's HMAC key (Studio: Dashboard → Keys).

    Example
    -------
    >>> s = ei_sample([[0.0, 9.81]], 16, ["accX", "accZ"], ["m/s2", "m/s2"], "SIM", "secret")
    >>> s["protected"]["alg"], len(s["signature"]), ei_signature_valid(s, "secret")
    ('HS256', 64, True)
    """
    rows = check_array(values, "values", ndim=2, hint="pass one row per time step, one column "
                       "per sensor")
    interval = check_real(interval_ms, "interval_ms", low=0, include="high")
    names = _check_names(sensor_names, "sensor_names", rows.shape[1])
    unit_list = _check_names(units, "units", rows.shape[1])
    if not isinstance(device_type, str) or not device_type:
        raise TypeError(f"device_type must be a non-empty string, got {device_type!r}")
    if hmac_key is not None and (not isinstance(hmac_key, str) or not hmac_key):
        raise TypeError(f"hmac_key must be None or a non-empty string, got {hmac_key!r}")
    interval_value: float | int = (int(interval_ms) if isinstance(interval_ms, numbers.Integral)
                                   else interval)
    sample = {
        "protected": {"ver": "v1", "alg": "HS256" if hmac_key else "none"},
        "signature": EMPTY_SIGNATURE,
        "payload": {
            "device_type": device_type,
            "interval_ms": interval_value,
            "sensors": [{"name": n, "units": u} for n, u in zip(names, unit_list)],
            "values": rows.tolist(),
        },
    }
    if hmac_key:
        sample["signature"] = _hs256(sample, hmac_key)
    return sample


def _hs256(sample: dict[str, Any], hmac_key: str) -> str:
    encoded = json.dumps({**sample, "signature": EMPTY_SIGNATURE})
    return hmac.new(hmac_key.encode("utf-8"), encoded.encode("utf-8"), hashlib.sha256).hexdigest()


def ei_signature_valid(sample: dict[str, Any], hmac_key: str) -> bool:
    """Whether ``sample`` carries a valid HS256 signature for ``hmac_key``: the check Edge
    Impulse's ingestion service makes on the bytes ``json.dumps(sample)`` (the signature is
    recomputed with the signature field set back to 64 zeros, keys in the sample's order)."""
    if not isinstance(sample, dict) or not isinstance(sample.get("signature"), str):
        return False
    try:
        expected = _hs256(sample, hmac_key)
    except (TypeError, ValueError):  # not JSON-encodable
        return False
    return (sample.get("protected", {}).get("alg") == "HS256"
            and hmac.compare_digest(sample["signature"], expected))


# --------------------------------------------------------------------------------------
# What a runtime costs: import time and installed size
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Runtime:
    """A runtime's Python entry point: the module to import and the distributions it ships as."""

    module: str
    distributions: tuple[str, ...]


RUNTIMES = {
    "TensorFlow (Keras)": Runtime("tf_keras", ("tensorflow", "tf-keras")),
    "LiteRT": Runtime("ai_edge_litert.interpreter", ("ai-edge-litert",)),
    "TFLite Micro": Runtime("tflite_micro.python.tflite_micro.runtime", ("tflite-micro",)),
    "ONNX Runtime": Runtime("onnxruntime", ("onnxruntime",)),
    "OpenVINO": Runtime("openvino", ("openvino",)),
    "Edge Impulse SDK": Runtime("edgeimpulse", ("edgeimpulse", "edgeimpulse-api")),
}
"""The runtimes of notebook 08 (TensorFlow is imported through tf_keras, as labkit does)."""

_IMPORT_PROBE = """
import os, sys, time
for k, v in {"TF_CPP_MIN_LOG_LEVEL": "3", "TF_USE_LEGACY_KERAS": "1",
             "TF_ENABLE_ONEDNN_OPTS": "0"}.items():
    os.environ.setdefault(k, v)
start = time.perf_counter()
import importlib, io, contextlib
with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
    importlib.import_module(sys.argv[1])
print(repr(time.perf_counter() - start))
"""


def import_time_s(module: str, *, repeats: int = 1, timeout_s: float = 120.0) -> float:
    """Seconds to ``import module`` in a fresh Python process (the best of ``repeats``).

    Only the import is timed, not the interpreter's start. The first run after installing
    also pays for reading the files from disk; later runs find them in the OS file cache.
    """
    if not isinstance(module, str) or not module:
        raise TypeError(f"module must be a module name such as 'onnxruntime', got {module!r}")
    repeats = check_int(repeats, "repeats", low=1)
    best = float("inf")
    for _ in range(repeats):
        done = subprocess.run([sys.executable, "-c", _IMPORT_PROBE, module], capture_output=True,
                              text=True, timeout=timeout_s)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise RuntimeError(f"import {module} failed in a fresh Python: {last}")
        best = min(best, float(done.stdout.strip().splitlines()[-1]))
    return best


def installed_size_bytes(distribution: str) -> int:
    """Bytes on disk of the files an installed distribution lists (its own, not its
    dependencies'); ``importlib.metadata.PackageNotFoundError`` if it is not installed."""
    if not isinstance(distribution, str) or not distribution:
        raise TypeError(f"distribution must be a name such as 'onnxruntime', got "
                        f"{distribution!r}")
    total = 0
    for file in importlib.metadata.distribution(distribution).files or ():
        path = Path(file.locate())
        if path.is_file():
            total += path.stat().st_size
    return total


# --------------------------------------------------------------------------------------
# TensorRT
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TensorRTStatus:
    """What this machine has for TensorRT; ``available`` when a run is possible."""

    gpu: str | None  # the first NVIDIA GPU's name, from nvidia-smi
    tensorrt: str | None  # the tensorrt package's version
    onnxruntime_provider: bool  # onnxruntime offers TensorrtExecutionProvider

    @property
    def available(self) -> bool:
        return bool(self.gpu and self.onnxruntime_provider)

    def reason(self) -> str:
        """Why TensorRT cannot run here (empty when it can)."""
        missing = []
        if not self.gpu:
            missing.append("no NVIDIA GPU (nvidia-smi lists none)")
        if not self.tensorrt:
            missing.append("no TensorRT (the tensorrt package is not installed)")
        if not self.onnxruntime_provider:
            missing.append("onnxruntime offers no TensorrtExecutionProvider (that needs "
                           "onnxruntime-gpu built with TensorRT)")
        return "; ".join(missing) if not self.available else ""


def tensorrt_status() -> TensorRTStatus:
    """Look for an NVIDIA GPU (``nvidia-smi -L``), the ``tensorrt`` package and ONNX Runtime's
    TensorRT execution provider."""
    gpu = None
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            listing = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20)
            lines = [line for line in listing.stdout.splitlines() if line.startswith("GPU")]
            gpu = lines[0].split(":", 1)[1].split("(")[0].strip() if lines else None
        except (OSError, subprocess.SubprocessError):
            gpu = None
    version = None
    if importlib.util.find_spec("tensorrt") is not None:
        try:
            version = importlib.metadata.version("tensorrt")
        except importlib.metadata.PackageNotFoundError:
            version = "installed"
    provider = False
    if importlib.util.find_spec("onnxruntime") is not None:
        import onnxruntime

        provider = "TensorrtExecutionProvider" in onnxruntime.get_available_providers()
    return TensorRTStatus(gpu, version, provider)


# --------------------------------------------------------------------------------------
# The sourced comparison of frameworks
# --------------------------------------------------------------------------------------

FRAMEWORK_FIELDS = ("targets", "precisions", "mcu", "licence", "models_in", "tooling")


def load_frameworks(path: Path | str | None = None) -> dict[str, Any]:
    """Read ``frameworks_catalog.json``: ``frameworks`` (each field a ``{value, source}``
    cell) and ``sources`` (key → title and url); every cell must cite a listed source.

    Example
    -------
    >>> catalog = load_frameworks()
    >>> catalog["frameworks"][0]["name"]
    'LiteRT'
    """
    data = json.loads(Path(path or CATALOG_PATH).read_text(encoding="utf-8"))
    for fw in data["frameworks"]:
        for field in FRAMEWORK_FIELDS:
            cell = fw.get(field)
            if not isinstance(cell, dict) or cell.get("source") not in data["sources"]:
                raise ValueError(f"framework {fw.get('name')!r}, field {field!r}: every cell "
                                 "needs a value and a source listed in 'sources'")
    return data


def frameworks_markdown(catalog: dict[str, Any]) -> str:
    """The comparison as a Markdown table, each cell with its numbered source, and the
    numbered list of sources under it."""
    numbers_by_key: dict[str, int] = {}
    headers = ["framework", "targets", "precisions", "microcontrollers", "licence",
               "how models get in", "tooling"]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for fw in catalog["frameworks"]:
        cells = [f"**{fw['name']}**"]
        for field in FRAMEWORK_FIELDS:
            n = numbers_by_key.setdefault(fw[field]["source"], len(numbers_by_key) + 1)
            cells.append(f"{fw[field]['value']} <sup>[{n}]</sup>")
        lines.append("| " + " | ".join(cells) + " |")
    notes = [f"{n}. {catalog['sources'][k]['title']} <{catalog['sources'][k]['url']}>"
             for k, n in numbers_by_key.items()]
    return "\n".join(lines) + "\n\n**Sources**\n\n" + "\n".join(notes)


__all__ = ["EMPTY_SIGNATURE", "FRAMEWORK_FIELDS", "RUNTIMES", "Runtime", "TensorRTStatus",
           "ei_sample", "ei_signature_valid", "frameworks_markdown",
           "import_time_s", "installed_size_bytes", "load_frameworks", "parity",
           "tensorrt_status"]
