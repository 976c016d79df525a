"""Size, accuracy and speed side by side: the Pareto front and the syllabus' claims (notebook 05).

The pure part (numpy, plain data): :func:`pareto_front` (the points no other point beats on
both cost and score), :func:`select_model` (the most accurate candidate that meets every
given constraint) and :func:`claim_verdict` (a measurement against a claimed range) — the
references of exercises 05.*. The sweep part builds every model variant the notebook
measures — widths × techniques, each fine-tuned once and its ``.tflite`` cached with
:func:`labkit.zoo.artifact` — and measures them with :func:`labkit.bench.measure_variants`.

Two families, as in notebooks 03 and 04: the course CNN on 32×32 digits (widths 4, 8, 16:
the work, the sizes and the latencies; 270 test images) and the signal CNN on MNIST-1D
(10,500 test signals: the accuracy verdicts).

Example
-------
>>> pareto_front([3, 1, 2, 2], [0.9, 0.5, 0.8, 0.7])
[1, 2, 0]
>>> claim_verdict(2.1, 3, 4)
'worse'
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from labkit import bench, runtime, stats, zoo
from labkit.validate import check_array, check_choice, check_int, check_real

# --------------------------------------------------------------------------------------
# The exercises' references: plain data in and out
# --------------------------------------------------------------------------------------


def pareto_front(costs: Any, scores: Any) -> list[int]:
    """Indices of the points no other point dominates, in increasing cost.

    Point ``j`` dominates point ``i`` when it costs no more, scores no less, and is strictly
    better in at least one of the two. Identical points do not dominate each other: both are
    on the front. Equal costs are ordered by index.

    Example
    -------
    >>> pareto_front([1, 1, 2], [0.5, 0.5, 0.4])
    [0, 1]
    """
    c = check_array(costs, "costs", ndim=1).astype(float)
    s = check_array(scores, "scores", ndim=1).astype(float)
    if c.shape != s.shape:
        raise ValueError(f"costs and scores must have the same length, got {c.size} and {s.size}")
    no_worse = (c[None, :] <= c[:, None]) & (s[None, :] >= s[:, None])  # [i, j]: j vs i
    better = (c[None, :] < c[:, None]) | (s[None, :] > s[:, None])
    dominated = np.any(no_worse & better, axis=1)
    return [int(i) for i in sorted(np.flatnonzero(~dominated), key=lambda i: (c[i], i))]


_FIELDS = ("name", "size_bytes", "latency_ms", "accuracy")


def _check_candidates(candidates: Any) -> list[Mapping[str, Any]]:
    if not isinstance(candidates, Sequence) or isinstance(candidates, (str, bytes)):
        raise TypeError(f"candidates must be a list of dicts, got {type(candidates).__name__}")
    for i, c in enumerate(candidates):
        if not isinstance(c, Mapping) or any(k not in c for k in _FIELDS):
            raise TypeError(f"candidates[{i}] must be a dict with keys {', '.join(_FIELDS)}, "
                            f"got {c!r:.80}")
    return list(candidates)


def _limit(value: Any, name: str) -> float | None:
    return None if value is None else check_real(value, name, low=0)


def select_model(candidates: Any, max_size_bytes: float | None = None,
                 max_latency_ms: float | None = None,
                 min_accuracy: float | None = None) -> str | None:
    """The name of the most accurate candidate that meets every given constraint.

    A constraint left at ``None`` is not applied; the limits are inclusive (a model of exactly
    ``max_size_bytes`` fits). Equal accuracies go to the smaller file, then to the lower
    latency, then to the earlier candidate. ``None`` when no candidate fits.

    Example
    -------
    >>> models = [{"name": "big", "size_bytes": 900, "latency_ms": 2.0, "accuracy": 0.97},
    ...           {"name": "small", "size_bytes": 100, "latency_ms": 0.5, "accuracy": 0.95}]
    >>> select_model(models), select_model(models, max_size_bytes=500)
    ('big', 'small')
    >>> select_model(models, min_accuracy=0.99) is None
    True
    """
    rows = _check_candidates(candidates)
    size, latency = _limit(max_size_bytes, "max_size_bytes"), _limit(max_latency_ms, "max_latency_ms")
    floor = _limit(min_accuracy, "min_accuracy")
    fits = [(i, c) for i, c in enumerate(rows)
            if (size is None or c["size_bytes"] <= size)
            and (latency is None or c["latency_ms"] <= latency)
            and (floor is None or c["accuracy"] >= floor)]
    if not fits:
        return None
    _, best = min(fits, key=lambda ic: (-ic[1]["accuracy"], ic[1]["size_bytes"],
                                        ic[1]["latency_ms"], ic[0]))
    return str(best["name"])


def claim_verdict(measured: float, claimed_low: float, claimed_high: float) -> str:
    """``"within"``, ``"better"`` or ``"worse"``: a measurement against a claimed range.

    Higher is better (write a cost as a negative change: "costs 1–5 points" is the range
    −5 to −1). The range is inclusive at both ends and may be given in either order.

    Example
    -------
    >>> claim_verdict(-0.4, -5, -1), claim_verdict(-1, -1, -5), claim_verdict(4.5, 3, 4)
    ('better', 'within', 'better')
    """
    value = check_real(measured, "measured")
    low = check_real(claimed_low, "claimed_low")
    high = check_real(claimed_high, "claimed_high")
    low, high = min(low, high), max(low, high)
    return "within" if low <= value <= high else ("better" if value > high else "worse")


# --------------------------------------------------------------------------------------
# The sweep: widths × techniques, cached
# --------------------------------------------------------------------------------------

TECHNIQUES = ("float32", "float16", "dynamic", "int8", "prune50", "prune80", "prune90",
              "cluster16")
"""Per width: post-training float32 / float16 / dynamic-range / int8, then pruned to 50, 80
and 90 % (tfmot, fine-tuned) + int8, and clustered to 16 values (fine-tuned) + int8."""

FAMILIES: dict[str, dict[str, Any]] = {
    "digits": {"recipes": {w: zoo.Recipe("course_cnn", dataset="digits32", epochs=6,
                                         builder_kwargs={"width": w}) for w in (4, 8, 16)},
               "student": {"width": 2}, "train": 1258, "epochs": 3, "batch": 32,
               "distill_epochs": 8},
    "signal": {"recipes": {32: zoo.SIGNAL_CNN}, "student": {"width": 8, "hidden": 32},
               "train": 24_500, "epochs": 2, "batch": 128, "distill_epochs": 4},
}
"""The course CNN on digits (its width 16 is ``zoo.COURSE_CNN``) and the signal CNN on
MNIST-1D (``zoo.SIGNAL_CNN``); the distilled student learns from the widest model."""


@dataclass
class Sweep:
    """The ``.tflite`` files of one family, with MACs per image; ``cached`` is True when every
    file came from the cache, ``seconds`` the time the build took."""

    family: str
    models: dict[str, bytes]
    macs: dict[str, int]
    cached: bool
    seconds: float
    built: list[str] = field(default_factory=list)  # names made now (cold)

    def __repr__(self) -> str:
        how = "all from the cache" if self.cached else f"{len(self.built)} built now"
        return f"<Sweep {self.family}: {len(self.models)} models, {how}, {self.seconds:.1f} s>"


def _data(family: str) -> Any:
    return zoo._dataset(FAMILIES[family]["recipes"][max(FAMILIES[family]["recipes"])].dataset)


def _base(family: str, width: int, base: dict[int, Any]) -> Any:
    """The trained zoo model of ``width`` (loaded once per build)."""
    if width not in base:
        base[width] = zoo.trained(FAMILIES[family]["recipes"][width]).model
    return base[width]


def _make(family: str, width: int | None, technique: str, base: dict[int, Any]) -> bytes:
    """One variant's ``.tflite`` (TensorFlow is imported here, on a cold cache only)."""
    from labkit import compression, convert, pruning
    from labkit.models import build_course_cnn, build_signal_cnn

    spec, data = FAMILIES[family], _data(family)
    x, y = data.x_train[: spec["train"]], data.y_train[: spec["train"]]
    calib = data.x_train[:200]
    if width is None:  # the distilled student
        build = build_course_cnn if family == "digits" else build_signal_cnn
        student = build(data.x_train.shape[1:], data.num_classes, **spec["student"])
        model = compression.distill(_base(family, max(spec["recipes"]), base), student, x, y,
                                    temperature=2.0, alpha=0.5, epochs=spec["distill_epochs"],
                                    batch_size=spec["batch"])
        return convert.convert_int8(model, calib)
    model = _base(family, width, base)
    if technique in ("float32", "float16", "int8"):
        return convert.convert(model, technique, x_calib=calib)
    if technique == "dynamic":
        return convert.convert_dynamic_range(model)
    if technique.startswith("prune"):
        pruned = pruning.prune_and_fine_tune(model, x, y, int(technique[5:]) / 100,
                                             epochs=spec["epochs"], pruning_epochs=spec["epochs"] - 1,
                                             batch_size=spec["batch"])
        return convert.convert_pruned(pruned, "int8", x_calib=calib)
    clustered = compression.cluster_and_fine_tune(model, x, y, 16, epochs=1,
                                                  batch_size=spec["batch"])
    return convert.convert_int8(clustered, calib)


def _variant_name(width: int | None, technique: str) -> str:
    """The label of a variant: ``"w16 int8"``, ``"student int8"``."""
    return "student int8" if width is None else f"w{width} {technique}"


def build_sweep(family: str = "digits") -> Sweep:
    """Every variant of ``family`` (``"digits"`` or ``"signal"``), from the cache or built.

    Each file is a :func:`labkit.zoo.artifact` keyed by the base recipe, the technique and the
    fine-tuning settings, so a warm cache loads it without importing TensorFlow.

    Example
    -------
    >>> build_sweep("digits")  # doctest: +SKIP
    <Sweep digits: 25 models, all from the cache, 0.1 s>
    """
    spec = FAMILIES[check_choice(family, "family", tuple(FAMILIES))]
    start, base = time.perf_counter(), {}
    settings = {k: v for k, v in spec.items() if k != "recipes"}
    models, built = {}, []
    jobs = [(w, t) for w in spec["recipes"] for t in TECHNIQUES] + [(None, "int8")]
    for width, technique in jobs:
        recipe = spec["recipes"][width if width is not None else max(spec["recipes"])]
        name = _variant_name(width, technique)
        key = {"recipe": recipe.key(), "technique": technique, "student": width is None,
               **settings}
        models[name], cached = zoo.artifact(f"tradeoffs-{family}-{name.replace(' ', '-')}",
                                            key, functools.partial(_make, family, width, technique, base))
        if not cached:
            built.append(name)
    macs_bytes, cached = zoo.artifact(f"tradeoffs-{family}-macs", {"models": sorted(models),
                                      **settings, "recipes": [r.key() for r in spec["recipes"].values()]},
                                      lambda: json.dumps(_macs(family)).encode())
    per_width = json.loads(macs_bytes)
    macs = {name: per_width[name.split()[0]] for name in models}
    return Sweep(family, models, macs, not built and cached, time.perf_counter() - start, built)


def _macs(family: str) -> dict[str, int]:
    from labkit.models import build_course_cnn, build_signal_cnn, count_macs

    spec, data = FAMILIES[family], _data(family)
    build = build_course_cnn if family == "digits" else build_signal_cnn
    shape = data.x_train.shape[1:]
    out = {f"w{w}": count_macs(build(shape, data.num_classes, **r.builder_kwargs))
           for w, r in spec["recipes"].items()}
    out["student"] = count_macs(build(shape, data.num_classes, **spec["student"]))
    return out


_BUILD_KEY = {"families": sorted(FAMILIES), "techniques": TECHNIQUES}


def warm_cache() -> dict[str, Sweep]:
    """Build (or load) everything notebook 05 needs: both families' sweeps. When anything
    was built, the time it took is recorded once (see :func:`cold_build_seconds`).

    Example
    -------
    >>> sorted(warm_cache())  # doctest: +SKIP
    ['digits', 'signal']
    """
    sweeps = {family: build_sweep(family) for family in FAMILIES}
    if any(s.built for s in sweeps.values()):
        seconds = sum(s.seconds for s in sweeps.values())
        zoo.artifact("tradeoffs-build-time", _BUILD_KEY, lambda: json.dumps(seconds).encode())
    return sweeps


def cold_build_seconds() -> float | None:
    """Seconds the first build of this cache's sweep took, or None if it was not recorded.

    Example
    -------
    >>> cold_build_seconds()  # doctest: +SKIP
    135.2
    """
    def missing() -> bytes:
        raise LookupError

    try:
        return float(json.loads(zoo.artifact("tradeoffs-build-time", _BUILD_KEY, missing)[0]))
    except LookupError:
        return None


# --------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------

def arena(model_bytes: bytes) -> int | None:
    """TFLite Micro's tensor arena for the model in bytes, or None when it cannot run it.

    Example
    -------
    >>> arena(build_sweep().models["w16 float16"]) is None  # doctest: +SKIP
    True
    """
    try:
        return runtime.arena_bytes(model_bytes)
    except runtime.MicroError:
        return None


def measure(sweep: Sweep, x_test: Any, y_test: Any, *, runs: int = 100,
            rounds: int = 3) -> tuple[dict[str, bench.Variant], list[dict[str, Any]]]:
    """Measure every model of ``sweep``: the :class:`labkit.bench.Variant` records, and the
    same as plain dicts (``name``, ``size_bytes``, ``gzip_bytes``, ``latency_ms``, ``p10_ms``,
    ``p90_ms``, ``accuracy``, ``low``, ``high``, ``macs``, ``arena_bytes``) for
    :func:`select_model` and the plots.

    Example
    -------
    >>> variants, rows = measure(build_sweep(), x_test, y_test)  # doctest: +SKIP
    >>> select_model(rows, max_latency_ms=0.1)  # doctest: +SKIP
    'w8 prune50'
    """
    variants = bench.measure_variants(sweep.models, x_test, y_test, macs=sweep.macs, runs=runs,
                                      rounds=rounds, micro=False)
    rows = []
    for name, v in variants.items():
        rows.append({"name": name, "size_bytes": v.size_bytes, "gzip_bytes": v.gzip_bytes,
                     "latency_ms": v.latency_ms, "p10_ms": v.latency.p10_ms if v.latency else None,
                     "p90_ms": v.latency.p90_ms if v.latency else None,
                     "accuracy": v.accuracy.value, "low": v.accuracy.low, "high": v.accuracy.high,
                     "macs": v.macs, "arena_bytes": arena(sweep.models[name])})
        v.micro = rows[-1]["arena_bytes"] is not None
    return variants, rows


def throughput(model_bytes: bytes, *, batch: int, threads: int, runs: int = 20) -> dict[str, float]:
    """Median time of one ``invoke()`` on a batch of ``batch`` samples with ``threads``
    threads (LiteRT), and the samples per second it gives.

    Example
    -------
    >>> throughput(model_bytes, batch=16, threads=1)  # doctest: +SKIP
    {'batch': 16, 'threads': 1, 'batch_ms': 1.02, 'samples_per_s': 15686.3}
    """
    from labkit.runtime.backend import time_invocations
    from labkit.runtime.tensors import random_input

    batch, threads = check_int(batch, "batch", low=1), check_int(threads, "threads", low=1)
    handle = runtime.LiteRT().load(model_bytes, threads=threads)
    handle.resize(batch)
    handle.interpreter.set_tensor(handle.input["index"],
                                  random_input(handle.input, np.random.default_rng(0)))
    stats = time_invocations(handle.interpreter.invoke, threads=threads, warmup=3, runs=runs)
    return {"batch": batch, "threads": threads, "batch_ms": stats.median_ms,
            "samples_per_s": 1000 * batch / stats.median_ms}


def throughput_grid(model_bytes: bytes, batches: Sequence[int], threads: Sequence[int], *,
                    runs: int = 20) -> list[dict[str, float]]:
    """:func:`throughput` for every batch size and thread count.

    Example
    -------
    >>> len(throughput_grid(model_bytes, [1, 4], [1, 2]))  # doctest: +SKIP
    4
    """
    return [throughput(model_bytes, batch=b, threads=t, runs=runs) for t in threads for b in batches]


# --------------------------------------------------------------------------------------
# Verdicts and plots
# --------------------------------------------------------------------------------------

def accuracy_claim(comparison: Any, low_points: float, high_points: float) -> str:
    """The verdict on "costs ``low_points``–``high_points`` points of accuracy" for
    ``comparison`` (a :class:`labkit.stats.Comparison`, compressed − original), decided by its
    interval through :func:`labkit.stats.verdict`: "holds" (the loss is inside the range),
    "holds with caveat" (it costs less than claimed), "does not hold here" (more), or
    "indistinguishable on N test samples" (the interval straddles an end of the range).

    Example
    -------
    >>> import numpy as np
    >>> same = stats.compare(np.ones(5000, bool), np.ones(5000, bool))
    >>> accuracy_claim(same, 1, 5)
    'holds with caveat'
    """
    if not isinstance(comparison, stats.Comparison):
        raise TypeError(f"comparison must be a labkit.stats.Comparison (from stats.compare), got "
                        f"{type(comparison).__name__}")
    low = check_real(low_points, "low_points", low=0, high=100)
    high = check_real(high_points, "high_points", low=low, high=100)
    under_high = stats.verdict(comparison, above=-high / 100)  # loses less than `high`
    under_low = stats.verdict(comparison, above=-low / 100) if low > 0 else "holds"
    for v in (under_high, under_low):
        if v.startswith("indistinguishable"):
            return v
    if under_high == "does not hold":
        return "does not hold here"
    return "holds with caveat" if under_low == "holds" else "holds"


def speed_claim(speedups: Sequence[float], low: float, high: float) -> str:
    """The verdict on "``low``–``high``× faster" from one measured speed-up per model:
    "holds" when every one is within the range, "holds with caveat" when some are (or all
    are faster than claimed), "does not hold here" when none reaches ``low``.

    Example
    -------
    >>> speed_claim([3.2, 3.9], 3, 4), speed_claim([1.7, 3.3], 3, 4), speed_claim([1.1], 3, 4)
    ('holds', 'holds with caveat', 'does not hold here')
    """
    values = check_array(speedups, "speedups", ndim=1)
    verdicts = [claim_verdict(float(s), low, high) for s in values]
    if all(v == "within" for v in verdicts):
        return "holds"
    if all(v == "worse" for v in verdicts):
        return "does not hold here"
    return "holds with caveat"


_MARKERS = dict(zip(TECHNIQUES, "osDv^<>P"))


def _label(ax: Any, points: list[tuple[float, float, str]]) -> None:
    """Name each point (identical points share one label), moving a label to the first of
    a few offsets where it overlaps no label placed before it."""
    merged: dict[tuple[float, float], list[str]] = {}
    for px, py, name in points:
        merged.setdefault((px, py), []).append(name)
    ax.autoscale_view()
    placed: list[tuple[float, float, float, float]] = []
    for (px, py), names in merged.items():
        text = " / ".join(names)
        w, h = 4.2 * len(text), 9.0  # points, at fontsize 7
        cx, cy = ax.transData.transform((px, py)) * 72 / ax.figure.dpi
        for dx, dy in ((6, 5), (6, -14), (-6 - w, 5), (-6 - w, -14), (6, 17), (6, -26)):
            box = (cx + dx, cy + dy, cx + dx + w, cy + dy + h)
            if not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3]
                       for b in placed):
                break
        placed.append(box)
        ax.annotate(text, (px, py), textcoords="offset points", xytext=(dx, dy), fontsize=7)


def plot_front(ax: Any, rows: Sequence[Mapping[str, Any]], cost: str, *, unit: str,
               feasible: Sequence[str] | None = None, chosen: str | None = None) -> list[str]:
    """Accuracy (with its interval) against ``cost`` (``"size_bytes"`` or ``"latency_ms"``,
    log axis) for every row: colour by width, marker by technique, the Pareto front as a
    line with its points named (labels staggered so they do not overlap); points outside
    ``feasible`` are faded and ``chosen`` is ringed. Returns the front's names.

    Example
    -------
    >>> fig, ax = plt.subplots()  # doctest: +SKIP
    >>> plot_front(ax, rows, "size_bytes", unit="KB")  # doctest: +SKIP
    ['student int8', 'w4 prune50', 'w8 prune50']
    """
    import matplotlib.pyplot as plt

    x = np.array([r[cost] for r in rows], float) / (1000 if cost == "size_bytes" else 1)
    y = 100 * np.array([r["accuracy"] for r in rows])
    err = 100 * np.array([[r["accuracy"] - r["low"], r["high"] - r["accuracy"]] for r in rows]).T
    widths = sorted({r["name"].split()[0] for r in rows})
    colors = dict(zip(widths, plt.get_cmap("tab10").colors))
    for i, r in enumerate(rows):
        group, tech = r["name"].split()
        faded = feasible is not None and r["name"] not in feasible
        ax.errorbar(x[i], y[i], yerr=err[:, i : i + 1], fmt=_MARKERS.get(tech, "*"),
                    color=colors[group], alpha=0.25 if faded else 0.9, ms=7, capsize=2, lw=0.8)
    front = pareto_front(x, y)
    ax.plot(x[front], y[front], "k--", lw=1, label="Pareto front")
    ax.set_xscale("log")
    _label(ax, [(x[i], y[i], rows[i]["name"]) for i in front])
    if chosen is not None:
        i = [r["name"] for r in rows].index(chosen)
        ax.plot(x[i], y[i], "o", ms=16, mfc="none", mec="red", mew=2, label=f"chosen: {chosen}")
    for g in widths:
        ax.plot([], [], "o", color=colors[g], label=g)
    for tech, m in _MARKERS.items():
        ax.plot([], [], m, color="grey", label=tech)
    ax.set(xlabel=f"{'file size' if cost == 'size_bytes' else 'median latency, 1 thread'} "
                  f"({unit}, log scale)", ylabel="test accuracy (%, 95 % interval)")
    return [rows[i]["name"] for i in front]
