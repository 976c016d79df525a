"""labkit.power: units, limits, the published energies' sources, and RAPL reading (on a fake
powercap tree everywhere, on the real one where it is readable)."""

from __future__ import annotations

import json

import pytest

from labkit import power as pw


def test_every_energy_figure_names_a_source():
    data = json.loads(pw.DATA_PATH.read_text(encoding="utf-8"))
    figures = pw._figures(data)
    assert len(figures) >= 13
    for fig in figures:
        assert fig["source"] in data["sources"] and fig["value"] is not None, fig
    for src in data["sources"].values():
        assert src["url"].startswith("https://") and len(src["title"]) > 20


def test_a_figure_without_a_source_is_refused(tmp_path):
    data = json.loads(pw.DATA_PATH.read_text(encoding="utf-8"))
    data["op_energy_pj"]["int8_add"] = {"value": 0.03}
    path = tmp_path / "power.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="source"):
        pw.load_power_data(path)


def test_energy_table_matches_horowitz():
    table = pw.energy_table()
    assert table.mac_pj("int8") == pytest.approx(0.3)
    assert table.mac_pj("float32") == pytest.approx(4.6)
    assert table.byte_pj("dram") == pytest.approx(160.0)
    assert table.mac_pj("float32") / table.mac_pj("int8") > 10
    with pytest.raises(ValueError, match="precision"):
        table.mac_pj("int4")


def test_model_energy_adds_compute_and_memory():
    e = pw.model_energy_mj(1e6, 1e5, "float32", memory="sram")
    assert e["total_mj"] == pytest.approx(e["compute_mj"] + e["memory_mj"])
    assert e["compute_mj"] == pytest.approx(1e6 * 4.6e-9)
    assert pw.model_energy_mj(1e6, 1e5, "int8")["total_mj"] < \
        pw.model_energy_mj(1e6, 4e5, "float32")["total_mj"]


def test_battery_reads_the_coin_cell():
    capacity, voltage, source = pw.battery("cr2032")
    assert (capacity, voltage) == (235.0, 3.0) and "Energizer" in source
    with pytest.raises(KeyError, match="cr2032"):
        pw.battery("AA")


def test_units_line_up():
    hours = pw.battery_life_hours(235, 3.0, pw.average_power_mw(9.9, 0.25, 0.0045, 60.0))
    assert 1.5 < hours / pw.HOURS_PER_YEAR < 2.0
    assert pw.energy_per_inference_mj(1.0, 1.0) == 1000.0
    assert pw.dvfs_power_w(1.0, 1e9, 1.0, 1e9, 1.0) == 1.0


def test_max_rate_meets_the_target_exactly():
    args = (235.0, 3.0, 8760.0, 9.9, 0.25, 0.0045)
    rate = pw.max_rate_hz(*args)
    avg = pw.average_power_mw(9.9, 0.25, 0.0045, 1 / rate)
    assert pw.battery_life_hours(235.0, 3.0, avg) == pytest.approx(8760.0)
    assert pw.max_rate_hz(235.0, 3.0, 8760.0, 9.9, 0.25, 1.0) == 0.0
    assert pw.max_rate_hz(5000.0, 3.7, 1.0, 1.0, 0.02, 0.1) == 50.0


@pytest.mark.parametrize("call, error", [
    (lambda: pw.average_power_mw(1, 2, 0, 1), ValueError),       # active longer than period
    (lambda: pw.battery_life_hours(100, 3, 0), ValueError),
    (lambda: pw.battery_life_hours(100, 3, 1, efficiency=90), ValueError),
    (lambda: pw.energy_per_inference_mj("1", 2), TypeError),
    (lambda: pw.dvfs_power_w(1, 0, 1, 1, 1), ValueError),
    (lambda: pw.period_energy_mj(1, 2, 0, 1), ValueError),
    (lambda: pw.max_rate_hz(1, 1, 1, 1, 0, 0), ValueError),
])
def test_bad_inputs_raise(call, error):
    with pytest.raises(error):
        call()


def test_race_to_idle_bookkeeping():
    assert pw.period_energy_mj(1.0, 0.01, 0.001, 0.1) == pytest.approx(10.09)


# --------------------------------------------------------------------------------------
# RAPL
# --------------------------------------------------------------------------------------

def _fake_powercap(tmp_path, values, wrap=1_000_000):
    zone = tmp_path / "intel-rapl:0"
    zone.mkdir(parents=True)
    (zone / "max_energy_range_uj").write_text(str(wrap))
    reads = iter(values)

    def tick():
        (zone / "energy_uj").write_text(str(next(reads)))

    tick()
    return zone, tick


def test_missing_powercap_is_reported_not_estimated(tmp_path):
    status = pw.rapl_status(tmp_path / "absent")
    assert not status and "does not exist" in status.reason
    with pytest.raises(RuntimeError, match="not readable"):
        pw.measure_energy_j(lambda: None, repeats=1, status=status)
    (tmp_path / "empty").mkdir()
    assert "no RAPL" in pw.rapl_status(tmp_path / "empty").reason


def test_unreadable_counter_is_reported(tmp_path):
    (tmp_path / "intel-rapl:0").mkdir()
    status = pw.rapl_status(tmp_path)
    assert not status and "energy_uj" in status.reason


def test_measurement_reads_the_counter_difference(tmp_path):
    zone, tick = _fake_powercap(tmp_path, [100, 2_100])
    status = pw.rapl_status(tmp_path)
    assert status and status.zone == zone
    clock = iter([0.0, 0.5])
    result = pw.measure_energy_j(tick, repeats=1, status=status, clock=lambda: next(clock))
    assert result["energy_j"] == pytest.approx(0.002)
    assert result["average_power_w"] == pytest.approx(0.004)


def test_measurement_corrects_one_wraparound(tmp_path):
    _, tick = _fake_powercap(tmp_path, [999_000, 1_000], wrap=1_000_000)
    status = pw.rapl_status(tmp_path)
    result = pw.measure_energy_j(tick, repeats=1, status=status)
    assert result["energy_j"] == pytest.approx(0.002)


def test_real_rapl_where_readable():
    status = pw.rapl_status()
    if not status:
        pytest.skip(f"RAPL not readable on this machine: {status.reason}")
    result = pw.measure_energy_j(lambda: sum(range(100_000)), repeats=20, status=status)
    assert result["energy_j"] > 0 and 0 < result["average_power_w"] < 1000


def test_inference_energy_path_on_a_fake_counter(tmp_path, monkeypatch):
    """The notebook's measurement path, run everywhere on a counter that ticks per read."""
    from labkit import quantization as lq
    from labkit.models import build_course_cnn

    zone, _ = _fake_powercap(tmp_path, [0])
    status = pw.rapl_status(tmp_path)
    counter = iter(range(0, 10**12, 5_000))  # +5 mJ per read
    monkeypatch.setattr(pw, "_read_uj", lambda z: next(counter))
    model = lq.convert_float32(build_course_cnn((8, 8, 1), width=2))
    result = pw.measure_inference_energy({"tiny": model}, inferences=10, idle_s=0.02,
                                         status=status)
    assert set(result["tiny"]) == {"per_inference_mj", "package_w", "idle_w"}
    assert result["tiny"]["per_inference_mj"] >= 0 and result["tiny"]["package_w"] > 0


def test_inference_energy_refuses_without_rapl(tmp_path):
    with pytest.raises(RuntimeError, match="not readable"):
        pw.measure_inference_energy({}, status=pw.rapl_status(tmp_path / "absent"))
