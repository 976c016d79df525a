"""Measure model variants side by side: the one record every notebook's comparison uses.

A :class:`Variant` is what a ``.tflite`` model costs and what it gets right: file size raw
and gzipped, accuracy on a test set with its 95 % interval (:mod:`labkit.stats`), median
latency at 1 thread with p10/p90 (interleaved rounds, :func:`labkit.runtime.benchmark_models`),
MACs, whether TFLite Micro runs it and why not, and room for energy. :func:`measure_variants`
fills them for a dict of models; :func:`variants_table` prints them with each variant's
accuracy change against a baseline, with the paired test's verdict.

Example
-------
>>> from labkit.stats import accuracy_from_counts
>>> v = Variant("int8", size_bytes=73_000, gzip_bytes=61_000,
...             accuracy=accuracy_from_counts(265, 270))
>>> v.size_kb
73.0
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from labkit import runtime, stats
from labkit.validate import check_int


@dataclass
class Variant:
    """One model variant, measured: see the module docstring for each field."""

    name: str
    size_bytes: int
    gzip_bytes: int
    accuracy: stats.Accuracy
    latency: Any = None  # runtime.LatencyStats
    macs: int | None = None
    micro: bool | None = None
    micro_reason: str = ""
    energy_mj: float | None = None
    correct: np.ndarray | None = field(default=None, repr=False)  # per test sample

    @property
    def size_kb(self) -> float:
        return self.size_bytes / 1000

    @property
    def latency_ms(self) -> float | None:
        return None if self.latency is None else self.latency.median_ms

    def __repr__(self) -> str:
        lat = f", {self.latency_ms:.3f} ms" if self.latency is not None else ""
        return f"<Variant {self.name}: {self.size_kb:.1f} KB, {self.accuracy}{lat}>"


def measure_variants(models: Mapping[str, bytes], x_test: Any, y_test: Any, *,
                     macs: Mapping[str, int] | int | None = None, threads: int = 1,
                     rounds: int = 3, runs: int = 200, micro: bool = True) -> dict[str, Variant]:
    """Measure every ``.tflite`` model of ``models`` on the same test set and machine.

    Latency rounds are interleaved across the models (so machine noise hits all alike);
    ``runs=0`` skips timing. ``macs`` is one count for all, or a count per name.
    """
    if not isinstance(models, Mapping) or not models:
        raise TypeError("models must be a non-empty dict of name -> .tflite bytes")
    runs = check_int(runs, "runs", low=0)
    latency = (runtime.benchmark_models(dict(models), threads=threads, rounds=rounds, runs=runs)
               if runs else {})
    y = np.asarray(y_test)
    out = {}
    for name, model_bytes in models.items():
        predicted = np.argmax(runtime.predict(model_bytes, x_test).reshape(len(y), -1), axis=-1)
        correct = predicted == y
        support = runtime.runs_on_micro(model_bytes) if micro else None
        out[name] = Variant(
            name, len(model_bytes), runtime.gzipped_size_bytes(model_bytes),
            stats.accuracy(correct), latency.get(name),
            macs.get(name) if isinstance(macs, Mapping) else macs,
            None if support is None else support.ok, "" if support is None else support.reason,
            correct=correct)
    return out


def _change(v: Variant, base: Variant) -> str:
    """``+0.4 points [-0.3, +1.1], p = 0.27: indistinguishable on 270 test samples``."""
    c = stats.compare(v.correct, base.correct, names=(v.name, base.name))
    return (f"{100 * c.difference:+.1f} points [{100 * c.low:+.1f}, {100 * c.high:+.1f}], "
            f"p = {c.test.p_value:.2g}: {stats.verdict(c, above=0.0)}")


def variants_table(variants: Mapping[str, Variant], *, baseline: str | None = None) -> str:
    """A Markdown table of ``variants``; with ``baseline``, each one's accuracy change
    against it and the exact McNemar verdict on the same test samples."""
    from labkit.plots import markdown_table

    base = variants[baseline] if baseline is not None else None
    header = ["variant", "size (KB)", "gzipped (KB)", "accuracy (95 % interval)",
              "latency, 1 thread (ms, p10–p90)"]
    if base is not None:
        header.append(f"vs {baseline}")
    rows = []
    for v in variants.values():
        lat = (f"{v.latency.median_ms:.3f} ({v.latency.p10_ms:.3f}–{v.latency.p90_ms:.3f})"
               if v.latency is not None else "–")
        row = [v.name, f"{v.size_kb:.1f}", f"{v.gzip_bytes / 1000:.1f}", str(v.accuracy), lat]
        if base is not None:
            row.append("–" if v is base else _change(v, base))
        rows.append(row)
    return markdown_table(header, rows)
