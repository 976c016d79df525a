"""Exercises of notebook 07_power_and_energy: energy, duty cycles, batteries, DVFS, a rate budget.

References live in :mod:`labkit.power`; inputs and outputs are plain numbers. Each test
starts with fixed cases that separate the typical mistakes — watts vs milliwatts, mAh × V
without unit care (or without the voltage), the sleep power forgotten, V instead of V² —
and goes on with random inputs.
"""

from __future__ import annotations

from labkit import power as pw
from labkit.grading.compare import fmt
from labkit.grading.core import Exercise, Test, TestContext


def _expect(ctx: TestContext, name: str, args: tuple[float, ...], hint: str,
            rtol: float = 1e-6) -> None:
    what = f"{name}({', '.join(fmt(float(a)) for a in args)})"
    ctx.expect_close(ctx.student(*args), ctx.reference(*args), rtol=rtol, atol=1e-12, what=what,
                     hint=hint)


def _log_uniform(ctx: TestContext, lo: float, hi: float) -> float:
    return float(10 ** ctx.rng.uniform(lo, hi))


# --------------------------------------------------------------------------------------
# 07.energy_per_inference_mj
# --------------------------------------------------------------------------------------

_E_HINT = ("Energy = power × time: watts × seconds are joules, and 1 J = 1000 mJ, so "
           "energy_mj = 1000 · power_w · latency_s.")


def _energy_cases(ctx: TestContext) -> None:
    for args in ((1.0, 1.0), (2.0, 0.004), (0.0099, 0.25), (0.0, 1.0)):
        _expect(ctx, "energy_per_inference_mj", args, _E_HINT)
    for _ in range(10):
        _expect(ctx, "energy_per_inference_mj", (_log_uniform(ctx, -3, 1.5),
                                                 _log_uniform(ctx, -5, 0)), _E_HINT)


# --------------------------------------------------------------------------------------
# 07.average_power_mw
# --------------------------------------------------------------------------------------

_AVG_HINT = ("Weight each power by the time spent in it: (active_mw · active_s + sleep_mw · "
             "(period_s − active_s)) / period_s. Sleep lasts the rest of the period, not all of it.")


def _avg_fixed(ctx: TestContext) -> None:
    _expect(ctx, "average_power_mw", (10.0, 0.1, 0.01, 1.0), _AVG_HINT)
    _expect(ctx, "average_power_mw", (9.9, 0.001, 0.0045, 60.0),
            "At a low rate the sleep power dominates the average: do not leave it out.")
    _expect(ctx, "average_power_mw", (5.0, 2.0, 1.0, 2.0),
            "Active for the whole period: the average is the active power.")
    _expect(ctx, "average_power_mw", (100.0, 0.5, 20.0, 1.0), _AVG_HINT)


def _avg_random(ctx: TestContext) -> None:
    for _ in range(15):
        period = _log_uniform(ctx, -2, 3)
        active_s = float(ctx.rng.uniform(0.0, 1.0)) * period
        _expect(ctx, "average_power_mw", (_log_uniform(ctx, -1, 4), active_s,
                                          _log_uniform(ctx, -4, 1), period), _AVG_HINT)


# --------------------------------------------------------------------------------------
# 07.battery_life_hours
# --------------------------------------------------------------------------------------

_BAT_HINT = ("mAh × V = mWh (milliwatt-hours); divide by the average power in mW to get hours, "
             "and multiply the stored energy by the converter's efficiency.")


def _battery_fixed(ctx: TestContext) -> None:
    _expect(ctx, "battery_life_hours", (1000.0, 1.0, 1.0, 1.0),
            "1000 mAh at 1 V is 1000 mWh: at 1 mW that lasts 1000 hours (mAh × V = mWh).")
    _expect(ctx, "battery_life_hours", (235.0, 3.0, 1.0, 1.0),
            "The voltage matters: mAh alone is not energy; mAh × V = mWh.")
    _expect(ctx, "battery_life_hours", (235.0, 3.0, 1.0, 0.8),
            "With efficiency 0.8 the device gets 80 % of the stored energy: hours shrink by 0.8.")
    _expect(ctx, "battery_life_hours", (2000.0, 3.7, 250.0, 0.9), _BAT_HINT)


def _battery_default_efficiency(ctx: TestContext) -> None:
    hint = "efficiency is optional and defaults to 1.0: def battery_life_hours(..., efficiency=1.0)."
    got = ctx.student(1000.0, 1.0, 2.0)
    ctx.expect_close(got, ctx.reference(1000.0, 1.0, 2.0), rtol=1e-6,
                     what="battery_life_hours(1000, 1, 2) without efficiency", hint=hint)


def _battery_random(ctx: TestContext) -> None:
    for _ in range(15):
        args = (_log_uniform(ctx, 1, 4.5), float(ctx.rng.uniform(1.2, 12.0)),
                _log_uniform(ctx, -3, 4), float(ctx.rng.uniform(0.5, 1.0)))
        _expect(ctx, "battery_life_hours", args, _BAT_HINT)


# --------------------------------------------------------------------------------------
# 07.dvfs_power_w
# --------------------------------------------------------------------------------------

_DVFS_HINT = ("Dynamic power is C · V² · f: scale the reference power by f / f_ref and by "
              "(V / V_ref) squared.")


def _dvfs_fixed(ctx: TestContext) -> None:
    _expect(ctx, "dvfs_power_w", (1.0, 1e9, 1.0, 1e9, 0.5),
            "Same clock, half the voltage: power drops 4×, because it goes with V².")
    _expect(ctx, "dvfs_power_w", (1.0, 1e9, 1.0, 5e8, 1.0),
            "Same voltage, half the clock: power halves (it goes with f).")
    _expect(ctx, "dvfs_power_w", (2.0, 1.5e9, 1.1, 6e8, 0.8), _DVFS_HINT)


def _dvfs_random(ctx: TestContext) -> None:
    for _ in range(15):
        f_ref, v_ref = _log_uniform(ctx, 7, 9.5), float(ctx.rng.uniform(0.6, 1.3))
        args = (_log_uniform(ctx, -3, 1.5), f_ref, v_ref, f_ref * float(ctx.rng.uniform(0.1, 1.5)),
                v_ref * float(ctx.rng.uniform(0.5, 1.2)))
        _expect(ctx, "dvfs_power_w", args, _DVFS_HINT)


# --------------------------------------------------------------------------------------
# 07.max_rate_hz
# --------------------------------------------------------------------------------------

_RATE_HINT = ("Budget = capacity_mah · voltage_v · efficiency / target_hours (mW). At r inferences "
              "per second the average is sleep_mw + r · active_s · (active_mw − sleep_mw); solve "
              "for r, then clip to [0, 1 / active_s].")


def _rate_fixed(ctx: TestContext) -> None:
    year = 24.0 * 365
    _expect(ctx, "max_rate_hz", (235.0, 3.0, year, 9.9, 0.25, 0.0045, 1.0),
            "The sleep power is paid all the time: subtract it from the budget before sharing "
            "the rest among inferences.")
    _expect(ctx, "max_rate_hz", (1000.0, 1.0, 100.0, 20.0, 0.01, 1.0, 1.0), _RATE_HINT)
    _expect(ctx, "max_rate_hz", (1000.0, 3.0, 100.0, 20.0, 0.01, 1.0, 0.5),
            "Efficiency shrinks the energy the battery delivers (and so the budget).")
    _expect(ctx, "max_rate_hz", (235.0, 3.0, year, 9.9, 0.25, 0.5, 1.0),
            "If sleeping alone uses more than the budget, no rate meets the target: return 0.0.")
    _expect(ctx, "max_rate_hz", (5000.0, 3.7, 10.0, 1.0, 0.02, 0.1, 1.0),
            "If the budget covers running all the time, the rate is limited by the latency: "
            "1 / active_s.")


def _rate_random(ctx: TestContext) -> None:
    for _ in range(15):
        args = (_log_uniform(ctx, 1.5, 4), float(ctx.rng.uniform(1.5, 7.4)), _log_uniform(ctx, 2, 5),
                _log_uniform(ctx, 0, 3), _log_uniform(ctx, -4, -0.5), _log_uniform(ctx, -4, -1),
                float(ctx.rng.uniform(0.6, 1.0)))
        _expect(ctx, "max_rate_hz", args, _RATE_HINT)


# --------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------

EXERCISES = (
    Exercise(
        id="07.energy_per_inference_mj",
        title="Energy of one inference",
        name="energy_per_inference_mj",
        reference=pw.energy_per_inference_mj,
        tests=(Test("fixed and random powers and latencies", 1, _energy_cases),),
        hint=_E_HINT,
    ),
    Exercise(
        id="07.average_power_mw",
        title="Average power of a duty-cycled device",
        name="average_power_mw",
        reference=pw.average_power_mw,
        tests=(Test("fixed duty cycles", 1, _avg_fixed), Test("random duty cycles", 1, _avg_random)),
        hint=_AVG_HINT,
    ),
    Exercise(
        id="07.battery_life_hours",
        title="Battery life from capacity, voltage and power",
        name="battery_life_hours",
        reference=pw.battery_life_hours,
        tests=(Test("units and efficiency", 1, _battery_fixed),
               Test("efficiency defaults to 1", 1, _battery_default_efficiency),
               Test("random batteries", 1, _battery_random)),
        hint=_BAT_HINT,
    ),
    Exercise(
        id="07.dvfs_power_w",
        title="Dynamic power at another voltage and frequency",
        name="dvfs_power_w",
        reference=pw.dvfs_power_w,
        tests=(Test("voltage and frequency separately", 1, _dvfs_fixed),
               Test("random operating points", 1, _dvfs_random)),
        hint=_DVFS_HINT,
    ),
    Exercise(
        id="07.max_rate_hz",
        title="The highest rate that meets a battery-life target",
        name="max_rate_hz",
        reference=pw.max_rate_hz,
        tests=(Test("sleep power, efficiency and the two limits", 2, _rate_fixed),
               Test("random devices and batteries", 1, _rate_random)),
        hint=_RATE_HINT,
    ),
)
