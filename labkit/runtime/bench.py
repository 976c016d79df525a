"""Latency of ``.tflite`` models at batch 1, one model or several compared fairly (notebooks 02, 03).

Both functions run on LiteRT unless given another backend (any
:class:`labkit.runtime.backend.Backend`, e.g. ``Micro()``).

Example
-------
>>> benchmark_models({})
Traceback (most recent call last):
...
TypeError: models must be a non-empty dict of name -> .tflite bytes, got {}
"""

from __future__ import annotations

from typing import Any

from labkit.runtime.backend import Backend, LatencyStats
from labkit.runtime.litert import LiteRT
from labkit.runtime.tensors import check_count
from labkit.validate import check_model_bytes


def _check_backend(backend: Any) -> Backend:
    if backend is None:
        return LiteRT()
    if not isinstance(backend, Backend):
        raise TypeError(f"backend must be a labkit.runtime Backend such as LiteRT() or Micro(), "
                        f"got {type(backend).__name__}")
    return backend


def benchmark(model_bytes: bytes, *, threads: int = 1, warmup: int = 20, runs: int = 200,
              seed: int = 0, backend: Backend | None = None) -> LatencyStats:
    """Time one inference (``invoke()``) of a ``.tflite`` model at batch 1.

    The input is set once (random values of the input's dtype); only ``invoke()`` is
    timed, with the garbage collector paused. Other programs running on the machine add
    noise: compare medians, and rerun when p90 is far above the median.

    Parameters
    ----------
    model_bytes : bytes
    threads : int, default 1
        Interpreter threads (LiteRT's XNNPACK delegate uses them).
    warmup : int, default 20
        Untimed runs first (caches, lazy initialisation).
    runs : int, default 200
        Timed runs.
    seed : int
        Seed of the random input.
    backend : Backend, optional
        The runtime; default ``LiteRT()``.

    Returns
    -------
    LatencyStats
        ``median_ms``, ``p10_ms``, ``p90_ms``, ``mean_ms``, ``min_ms``, ``count``, ``threads``.

    Raises
    ------
    TypeError, ValueError
        If ``model_bytes`` is not a ``.tflite`` model or a count is not an int >= 1
        (``warmup`` >= 0).
    """
    model_bytes = check_model_bytes(model_bytes)
    threads = check_count("threads", threads)
    warmup = check_count("warmup", warmup, 0)
    runs = check_count("runs", runs)
    backend = _check_backend(backend)
    handle = backend.load(model_bytes, threads=threads)
    return backend.benchmark(handle, warmup=warmup, runs=runs, seed=seed)


def benchmark_models(models: dict[str, bytes], *, threads: int = 1, rounds: int = 3,
                     warmup: int = 20, runs: int = 200,
                     backend: Backend | None = None) -> dict[str, LatencyStats]:
    """Benchmark several models fairly: ``rounds`` rounds, each timing every model in turn,
    keeping for each model the round with the lowest median.

    Another program that runs for a while slows down whichever model is being timed; taking
    the best of interleaved rounds keeps that from deciding a comparison.

    Parameters
    ----------
    models : dict of name -> ``.tflite`` bytes
    threads, warmup, runs, backend
        As in :func:`benchmark`.
    rounds : int, default 3

    Returns
    -------
    dict of name -> LatencyStats, in the order of ``models``.
    """
    if not isinstance(models, dict) or not models:
        raise TypeError(f"models must be a non-empty dict of name -> .tflite bytes, got "
                        f"{models!r:.60}")
    rounds = check_count("rounds", rounds)
    backend = _check_backend(backend)
    best: dict[str, LatencyStats] = {}
    for _ in range(rounds):
        for name, model_bytes in models.items():
            stats = benchmark(model_bytes, threads=threads, warmup=warmup, runs=runs,
                              backend=backend)
            if name not in best or stats.median_ms < best[name].median_ms:
                best[name] = stats
    return best
