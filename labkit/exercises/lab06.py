"""Exercises of notebook 06_hardware_accelerators: count the work, place it on a roofline, choose.

References live in :mod:`labkit.hardware`. Every input and output is plain data (ints,
floats, strings, lists and dicts of them), so the grader can call the student's function in
a sandbox. Each test starts with fixed cases that separate the typical mistakes — a square
kernel assumed, the bias counted as a MAC, one operation per MAC, the memory roof
forgotten, an unknown figure taken as a pass — and goes on with random inputs.
"""

from __future__ import annotations

import copy
from typing import Any

from labkit import hardware as hw
from labkit.grading.compare import Mismatch, fmt
from labkit.grading.core import Exercise, Test, TestContext

# --------------------------------------------------------------------------------------
# 06.conv2d_macs and 06.dense_macs
# --------------------------------------------------------------------------------------

_CONV_HINT = ("Each of the h_out × w_out × c_out outputs is a dot product over a k_h × k_w × c_in "
              "window: multiply all six numbers (no bias, no factor 2).")


def _expect_conv(ctx: TestContext, args: tuple[int, ...], hint: str = _CONV_HINT) -> None:
    ctx.expect_equal(ctx.student(*args), ctx.reference(*args),
                     what=f"conv2d_macs{fmt(args)}", hint=hint)


def _conv_fixed(ctx: TestContext) -> None:
    _expect_conv(ctx, (1, 1, 1, 1, 1, 1), "One output, one weight: one MAC.")
    _expect_conv(ctx, (4, 6, 3, 1, 2, 5), "k_h and k_w differ here (3×1 kernel): use both.")
    _expect_conv(ctx, (7, 5, 1, 3, 3, 2), "k_h and k_w differ here (1×3 kernel): use both.")
    _expect_conv(ctx, (32, 32, 3, 3, 16, 32), _CONV_HINT)


def _conv_random(ctx: TestContext) -> None:
    for _ in range(20):
        args = (int(ctx.rng.integers(1, 65)), int(ctx.rng.integers(1, 65)),
                int(ctx.rng.integers(1, 8)), int(ctx.rng.integers(1, 8)),
                int(ctx.rng.integers(1, 257)), int(ctx.rng.integers(1, 257)))
        _expect_conv(ctx, args)


def _dense_fixed(ctx: TestContext) -> None:
    hint = "A dense layer multiplies each of n_in inputs by a weight for each of n_out outputs."
    for args in ((1, 1), (3, 7), (4096, 10)):
        ctx.expect_equal(ctx.student(*args), ctx.reference(*args),
                         what=f"dense_macs{fmt(args)}", hint=hint + " The bias adds, it does "
                         "not multiply-accumulate.")
    for _ in range(10):
        args = (int(ctx.rng.integers(1, 5000)), int(ctx.rng.integers(1, 5000)))
        ctx.expect_equal(ctx.student(*args), ctx.reference(*args),
                         what=f"dense_macs{fmt(args)}", hint=hint)


# --------------------------------------------------------------------------------------
# 06.arithmetic_intensity
# --------------------------------------------------------------------------------------

_AI_HINT = ("Operations per byte: a MAC is two operations (a multiply and an add), so "
            "intensity = 2 · macs / bytes_moved.")


def _expect_ai(ctx: TestContext, macs: float, nbytes: float) -> None:
    ctx.expect_close(ctx.student(macs, nbytes), ctx.reference(macs, nbytes), rtol=1e-9,
                     what=f"arithmetic_intensity({fmt(macs)}, {fmt(nbytes)})", hint=_AI_HINT)


def _ai_fixed(ctx: TestContext) -> None:
    for macs, nbytes in ((1000, 500), (4_718_592, 215_168), (0, 100), (1, 8)):
        _expect_ai(ctx, macs, nbytes)


def _ai_random(ctx: TestContext) -> None:
    for _ in range(15):
        _expect_ai(ctx, int(ctx.rng.integers(1, 10**9)), int(ctx.rng.integers(1, 10**8)))


# --------------------------------------------------------------------------------------
# 06.roofline_latency_s
# --------------------------------------------------------------------------------------

def _expect_roof(ctx: TestContext, args: tuple[float, ...], hint: str) -> None:
    what = "roofline_latency_s(macs={}, bytes_moved={}, peak_ops_per_s={}, " \
           "bandwidth_bytes_per_s={})".format(*(fmt(float(a)) for a in args))
    ctx.expect_close(ctx.student(*args), ctx.reference(*args), rtol=1e-9, atol=0, what=what,
                     hint=hint)


def _roof_compute_bound(ctx: TestContext) -> None:
    hint = ("This layer is compute-bound: its time is 2 · macs / peak_ops_per_s (two operations "
            "per MAC).")
    _expect_roof(ctx, (1e9, 1e3, 1e12, 1e10), hint)  # 2 ms of compute, 0.1 µs of traffic
    for _ in range(5):
        macs = float(ctx.rng.uniform(1e8, 1e10))
        peak = float(ctx.rng.uniform(1e11, 1e13))
        bandwidth = float(ctx.rng.uniform(1e9, 1e11))
        nbytes = 0.1 * bandwidth * macs / peak  # far below the memory roof
        _expect_roof(ctx, (macs, nbytes, peak, bandwidth), hint)


def _roof_memory_bound(ctx: TestContext) -> None:
    hint = ("This layer is memory-bound: moving its bytes takes longer than computing, so its "
            "time is bytes_moved / bandwidth — the slower of the two roofs decides (max).")
    _expect_roof(ctx, (1e3, 1e8, 1e12, 1e10), hint)  # 10 ms of traffic
    _expect_roof(ctx, (0, 4096, 1e12, 1e9), hint)  # a copy: no MACs at all
    for _ in range(5):
        macs = float(ctx.rng.uniform(1e3, 1e6))
        peak = float(ctx.rng.uniform(1e11, 1e13))
        bandwidth = float(ctx.rng.uniform(1e9, 1e11))
        nbytes = 10 * bandwidth * 2 * macs / peak  # 10x above the compute time
        _expect_roof(ctx, (macs, nbytes, peak, bandwidth), hint)


def _roof_random(ctx: TestContext) -> None:
    hint = "time = max(2 · macs / peak_ops_per_s, bytes_moved / bandwidth_bytes_per_s)."
    for _ in range(15):
        args = tuple(float(10 ** ctx.rng.uniform(lo, hi))
                     for lo, hi in ((3, 10), (3, 9), (8, 14), (8, 12)))
        _expect_roof(ctx, args, hint)


# --------------------------------------------------------------------------------------
# 06.select_hardware
# --------------------------------------------------------------------------------------

def _device(device_id: str, **figures: Any) -> dict[str, Any]:
    record = {"id": device_id, "name": device_id, "kind": "npu", "int8_ops_per_s": 1e12,
              "float_ops_per_s": None, "memory_bytes": 10**7, "power_w": 2.0,
              "price_usd": 100.0, "precisions": ["int8"]}
    record.update(figures)
    return record


def _requirements(**changes: Any) -> dict[str, Any]:
    req = {"macs": 10**7, "model_bytes": 10**6, "precision": "int8", "efficiency": 0.5,
           "max_latency_s": 1e-3, "max_power_w": 5.0, "max_price_usd": None}
    req.update(changes)
    return req


def _expect_ids(ctx: TestContext, req: dict[str, Any], catalog: list[dict[str, Any]],
                hint: str) -> None:
    got = ctx.student(copy.deepcopy(req), copy.deepcopy(catalog))
    expected = ctx.reference(req, catalog)
    what = f"select_hardware on {len(catalog)} devices"
    if got is None:
        raise Mismatch("type", f"{what} returned None; expected a list of ids — did you forget "
                       "`return`?", hint)
    if not isinstance(got, (list, tuple)) or not all(isinstance(i, str) for i in got):
        raise Mismatch("type", f"{what} returned {type(got).__name__}; expected a list of device "
                       "id strings", "Return [device['id'] for ...] in ranked order.")
    if list(got) != expected:
        raise Mismatch("values", f"{what} returned {fmt(list(got))}; expected {fmt(expected)}",
                       hint)


def _select_each_rule(ctx: TestContext) -> None:
    """One device fails each rule; the rest are feasible and rank by energy."""
    catalog = [
        _device("fast_hot", int8_ops_per_s=1e13, power_w=4.0),      # 4 µs × 4 W  = 16 µJ
        _device("slow_cool", int8_ops_per_s=1e11, power_w=0.05),    # 400 µs × 0.05 W = 20 µJ
        _device("middle", int8_ops_per_s=1e12, power_w=1.0),        # 40 µs × 1 W = 40 µJ
        _device("float_only", precisions=["float16"], float_ops_per_s=1e13),
        _device("small_memory", memory_bytes=10**5),
        _device("too_slow", int8_ops_per_s=1e10, power_w=0.01),     # 4 ms > 1 ms
        _device("too_hungry", power_w=50.0),
        _device("unknown_power", power_w=None),
        _device("unknown_memory", memory_bytes=None),
        _device("unknown_peak", int8_ops_per_s=None),
    ]
    _expect_ids(ctx, _requirements(), catalog,
                "Apply all five rules of the notebook; an unknown figure (None) never passes; "
                "rank by energy per inference = power_w × latency (lowest first).")
    _expect_ids(ctx, _requirements(max_price_usd=150.0), catalog + [
        _device("pricey", price_usd=500.0), _device("unknown_price", price_usd=None)],
        "With max_price_usd set, drop devices above it and devices whose price is unknown.")


def _select_latency(ctx: TestContext) -> None:
    hint = ("latency = 2 · macs / (peak · efficiency): two operations per MAC, and the device "
            "reaches only `efficiency` of its peak.")
    catalog = [_device("a", int8_ops_per_s=3e10, power_w=0.1),    # 2e7/(3e10·0.5) = 1.33 ms
               _device("b", int8_ops_per_s=5e10, power_w=0.1),    # 0.8 ms
               _device("c", int8_ops_per_s=1.5e10, power_w=0.1)]  # 2.67 ms
    _expect_ids(ctx, _requirements(), catalog, hint)
    _expect_ids(ctx, _requirements(precision="float16"), [
        _device("f1", precisions=["float16", "int8"], float_ops_per_s=1e12, int8_ops_per_s=4e10),
        _device("f2", precisions=["int8"], int8_ops_per_s=1e13)],
        "For a float precision use float_ops_per_s, and the precision must be in the device's "
        "precisions.")


def _select_random(ctx: TestContext) -> None:
    hint = "Filter with the five rules, then sort by power_w × latency (ties by id)."

    def maybe(value: Any) -> Any:  # about one figure in seven is unknown
        return None if ctx.rng.random() < 0.15 else value

    for _ in range(5):
        catalog = []
        for i in range(12):
            catalog.append(_device(
                f"dev{i:02d}", int8_ops_per_s=maybe(float(10 ** ctx.rng.uniform(9, 14))),
                float_ops_per_s=maybe(float(10 ** ctx.rng.uniform(9, 13))),
                memory_bytes=maybe(int(10 ** ctx.rng.uniform(5, 9))),
                power_w=maybe(float(10 ** ctx.rng.uniform(-2, 1.5))),
                price_usd=maybe(float(ctx.rng.uniform(5, 500))),
                precisions=[p for p in ("int8", "float16", "float32") if ctx.rng.random() < 0.7]))
        req = _requirements(macs=int(10 ** ctx.rng.uniform(5, 9)),
                            model_bytes=int(10 ** ctx.rng.uniform(4, 7)),
                            precision=str(ctx.rng.choice(["int8", "float16", "float32"])),
                            efficiency=float(ctx.rng.uniform(0.1, 1.0)),
                            max_latency_s=float(10 ** ctx.rng.uniform(-4, -1)),
                            max_power_w=float(10 ** ctx.rng.uniform(-1, 1.3)),
                            max_price_usd=(None if ctx.rng.random() < 0.5
                                           else float(ctx.rng.uniform(50, 400))))
        _expect_ids(ctx, req, catalog, hint)


# --------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------

EXERCISES = (
    Exercise(
        id="06.conv2d_macs",
        title="Multiply-accumulates of a convolution",
        name="conv2d_macs",
        reference=hw.conv2d_macs,
        tests=(Test("fixed shapes, square and non-square kernels", 1, _conv_fixed),
               Test("random shapes", 1, _conv_random)),
        hint=_CONV_HINT,
    ),
    Exercise(
        id="06.dense_macs",
        title="Multiply-accumulates of a dense layer",
        name="dense_macs",
        reference=hw.dense_macs,
        tests=(Test("fixed and random sizes", 1, _dense_fixed),),
        hint="n_in × n_out.",
    ),
    Exercise(
        id="06.arithmetic_intensity",
        title="Arithmetic intensity in operations per byte",
        name="arithmetic_intensity",
        reference=hw.arithmetic_intensity,
        tests=(Test("fixed cases", 1, _ai_fixed), Test("random layers", 1, _ai_random)),
        hint=_AI_HINT,
    ),
    Exercise(
        id="06.roofline_latency_s",
        title="Roofline latency of a layer",
        name="roofline_latency_s",
        reference=hw.roofline_latency_s,
        tests=(Test("compute-bound layers", 1, _roof_compute_bound),
               Test("memory-bound layers", 1, _roof_memory_bound),
               Test("random layers and devices", 1, _roof_random)),
        hint="max(compute time, memory time), with 2 operations per MAC.",
    ),
    Exercise(
        id="06.select_hardware",
        title="Feasible devices, ranked by energy per inference",
        name="select_hardware",
        reference=hw.select_hardware,
        tests=(Test("each rule, and unknown figures", 2, _select_each_rule),
               Test("latency from peak and efficiency", 1, _select_latency),
               Test("random catalogs", 1, _select_random)),
        hint="Filter with the notebook's five rules (None never passes), rank by power × latency.",
    ),
)
