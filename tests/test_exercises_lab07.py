"""Lab 07's exercises: the references score full marks, each typical mistake loses points on
every one of 50 seeds (fixed edge cases in every test separate the mistakes)."""

from __future__ import annotations

import pytest
from conftest import SEEDS, assert_caught, assert_full_marks, assert_stub_not_attempted, unguarded

from labkit.grading.core import run_exercise
from labkit.grading.registry import get_exercise, lab_exercises


def test_lab07_registers_the_five_exercises():
    assert [e.id for e in lab_exercises("07")] == [
        "07.energy_per_inference_mj", "07.average_power_mw", "07.battery_life_hours",
        "07.dvfs_power_w", "07.max_rate_hz"]


@pytest.mark.parametrize("exercise", lab_exercises("07"), ids=lambda e: e.id)
def test_reference_scores_full_marks(exercise):
    assert_full_marks(exercise.id, unguarded(exercise.reference))


@pytest.mark.parametrize("exercise", lab_exercises("07"), ids=lambda e: e.id)
def test_stub_is_not_attempted(exercise):
    assert_stub_not_attempted(exercise.id)


@pytest.mark.parametrize("wrong", [
    lambda p, t: p * t,                # joules, not millijoules
    lambda p, t: p * t * 1e6,          # microjoules
    lambda p, t: 1000 * p / t,         # power / time
], ids=["joules", "microjoules", "divides"])
def test_energy_mistakes_are_caught(wrong):
    assert_caught("07.energy_per_inference_mj", wrong)


@pytest.mark.parametrize("wrong", [
    lambda a, ta, s, p: a * ta / p,                        # forgets the sleep power
    lambda a, ta, s, p: (a * ta + s * p) / p,              # sleeps for the whole period too
    lambda a, ta, s, p: (a + s) / 2,                       # plain mean of the two powers
    lambda a, ta, s, p: a * ta + s * (p - ta),             # energy, not power
], ids=["forgets-sleep", "sleep-whole-period", "mean", "energy"])
def test_average_power_mistakes_are_caught(wrong):
    assert_caught("07.average_power_mw", wrong)


BATTERY_MISTAKES = {
    "ah-times-v-over-mw": lambda c, v, p, e=1.0: (c / 1000) * v * e / p,      # Wh / mW
    "mwh-over-w": lambda c, v, p, e=1.0: c * v * e / (p * 1000),              # mWh / W
    "no-voltage": lambda c, v, p, e=1.0: c * e / p,                           # mAh / mW
    "no-efficiency": lambda c, v, p, e=1.0: c * v / p,
    "divides-by-efficiency": lambda c, v, p, e=1.0: c * v / (p * e),
    "seconds": lambda c, v, p, e=1.0: 3600 * c * v * e / p,
    "no-default": lambda c, v, p, e: c * v * e / p,
}


@pytest.mark.parametrize("name", BATTERY_MISTAKES)
def test_battery_mistakes_are_caught(name):
    assert_caught("07.battery_life_hours", BATTERY_MISTAKES[name])


@pytest.mark.parametrize("wrong", [
    lambda p, fr, vr, f, v: p * (f / fr) * (v / vr),          # V instead of V²
    lambda p, fr, vr, f, v: p * (v / vr) ** 2,                # ignores the frequency
    lambda p, fr, vr, f, v: p * (f / fr),                     # ignores the voltage
    lambda p, fr, vr, f, v: p * (f / fr) * (v / vr) ** 3,     # V³ (f ∝ V folded in twice)
    lambda p, fr, vr, f, v: p * (fr / f) * (v / vr) ** 2,     # inverted frequency ratio
], ids=["V-not-V2", "no-f", "no-V", "V3", "inverted-f"])
def test_dvfs_mistakes_are_caught(wrong):
    assert_caught("07.dvfs_power_w", wrong)


def _rate(c, v, hours, a, ta, s, e=1.0, *, sleep=True, clip=True, use_e=True, use_v=True):
    budget = c * (v if use_v else 1.0) * (e if use_e else 1.0) / hours
    s_used = s if sleep else 0.0
    r = (budget - s_used) / (ta * (a - s_used)) if a > s_used else 1 / ta
    return min(max(r, 0.0), 1 / ta) if clip else r


def test_rate_config_without_mistakes_is_right():
    for seed in SEEDS:
        result = run_exercise(get_exercise("07.max_rate_hz"), [_rate], seed=seed)
        assert result.score == result.max_score, result.message


@pytest.mark.parametrize("mistake", [{"sleep": False}, {"clip": False}, {"use_e": False},
                                     {"use_v": False}],
                         ids=["forgets-sleep", "no-clip", "no-efficiency", "no-voltage"])
def test_rate_mistakes_are_caught(mistake):
    assert_caught("07.max_rate_hz", lambda *args: _rate(*args, **mistake))
