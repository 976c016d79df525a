"""Lab 06's exercises: the references score full marks, each typical mistake loses points on
every one of 50 seeds (fixed edge cases in every test separate the mistakes)."""

from __future__ import annotations

import pytest
from conftest import SEEDS, assert_caught, assert_full_marks, assert_stub_not_attempted, unguarded

from labkit import hardware as hw
from labkit.grading.core import run_exercise
from labkit.grading.registry import get_exercise, lab_exercises


def _score(exercise_id, fn, seed):
    return run_exercise(get_exercise(exercise_id), [fn], seed=seed)


def test_lab06_registers_the_five_exercises():
    assert [e.id for e in lab_exercises("06")] == [
        "06.conv2d_macs", "06.dense_macs", "06.arithmetic_intensity", "06.roofline_latency_s",
        "06.select_hardware"]


@pytest.mark.parametrize("exercise", lab_exercises("06"), ids=lambda e: e.id)
def test_reference_scores_full_marks(exercise):
    assert_full_marks(exercise.id, unguarded(exercise.reference))


@pytest.mark.parametrize("exercise", lab_exercises("06"), ids=lambda e: e.id)
def test_stub_is_not_attempted(exercise):
    assert_stub_not_attempted(exercise.id)


def test_references_take_and_return_plain_data():
    catalog = hw.load_catalog().records()
    req = {"macs": 10**6, "model_bytes": 10**4, "precision": "int8", "efficiency": 0.5,
           "max_latency_s": 0.1, "max_power_w": 5.0}
    ids = hw.select_hardware(req, catalog)
    assert isinstance(ids, list) and all(isinstance(i, str) for i in ids)
    assert type(hw.conv2d_macs(1, 2, 3, 3, 4, 5)) is int
    assert type(hw.roofline_latency_s(1, 2, 3.0, 4.0)) is float


# --------------------------------------------------------------------------------------
# The typical mistakes, and a few more
# --------------------------------------------------------------------------------------

CONV_MISTAKES = {
    "square-kernel": lambda h, w, kh, kw, ci, co: h * w * kh * kh * ci * co,
    "no-c_in": lambda h, w, kh, kw, ci, co: h * w * kh * kw * co,
    "no-kernel": lambda h, w, kh, kw, ci, co: h * w * ci * co,
    "bias-as-mac": lambda h, w, kh, kw, ci, co: h * w * co * (kh * kw * ci + 1),
    "flops": lambda h, w, kh, kw, ci, co: 2 * h * w * kh * kw * ci * co,
    "input-size": lambda h, w, kh, kw, ci, co: (h + kh - 1) * (w + kw - 1) * kh * kw * ci * co,
    "float": lambda h, w, kh, kw, ci, co: float(h * w * kh * kw * ci * co),
}


@pytest.mark.parametrize("name", CONV_MISTAKES)
def test_conv2d_mistakes_are_caught(name):
    assert_caught("06.conv2d_macs", CONV_MISTAKES[name])


@pytest.mark.parametrize("wrong", [lambda a, b: a * b + b, lambda a, b: 2 * a * b,
                                   lambda a, b: a + b], ids=["bias", "flops", "sum"])
def test_dense_mistakes_are_caught(wrong):
    assert_caught("06.dense_macs", wrong)


@pytest.mark.parametrize("wrong", [
    lambda macs, b: macs / b,              # 1 op per MAC
    lambda macs, b: b / (2 * macs) if macs else 0.0,  # inverted
    lambda macs, b: 2 * macs / (8 * b),    # bits, not bytes
], ids=["one-op-per-mac", "inverted", "bits"])
def test_arithmetic_intensity_mistakes_are_caught(wrong):
    assert_caught("06.arithmetic_intensity", wrong)


ROOF_MISTAKES = {
    "forgets-memory-roof": lambda m, b, p, bw: 2 * m / p,
    "one-op-per-mac": lambda m, b, p, bw: max(m / p, b / bw),
    "sum-not-max": lambda m, b, p, bw: 2 * m / p + b / bw,
    "min-not-max": lambda m, b, p, bw: min(2 * m / p, b / bw),
    "memory-only": lambda m, b, p, bw: b / bw,
}


@pytest.mark.parametrize("name", ROOF_MISTAKES)
def test_roofline_mistakes_are_caught(name):
    assert_caught("06.roofline_latency_s", ROOF_MISTAKES[name])


def _select(req, catalog, *, ops_per_mac=2, use_efficiency=True, none_passes=False,
            rank="energy", check_precision=True, check_price=True):
    """A configurable select_hardware: each keyword reproduces one typical mistake."""
    def ok(value, limit, smaller=True):
        if value is None:
            return none_passes
        return value <= limit if smaller else value >= limit

    scored = []
    for d in catalog:
        if check_precision and req["precision"] not in (d.get("precisions") or ()):
            continue
        memory = d["memory_bytes"]
        if (memory is None and not none_passes) or (memory is not None
                                                     and req["model_bytes"] > memory):
            continue
        peak = d["int8_ops_per_s"] if req["precision"] == "int8" else d["float_ops_per_s"]
        if peak is None:
            if not none_passes:
                continue
            latency = 0.0
        else:
            latency = ops_per_mac * req["macs"] / (peak * (req["efficiency"] if use_efficiency
                                                          else 1.0))
        if latency > req["max_latency_s"]:
            continue
        if not ok(d["power_w"], req["max_power_w"]):
            continue
        if check_price and req.get("max_price_usd") is not None \
                and not ok(d["price_usd"], req["max_price_usd"]):
            continue
        power = d["power_w"] or 0.0
        key = {"energy": power * latency, "latency": latency, "power": power}[rank]
        scored.append((key, d["id"]))
    return [i for _, i in sorted(scored)]


def test_select_config_without_mistakes_is_right():
    for seed in SEEDS:
        assert _score("06.select_hardware", _select, seed).score == 4


@pytest.mark.parametrize("mistake", [
    {"ops_per_mac": 1}, {"use_efficiency": False}, {"none_passes": True}, {"rank": "latency"},
    {"rank": "power"}, {"check_precision": False}, {"check_price": False},
], ids=["one-op-per-mac", "no-efficiency", "unknown-passes", "by-latency", "by-power",
        "no-precision", "no-price"])
def test_select_mistakes_are_caught(mistake):
    assert_caught("06.select_hardware", lambda req, catalog: _select(req, catalog, **mistake))


def test_select_tuple_result_is_accepted():
    for seed in range(3):
        result = _score("06.select_hardware", lambda req, cat, _ref=hw.select_hardware:
                        tuple(_ref(req, cat)), seed)
        assert result.score == result.max_score
