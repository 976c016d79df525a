"""TFLite Micro, the microcontroller interpreter, run on this PC (``tflite-micro``; notebook 02).

It runs float32 and int8 models but refuses dynamic-range and float16 ones.

- :class:`Micro`: the backend (see :mod:`labkit.runtime.backend`), with the tensor arena
  size as its option;
- :func:`runs_on_micro`: whether a model runs, and why not → :class:`MicroSupport`;
- :func:`run_micro`: outputs on TFLite Micro, which compare directly with LiteRT's;
- :func:`arena_bytes`: the RAM a model needs on a microcontroller, measured by the
  interpreter (the tensor arena after one invoke);
- :class:`MicroError`: the refusal, with the reason.

Example
-------
>>> Micro(arena_size=64 * 1024)
Micro(arena_size=65536)
>>> MicroSupport(False, "float16 model")
MicroSupport(refused: float16 model)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from labkit.runtime.backend import (
    Backend,
    BackendError,
    LatencyStats,
    capture_native_stderr,
    time_invocations,
)
from labkit.runtime.report import ModelReport, describe
from labkit.runtime.tensors import (
    _from_output,
    _to_input,
    check_count,
    check_samples,
    random_input,
)
from labkit.validate import check_model_bytes

DEFAULT_MICRO_ARENA_BYTES = 4 * 1024 * 1024  # generous for a PC; pass the real budget on an MCU


@dataclass(frozen=True)
class MicroSupport:
    """Whether TFLite Micro runs a model; ``reason`` says why not. Truthy when it runs.

    Unpacks as ``ok, reason = runs_on_micro(model_bytes)``.
    """

    ok: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.ok

    def __iter__(self) -> Iterator[Any]:
        return iter((self.ok, self.reason))

    def __repr__(self) -> str:
        return "MicroSupport(runs)" if self.ok else f"MicroSupport(refused: {self.reason})"


class MicroError(BackendError):
    """TFLite Micro refused the model; the message says why."""


@dataclass
class MicroModel:
    """A model loaded by :class:`Micro`: the interpreter and its number of inputs."""

    interpreter: Any
    num_inputs: int


def _micro_reason(model_bytes: bytes, native: str) -> str:
    report = describe(model_bytes)
    lines = [line.strip() for line in native.splitlines() if line.strip()]
    detail = f" (TFLite Micro said: {' / '.join(lines[:2])})" if lines else ""
    if "float16" in report.tensors_by_dtype:
        why = "float16 model: TFLite Micro has no float16 kernels, it runs float32 or int8 models"
    elif "int8" in report.weight_dtypes and "float32" in {t.dtype for t in report.inputs}:
        why = ("dynamic-range (hybrid) model: int8 weights with float32 activations are not "
               "supported by TFLite Micro; convert to full int8 or keep float32")
    else:
        why = "TFLite Micro could not prepare the model"
    return why + detail


class Micro(Backend):
    """The TFLite Micro interpreter (one thread, one sample per ``invoke()``).

    Parameters
    ----------
    arena_size : int, optional
        Tensor arena in bytes, at least 1024; default 4 MiB or 10× the model, whichever is
        larger.
    """

    name = "micro"

    def __init__(self, *, arena_size: int | None = None) -> None:
        self.arena_size = None if arena_size is None else check_count("arena_size", arena_size,
                                                                       1024)

    def __repr__(self) -> str:
        return f"Micro(arena_size={self.arena_size})"

    def load(self, model_bytes: bytes, *, threads: int | None = None) -> MicroModel:
        from tflite_micro.python.tflite_micro import runtime as micro

        model_bytes = check_model_bytes(model_bytes)
        if threads is not None and check_count("threads", threads) != 1:
            raise ValueError(f"threads must be 1 or None for TFLite Micro, which runs on one "
                             f"core, got {threads}")
        arena = self.arena_size or max(DEFAULT_MICRO_ARENA_BYTES, 10 * len(model_bytes))
        with capture_native_stderr() as native:
            try:
                interpreter = micro.Interpreter.from_bytes(model_bytes, arena_size=arena)
            except RuntimeError as exc:
                error = exc
            else:
                return MicroModel(interpreter, len(describe(model_bytes).inputs))
        raise MicroError(_micro_reason(model_bytes, native[0] if native else "")) from error

    def predict(self, handle: MicroModel, x: Any) -> np.ndarray:
        interp = handle.interpreter
        in_detail, out_detail = interp.get_input_details(0), interp.get_output_details(0)
        x = check_samples(x, in_detail)
        results = []
        for sample in x:
            interp.set_input(_to_input(sample[None], in_detail), 0)
            interp.invoke()
            results.append(_from_output(interp.get_output(0), out_detail))
        if not results:
            return np.zeros((0, *tuple(out_detail["shape"][1:])), np.float32)
        return np.concatenate(results)

    def benchmark(self, handle: MicroModel, *, warmup: int = 20, runs: int = 200,
                  seed: int = 0) -> LatencyStats:
        interp = handle.interpreter
        rng = np.random.default_rng(seed)
        for i in range(handle.num_inputs):
            interp.set_input(random_input(interp.get_input_details(i), rng), i)
        return time_invocations(interp.invoke, threads=1, warmup=warmup, runs=runs)

    def describe(self, model_bytes: bytes) -> ModelReport:
        return describe(model_bytes)


def runs_on_micro(model_bytes: bytes, *, arena_size: int | None = None) -> MicroSupport:
    """Whether TFLite Micro can load and run the model (one invoke on zeros).

    Never raises for a refused model: returns ``MicroSupport(False, reason)``.

    Parameters
    ----------
    model_bytes : bytes
    arena_size : int, optional
        Tensor arena in bytes; default 4 MiB or 10× the model, whichever is larger.

    Example
    -------
    >>> ok, reason = runs_on_micro(model_bytes)  # doctest: +SKIP
    """
    model_bytes = check_model_bytes(model_bytes)
    backend = Micro(arena_size=arena_size)
    try:
        handle = backend.load(model_bytes)
        for i in range(handle.num_inputs):
            detail = handle.interpreter.get_input_details(i)
            handle.interpreter.set_input(np.zeros(detail["shape"], detail["dtype"]), i)
        with capture_native_stderr():
            handle.interpreter.invoke()
    except MicroError as exc:
        return MicroSupport(False, str(exc))
    except RuntimeError as exc:
        return MicroSupport(False, f"TFLite Micro failed to run the model: {exc}")
    return MicroSupport(True, "")


def run_micro(model_bytes: bytes, x: Any, *, arena_size: int | None = None) -> np.ndarray:
    """Run a float32 or int8 model on TFLite Micro, one sample at a time.

    Inputs are quantized and outputs dequantized as in :func:`labkit.runtime.predict`, so
    the results compare directly with LiteRT's.

    Parameters
    ----------
    model_bytes : bytes
    x : array_like, shape ``(n, *input_shape)``
        Real-valued inputs.
    arena_size : int, optional
        Tensor arena in bytes (see :func:`runs_on_micro`).

    Returns
    -------
    numpy.ndarray of float32, shape ``(n, *output_shape)``.

    Raises
    ------
    MicroError
        If TFLite Micro refuses the model (dynamic-range, float16), with the reason.
    """
    backend = Micro(arena_size=arena_size)
    return backend.predict(backend.load(model_bytes), x)


def arena_bytes(model_bytes: bytes) -> int:
    """The tensor arena (RAM, bytes) TFLite Micro used for the model, measured.

    Loads the model with a generous arena, runs one ``invoke()`` on zeros and reads what
    the interpreter's recording allocator reports (``print_allocations``: "Arena allocation
    total"): activations, the scratch buffers of the kernels and the interpreter's own
    structures. On a microcontroller this is the RAM to reserve (plus the stack); the model
    itself stays in flash. "Fits" means both fit.

    Raises
    ------
    MicroError
        If TFLite Micro refuses the model (dynamic-range, float16), with the reason.

    Example
    -------
    >>> arena_bytes(model_bytes)  # doctest: +SKIP
    52480
    """
    handle = Micro().load(model_bytes)
    interp = handle.interpreter
    for i in range(handle.num_inputs):
        detail = interp.get_input_details(i)
        interp.set_input(np.zeros(detail["shape"], detail["dtype"]), i)
    with capture_native_stderr() as text:
        interp.invoke()
        interp.print_allocations()
    found = re.search(r"Arena allocation total (\d+) bytes", text[0] if text else "")
    if found is None:
        raise MicroError("TFLite Micro did not report its arena (print_allocations)")
    return int(found.group(1))
