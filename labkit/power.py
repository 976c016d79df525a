"""Power and energy: energy per inference, duty cycles, battery life, DVFS, and RAPL (notebook 07).

- The arithmetic of notebook 07's exercises (plain numbers in and out):
  :func:`energy_per_inference_mj`, :func:`average_power_mw`, :func:`battery_life_hours`,
  :func:`dvfs_power_w` (dynamic power ∝ C·V²·f) and :func:`max_rate_hz` (the highest
  inference rate that still meets a battery-life target).
- :func:`period_energy_mj`: one period of run-then-sleep, to compare race-to-idle with
  slow-and-steady operating points.
- :func:`model_energy_mj`: an estimate from MACs and bytes moved with Horowitz's published
  per-operation energies (``power_data.json``, every figure with its source).
- :func:`rapl_status` and :func:`measure_energy_j`: package energy from Linux's RAPL counters
  (``/sys/class/powercap``) where they are readable; elsewhere labkit says so and never
  presents an estimate as a measurement.

Units are in the names: ``_mw`` milliwatts, ``_w`` watts, ``_s`` seconds, ``_mj`` millijoules,
``_mah`` milliamp-hours, ``_v`` volts, ``_hz`` hertz. Nothing here imports TensorFlow.

Example
-------
>>> energy_per_inference_mj(0.0099, 0.25)  # 9.9 mW for 250 ms
2.475
>>> round(average_power_mw(9.9, 0.25, 0.0045, 60.0), 4)  # once a minute
0.0457
>>> round(battery_life_hours(235, 3.0, 0.0457) / 24 / 365, 2)  # a CR2032, in years
1.76
"""

from __future__ import annotations

import json
import numbers
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

DATA_PATH = Path(__file__).with_name("power_data.json")
POWERCAP = Path("/sys/class/powercap")
HOURS_PER_YEAR = 24 * 365


def _check(name: str, value: Any, *, positive: bool = False) -> float:
    """A finite real number, >= 0 (or > 0 with ``positive``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not np.isfinite(value) or value < 0 or (positive and value == 0):
        raise ValueError(f"{name} must be finite and {'> 0' if positive else '>= 0'}, got {value}")
    return value


def _check_efficiency(efficiency: Any) -> float:
    value = _check("efficiency", efficiency, positive=True)
    if value > 1:
        raise ValueError(f"efficiency is a fraction in (0, 1], got {value}; 0.9 means 90 %")
    return value


# --------------------------------------------------------------------------------------
# Exercises 07.energy_per_inference_mj, 07.average_power_mw, 07.battery_life_hours,
# 07.dvfs_power_w, 07.max_rate_hz
# --------------------------------------------------------------------------------------

def energy_per_inference_mj(power_w: float, latency_s: float) -> float:
    """Energy of one inference in millijoules: ``1000 · power_w · latency_s``.

    Example
    -------
    >>> energy_per_inference_mj(2.0, 0.004)  # 2 W for 4 ms
    8.0
    """
    return 1000.0 * _check("power_w", power_w) * _check("latency_s", latency_s)


def average_power_mw(active_mw: float, active_s: float, sleep_mw: float, period_s: float) -> float:
    """Average power of a device that is active for ``active_s`` of every ``period_s`` and
    sleeps for the rest: ``(active_mw · active_s + sleep_mw · (period_s − active_s)) / period_s``.

    Raises
    ------
    ValueError
        If ``active_s > period_s`` (the device cannot be active longer than a period).

    Example
    -------
    >>> average_power_mw(10.0, 0.1, 0.01, 1.0)
    1.009
    """
    active_mw, active_s = _check("active_mw", active_mw), _check("active_s", active_s)
    sleep_mw, period_s = _check("sleep_mw", sleep_mw), _check("period_s", period_s, positive=True)
    if active_s > period_s:
        raise ValueError(f"active_s ({active_s} s) is longer than period_s ({period_s} s); the "
                         "highest rate is one inference per active_s")
    return (active_mw * active_s + sleep_mw * (period_s - active_s)) / period_s


def battery_life_hours(capacity_mah: float, voltage_v: float, average_power_mw: float,
                       efficiency: float = 1.0) -> float:
    """Hours a battery lasts at a given average power.

    The battery stores ``capacity_mah · voltage_v`` milliwatt-hours (mAh × V = mWh); a
    converter of ``efficiency`` delivers that fraction of it to the device.

    Example
    -------
    >>> battery_life_hours(235, 3.0, 1.0)  # a CR2032 at 1 mW
    705.0
    >>> battery_life_hours(235, 3.0, 1.0, efficiency=0.8)
    564.0
    """
    energy_mwh = (_check("capacity_mah", capacity_mah) * _check("voltage_v", voltage_v)
                  * _check_efficiency(efficiency))
    return energy_mwh / _check("average_power_mw", average_power_mw, positive=True)


def dvfs_power_w(p_ref_w: float, f_ref_hz: float, v_ref_v: float, f_hz: float, v_v: float) -> float:
    """Dynamic power at another operating point: ``p_ref_w · (f / f_ref) · (V / V_ref)²``.

    Dynamic (switching) power is ``C · V² · f``; the unknown switched capacitance ``C``
    cancels when the new point is scaled from a reference point.

    Example
    -------
    >>> round(dvfs_power_w(1.0, 1e9, 1.0, 5e8, 0.8), 6)  # half the clock at 80 % of the voltage
    0.32
    """
    p_ref = _check("p_ref_w", p_ref_w)
    f_ref, v_ref = _check("f_ref_hz", f_ref_hz, positive=True), _check("v_ref_v", v_ref_v,
                                                                       positive=True)
    return p_ref * (_check("f_hz", f_hz) / f_ref) * (_check("v_v", v_v) / v_ref) ** 2


def max_rate_hz(capacity_mah: float, voltage_v: float, target_hours: float, active_mw: float,
                active_s: float, sleep_mw: float, efficiency: float = 1.0) -> float:
    """The highest inference rate (per second) at which the battery still lasts ``target_hours``.

    The battery can supply on average ``budget = capacity_mah · voltage_v · efficiency /
    target_hours`` mW. At ``r`` inferences per second the device averages
    ``sleep_mw + r · active_s · (active_mw − sleep_mw)``, so
    ``r = (budget − sleep_mw) / (active_s · (active_mw − sleep_mw))``,
    clipped to ``[0, 1 / active_s]``: 0 when even sleeping uses more than the budget,
    ``1 / active_s`` when the device can run continuously.

    Example
    -------
    >>> round(max_rate_hz(235, 3.0, 24 * 365, 9.9, 0.25, 0.0045), 4)  # a coin cell, a year
    0.0307
    """
    budget = (_check("capacity_mah", capacity_mah) * _check("voltage_v", voltage_v)
              * _check_efficiency(efficiency) / _check("target_hours", target_hours, positive=True))
    active_mw, sleep_mw = _check("active_mw", active_mw), _check("sleep_mw", sleep_mw)
    active_s = _check("active_s", active_s, positive=True)
    if budget <= sleep_mw:
        return 0.0
    if active_mw <= sleep_mw or budget >= active_mw:
        return 1.0 / active_s
    return min(1.0 / active_s, (budget - sleep_mw) / (active_s * (active_mw - sleep_mw)))


# --------------------------------------------------------------------------------------
# Race-to-idle vs slow-and-steady
# --------------------------------------------------------------------------------------

def period_energy_mj(active_w: float, active_s: float, sleep_w: float, period_s: float) -> float:
    """Energy of one period: run at ``active_w`` for ``active_s``, sleep at ``sleep_w`` after.

    Example
    -------
    >>> period_energy_mj(1.0, 0.01, 0.001, 0.1)  # 10 mJ running + 0.09 mJ asleep
    10.09
    """
    active_s, period_s = _check("active_s", active_s), _check("period_s", period_s, positive=True)
    if active_s > period_s:
        raise ValueError(f"active_s ({active_s} s) exceeds period_s ({period_s} s): this "
                         "operating point misses the deadline")
    return 1000.0 * (_check("active_w", active_w) * active_s
                     + _check("sleep_w", sleep_w) * (period_s - active_s))


# --------------------------------------------------------------------------------------
# Energy from MACs and bytes (Horowitz 2014)
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EnergyTable:
    """Published energies: per operation (pJ) and per 32-bit access (pJ), with sources."""

    op_pj: dict[str, float]
    access_pj_32bit: dict[str, float]
    sources: dict[str, dict[str, str]]
    cited: dict[str, str]  # figure name -> source key

    def mac_pj(self, precision: str) -> float:
        """One multiply-accumulate: a multiply and an add (int8 accumulates in 32 bits)."""
        if precision == "int8":
            return self.op_pj["int8_mult"] + self.op_pj["int32_add"]
        if precision in ("float16", "float32"):
            return self.op_pj[f"{precision}_mult"] + self.op_pj[f"{precision}_add"]
        raise ValueError(f"precision must be 'int8', 'float16' or 'float32', got {precision!r}")

    def byte_pj(self, memory: str) -> float:
        """Energy per byte read from ``"register"``, ``"sram"`` or ``"dram"``."""
        if memory not in self.access_pj_32bit:
            raise ValueError(f"memory must be one of {sorted(self.access_pj_32bit)}, got {memory!r}")
        return self.access_pj_32bit[memory] / 4


def load_power_data(path: Path | str | None = None) -> dict[str, Any]:
    """The raw ``power_data.json`` (every figure with its source); raises on a missing source."""
    data = json.loads(Path(path or DATA_PATH).read_text(encoding="utf-8"))
    for figure in _figures(data):
        if figure.get("source") not in data["sources"]:
            raise ValueError(f"figure {figure} names no source of power_data.json")
    return data


def _figures(data: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(data["op_energy_pj"].values()) + list(data["access_energy_pj_per_32bit"].values())
    for battery in data["batteries"].values():
        found += [v for v in battery.values() if isinstance(v, dict)]
    return found


def energy_table(path: Path | str | None = None) -> EnergyTable:
    """Horowitz's per-operation and per-access energies as an :class:`EnergyTable`."""
    data = load_power_data(path)
    ops = {k: float(v["value"]) for k, v in data["op_energy_pj"].items()}
    access = {k: float(v["value"]) for k, v in data["access_energy_pj_per_32bit"].items()}
    cited = {k: v["source"] for k, v in {**data["op_energy_pj"],
                                         **data["access_energy_pj_per_32bit"]}.items()}
    return EnergyTable(ops, access, data["sources"], cited)


def battery(name: str, path: Path | str | None = None) -> tuple[float, float, str]:
    """``(capacity_mah, voltage_v, source title)`` of a battery in ``power_data.json``."""
    data = load_power_data(path)
    if name not in data["batteries"]:
        raise KeyError(f"no battery {name!r}; known: {', '.join(data['batteries'])}")
    b = data["batteries"][name]
    return (float(b["capacity_mah"]["value"]), float(b["voltage_v"]["value"]),
            data["sources"][b["capacity_mah"]["source"]]["title"])


def model_energy_mj(macs: float, bytes_moved: float, precision: str, *, memory: str = "dram",
                    table: EnergyTable | None = None) -> dict[str, float]:
    """An ESTIMATE of one inference's energy: arithmetic plus data movement (Horowitz 2014).

    ``macs · mac_pj(precision) + bytes_moved · byte_pj(memory)``, returned in millijoules
    as ``{"compute_mj", "memory_mj", "total_mj"}``. It ignores control, leakage and
    everything around the arithmetic, so it is a lower bound that ranks alternatives; it is
    not a measurement of any device.

    Example
    -------
    >>> round(model_energy_mj(1e6, 1e5, "int8")["total_mj"], 4)  # 1 M MACs, 100 kB from DRAM
    0.0163
    """
    table = table or energy_table()
    compute = _check("macs", macs) * table.mac_pj(precision) * 1e-9
    moving = _check("bytes_moved", bytes_moved) * table.byte_pj(memory) * 1e-9
    return {"compute_mj": compute, "memory_mj": moving, "total_mj": compute + moving}


# --------------------------------------------------------------------------------------
# RAPL: measured package energy where Linux exposes it
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RaplStatus:
    """Whether RAPL package energy can be read here; ``reason`` says why not."""

    readable: bool
    zone: Path | None
    reason: str

    def __bool__(self) -> bool:
        return self.readable

    def __repr__(self) -> str:
        return (f"RaplStatus(readable: {self.zone})" if self.readable
                else f"RaplStatus(not readable: {self.reason})")


def rapl_status(root: Path | str = POWERCAP) -> RaplStatus:
    """Find a readable RAPL package zone (``intel-rapl:0`` or ``amd-rapl:0``) under ``root``."""
    root = Path(root)
    if not root.is_dir():
        return RaplStatus(False, None, f"{root} does not exist (no powercap driver: typical of "
                          "virtual machines, containers and Colab)")
    zones = sorted(p for p in root.glob("*-rapl:*") if p.name.count(":") == 1)
    if not zones:
        return RaplStatus(False, None, f"{root} has no RAPL package zone")
    for zone in zones:
        try:
            int((zone / "energy_uj").read_text())
        except (OSError, ValueError) as exc:
            reason = f"{zone / 'energy_uj'} is not readable ({exc.__class__.__name__}: {exc})"
            continue
        return RaplStatus(True, zone, "")
    return RaplStatus(False, None, reason + "; reading it usually needs root")


def _read_uj(zone: Path) -> int:
    return int((zone / "energy_uj").read_text())


def measure_energy_j(fn: Callable[[], Any], *, repeats: int, status: RaplStatus | None = None,
                     clock: Callable[[], float] = time.perf_counter) -> dict[str, float]:
    """MEASURED package energy of ``repeats`` calls of ``fn`` from the RAPL counter.

    Returns ``{"energy_j", "seconds", "average_power_w", "energy_per_call_j"}``. The counter
    wraps at ``max_energy_range_uj``; one wrap is corrected. The package counter includes
    everything else the CPU does meanwhile: subtract an idle baseline to isolate ``fn``.

    Raises
    ------
    RuntimeError
        If RAPL is not readable here (see :func:`rapl_status`).
    """
    status = status or rapl_status()
    if not status:
        raise RuntimeError(f"RAPL is not readable here: {status.reason}")
    zone = status.zone
    n = int(repeats)
    if n < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    try:
        wrap = int((zone / "max_energy_range_uj").read_text())
    except (OSError, ValueError):
        wrap = 0
    start_t, start_e = clock(), _read_uj(zone)
    for _ in range(n):
        fn()
    end_e, end_t = _read_uj(zone), clock()
    delta = end_e - start_e
    if delta < 0 and wrap:
        delta += wrap
    energy_j = delta / 1e6
    seconds = max(end_t - start_t, 1e-12)
    return {"energy_j": energy_j, "seconds": seconds, "average_power_w": energy_j / seconds,
            "energy_per_call_j": energy_j / n}


def inference_callable(model_bytes: bytes, *, threads: int = 1) -> Callable[[], None]:
    """A zero-argument function that runs one LiteRT ``invoke()`` of the model (input zeros)."""
    from labkit.runtime import LiteRT

    interp = LiteRT().load(model_bytes, threads=threads).interpreter
    for detail in interp.get_input_details():
        interp.set_tensor(detail["index"], np.zeros(detail["shape"], detail["dtype"]))
    return interp.invoke


def measure_inference_energy(models: dict[str, bytes], *, inferences: int = 2000,
                             idle_s: float = 0.5, status: RaplStatus | None = None
                             ) -> dict[str, dict[str, float]]:
    """MEASURED energy per inference of each ``.tflite`` model, idle power subtracted (RAPL).

    For each model: ``inferences`` LiteRT invokes at 1 thread, timed and metered; the
    package's idle power, metered over ``idle_s`` of sleeping first, times the run's
    duration is subtracted. Returns ``{name: {"per_inference_mj", "package_w", "idle_w"}}``.

    Raises
    ------
    RuntimeError
        If RAPL is not readable here.
    """
    status = status or rapl_status()
    if not status:
        raise RuntimeError(f"RAPL is not readable here: {status.reason}")
    steps = max(1, int(_check("idle_s", idle_s, positive=True) / 0.01))
    idle = measure_energy_j(lambda: time.sleep(0.01), repeats=steps, status=status)
    results = {}
    for name, model_bytes in models.items():
        run = measure_energy_j(inference_callable(model_bytes), repeats=inferences, status=status)
        net_j = max(0.0, run["energy_j"] - idle["average_power_w"] * run["seconds"])
        results[name] = {"per_inference_mj": 1e3 * net_j / inferences,
                         "package_w": run["average_power_w"], "idle_w": idle["average_power_w"]}
    return results
