"""The interface every runtime backend implements, and what backends share.

A backend is one way to run a model file on this machine: LiteRT
(:class:`labkit.runtime.litert.LiteRT`) and TFLite Micro
(:class:`labkit.runtime.micro.Micro`) first; ONNX Runtime or OpenVINO (notebook 08) plug in
by implementing the same four methods:

- ``load(model_bytes, *, threads=None) -> handle``: prepare the model to run (the handle is
  the backend's own object), raising :class:`BackendError` when the runtime refuses it;
- ``predict(handle, x) -> numpy.ndarray``: float inputs ``(n, *input_shape)`` in, float32
  outputs out; quantized models get quantized inputs and give dequantized outputs;
- ``benchmark(handle, *, warmup=20, runs=200, seed=0) -> LatencyStats``: latency of one
  inference at batch 1 (time it with :func:`time_invocations`);
- ``describe(model_bytes) -> ModelReport``: what the file holds.

Options that belong to one runtime (LiteRT's batch size, TFLite Micro's arena) are arguments
of the backend's constructor, so the four methods read the same everywhere.

Example
-------
>>> stats = LatencyStats(median_ms=0.5, p10_ms=0.4, p90_ms=0.7, mean_ms=0.55, min_ms=0.38,
...                      count=200, threads=1)
>>> stats
LatencyStats(median 0.500 ms, p10 0.400 ms, p90 0.700 ms, mean 0.550 ms, 200 runs, 1 thread)
"""

from __future__ import annotations

import abc
import contextlib
import ctypes
import gc
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np

from labkit.runtime.report import ModelReport
from labkit.runtime.tensors import check_count


class BackendError(RuntimeError):
    """A runtime refused a model; the message says why."""


class Backend(abc.ABC):
    """One runtime that loads, runs, times and describes model files (see the module)."""

    name: ClassVar[str]

    @abc.abstractmethod
    def load(self, model_bytes: bytes, *, threads: int | None = None) -> Any:
        """Prepare ``model_bytes`` to run with ``threads`` threads (the runtime's default
        when None); return the handle :meth:`predict` and :meth:`benchmark` take.

        Raises ``TypeError``/``ValueError`` for bad arguments, :class:`BackendError` when the
        runtime refuses the model.
        """

    @abc.abstractmethod
    def predict(self, handle: Any, x: Any) -> np.ndarray:
        """Outputs (float32, dequantized) of the loaded model for float inputs ``x``
        of shape ``(n, *input_shape)``."""

    @abc.abstractmethod
    def benchmark(self, handle: Any, *, warmup: int = 20, runs: int = 200,
                  seed: int = 0) -> LatencyStats:
        """Latency of one inference at batch 1 on random inputs (seeded by ``seed``)."""

    @abc.abstractmethod
    def describe(self, model_bytes: bytes) -> ModelReport:
        """Ops, tensors, parameter bytes and I/O quantization of the model file."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


# --------------------------------------------------------------------------------------
# Latency
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LatencyStats:
    """Latency of one ``invoke()`` in milliseconds, over ``count`` timed runs."""

    median_ms: float
    p10_ms: float
    p90_ms: float
    mean_ms: float
    min_ms: float
    count: int
    threads: int

    def __repr__(self) -> str:
        return (f"LatencyStats(median {self.median_ms:.3f} ms, p10 {self.p10_ms:.3f} ms, "
                f"p90 {self.p90_ms:.3f} ms, mean {self.mean_ms:.3f} ms, {self.count} runs, "
                f"{self.threads} thread{'s' if self.threads != 1 else ''})")

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def time_invocations(invoke: Callable[[], Any], *, threads: int, warmup: int = 20,
                     runs: int = 200) -> LatencyStats:
    """Call ``invoke()`` ``warmup`` times untimed, then ``runs`` times timed one by one.

    The garbage collector is paused while timing; only the call itself is measured, so set
    the inputs before. ``threads`` is recorded in the result.

    Example
    -------
    >>> stats = time_invocations(lambda: sum(range(100)), threads=1, warmup=2, runs=50)
    >>> stats.count, stats.min_ms <= stats.median_ms <= stats.p90_ms
    (50, True)
    """
    warmup = check_count("warmup", warmup, 0)
    runs = check_count("runs", runs)
    for _ in range(warmup):
        invoke()
    times = np.empty(runs)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for i in range(runs):
            start = time.perf_counter_ns()
            invoke()
            times[i] = time.perf_counter_ns() - start
    finally:
        if was_enabled:
            gc.enable()
    ms = times / 1e6
    p10, median, p90 = np.percentile(ms, [10, 50, 90])
    return LatencyStats(float(median), float(p10), float(p90), float(ms.mean()),
                        float(ms.min()), runs, threads)


# --------------------------------------------------------------------------------------
# Native log lines (C++ runtimes write straight to file descriptor 2)
# --------------------------------------------------------------------------------------

def flush_c_stdio() -> None:
    """Flush C stdio buffers, so native log lines leave while stderr is still redirected."""
    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError, TypeError):  # no C library handle (e.g. Windows)
        pass


@contextlib.contextmanager
def capture_native_stderr() -> Iterator[list[str]]:
    """Capture what C++ code writes to file descriptor 2; the text lands in the list."""
    captured: list[str] = []
    with tempfile.TemporaryFile(mode="w+b") as sink:
        try:
            saved = os.dup(2)
        except OSError:
            yield captured
            return
        os.dup2(sink.fileno(), 2)
        try:
            yield captured
        finally:
            flush_c_stdio()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            captured.append(sink.read().decode(errors="replace"))
