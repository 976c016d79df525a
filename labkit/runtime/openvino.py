"""OpenVINO, Intel's toolkit and runtime for inference on CPUs, GPUs and NPUs (``openvino``; notebook 08).

:class:`OpenVINO` is a backend (see :mod:`labkit.runtime.backend`) that reads ``.onnx`` and
``.tflite`` files directly (OpenVINO's ONNX and TensorFlow Lite frontends), fixes the batch
axis to 1 and compiles the model for a device (``"CPU"`` here) with one stream and the
requested number of threads.

The CPU plugin chooses its own arithmetic precision unless told: on CPUs with native
bfloat16 (AVX512-BF16, AMX) it runs float32 models in **bf16** by default, which changes
their outputs in the third decimal. ``precision="f32"`` asks for float32 arithmetic; the
loaded model says what the plugin chose (:attr:`OpenVINOModel.precision`). Quantized
models (an int8 ``.tflite``, a QDQ ``.onnx``) run on OpenVINO's int8 kernels.

``openvino`` is imported on first use, never with this module.

Example
-------
>>> OpenVINO(precision="f32")
OpenVINO(device='CPU', precision='f32')
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from labkit.runtime.backend import Backend, BackendError, LatencyStats, time_invocations
from labkit.runtime.onnx import describe_onnx, io_details, model_format
from labkit.runtime.report import ModelReport, describe
from labkit.runtime.tensors import _from_output, _to_input, check_count, check_samples, random_input

PRECISIONS = ("f32", "bf16", "f16")


@dataclass
class OpenVINOModel:
    """A model compiled by :class:`OpenVINO`; ``precision`` is what the plugin runs (e.g. ``"bf16"``)."""

    compiled: Any
    request: Any
    input: dict[str, Any]
    output: dict[str, Any]
    threads: int | None
    precision: str


def _tflite_details(model_bytes: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    report = describe(model_bytes)

    def detail(t: Any) -> dict[str, Any]:
        scale = (t.scales[0], t.zero_points[0]) if t.scales else (0.0, 0)
        return {"name": t.name, "dtype": np.dtype(t.dtype).type,
                "shape": np.array([max(d, 1) for d in t.shape]),
                "shape_signature": np.array([-1, *t.shape[1:]]), "quantization": scale}

    return detail(report.inputs[0]), detail(report.outputs[0])


class OpenVINO(Backend):
    """The OpenVINO runtime (``ov.Core().compile_model``).

    Parameters
    ----------
    device : str, default "CPU"
        An OpenVINO device name (``ov.Core().available_devices``).
    precision : {None, "f32", "bf16", "f16"}, default None
        ``INFERENCE_PRECISION_HINT``; None leaves the plugin's own choice.
    """

    name = "openvino"

    def __init__(self, *, device: str = "CPU", precision: str | None = None) -> None:
        if not isinstance(device, str) or not device:
            raise TypeError(f"device must be an OpenVINO device name such as 'CPU', got "
                            f"{device!r}")
        if precision is not None and precision not in PRECISIONS:
            raise ValueError(f"precision must be None or one of {', '.join(PRECISIONS)}, got "
                             f"{precision!r}")
        self.device = device
        self.precision = precision

    def __repr__(self) -> str:
        return f"OpenVINO(device={self.device!r}, precision={self.precision!r})"

    def load(self, model_bytes: bytes, *, threads: int | None = None) -> OpenVINOModel:
        import openvino as ov

        fmt = model_format(model_bytes)
        model_bytes = bytes(model_bytes)
        if threads is not None:
            threads = check_count("threads", threads)
        inp, out = (_tflite_details if fmt == "tflite" else io_details)(model_bytes)
        core = ov.Core()
        config: dict[str, Any] = {"NUM_STREAMS": 1, "PERFORMANCE_HINT": "LATENCY"}
        if threads:
            config["INFERENCE_NUM_THREADS"] = threads
        if self.precision:
            config["INFERENCE_PRECISION_HINT"] = self.precision
        try:
            with tempfile.TemporaryDirectory(prefix="labkit-ov-") as folder:
                path = Path(folder) / f"model.{fmt}"
                path.write_bytes(model_bytes)
                model = core.read_model(str(path))
            model.reshape({model.input(0): [1, *(int(d) for d in inp["shape"][1:])]})
            compiled = core.compile_model(model, self.device, config)
        except RuntimeError as exc:
            raise BackendError(f"OpenVINO refused the model: {exc}") from exc
        precision = compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()
        return OpenVINOModel(compiled, compiled.create_infer_request(), inp, out, threads,
                             precision)

    def predict(self, handle: OpenVINOModel, x: Any) -> np.ndarray:
        x = check_samples(x, handle.input)
        request = handle.request
        results = []
        for sample in x:
            request.infer({0: _to_input(sample[None], handle.input)})
            results.append(_from_output(request.get_output_tensor(0).data.copy(), handle.output))
        if not results:
            return np.zeros((0, *handle.output["shape"][1:]), np.float32)
        return np.concatenate(results)

    def benchmark(self, handle: OpenVINOModel, *, warmup: int = 20, runs: int = 200,
                  seed: int = 0) -> LatencyStats:
        import openvino as ov

        detail = {**handle.input, "shape": [1, *handle.input["shape"][1:]]}
        request = handle.request
        request.set_input_tensor(0, ov.Tensor(random_input(detail, np.random.default_rng(seed))))
        return time_invocations(request.infer, threads=handle.threads or os.cpu_count() or 1,
                                warmup=warmup, runs=runs)

    def describe(self, model_bytes: bytes) -> ModelReport:
        if model_format(model_bytes) == "tflite":
            return describe(bytes(model_bytes))
        return describe_onnx(bytes(model_bytes))
