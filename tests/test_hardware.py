"""labkit.hardware: the catalog cites a source for every figure; profiles, roofline and
compatibility agree with what Keras, the .tflite file and TFLite Micro say."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest

from labkit import hardware as hw

RAW = json.loads(hw.CATALOG_PATH.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------------
# The catalog
# --------------------------------------------------------------------------------------

def test_every_figure_names_a_public_source():
    for device in RAW["devices"]:
        for name, fig in device["figures"].items():
            assert set(fig) <= {"value", "source", "note"}, (device["id"], name)
            assert fig.get("source") in RAW["sources"], (device["id"], name, fig)
            if "derived" in fig.get("note", ""):
                assert fig["value"] is not None, (device["id"], name)


def test_every_source_has_a_title_and_a_web_address():
    for key, src in RAW["sources"].items():
        assert len(src["title"]) > 20, key
        assert src["url"].startswith("https://"), key


def test_every_device_has_every_figure_and_known_kinds():
    catalog = hw.load_catalog()
    assert len(catalog) == len(RAW["devices"]) >= 12
    kinds = {d.kind for d in catalog}
    assert {"mcu", "cpu", "gpu", "tpu", "npu", "cloud"} <= kinds
    for device in catalog:
        assert set(device.figures) == set(hw.FIGURES)


def test_a_figure_without_a_source_is_refused(tmp_path):
    broken = json.loads(json.dumps(RAW))
    broken["devices"][0]["figures"]["power_w"] = {"value": 1.0}
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(broken))
    with pytest.raises(ValueError, match="source"):
        hw.load_catalog(path)


def test_a_missing_figure_is_refused(tmp_path):
    broken = json.loads(json.dumps(RAW))
    del broken["devices"][1]["figures"]["price_usd"]
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(broken))
    with pytest.raises(ValueError, match="price_usd"):
        hw.load_catalog(path)


def test_numbers_have_the_units_their_names_say():
    for device in hw.load_catalog():
        for name in ("clock_hz", "int8_ops_per_s", "float_ops_per_s", "memory_bytes",
                     "bandwidth_bytes_per_s", "power_w", "sleep_power_w", "price_usd"):
            value = device.value(name)
            assert value is None or (isinstance(value, (int, float)) and value > 0), (device, name)
        sleep, power = device.value("sleep_power_w"), device.value("power_w")
        if sleep is not None and power is not None:
            assert sleep < power
        assert isinstance(device.value("precisions"), list)


def test_records_are_plain_data_and_cite_works():
    catalog = hw.load_catalog()
    for record in catalog.records():
        json.dumps(record)
    assert "coral.ai" in catalog.cite("coral_usb", "int8_ops_per_s")
    with pytest.raises(KeyError, match="coral_usb"):
        catalog["no such device"]


# --------------------------------------------------------------------------------------
# Arithmetic
# --------------------------------------------------------------------------------------

def test_roofline_is_the_slower_roof():
    assert hw.roofline_latency_s(1e9, 1, 1e12, 1e9) == pytest.approx(2e-3)
    assert hw.roofline_latency_s(1, 1e9, 1e12, 1e9) == pytest.approx(1.0)
    assert hw.ridge_point(1e12, 1e10) == 100
    assert hw.arithmetic_intensity(0, 10) == 0


@pytest.mark.parametrize("call, error", [
    (lambda: hw.conv2d_macs(1.5, 1, 1, 1, 1, 1), TypeError),
    (lambda: hw.conv2d_macs(-1, 1, 1, 1, 1, 1), ValueError),
    (lambda: hw.dense_macs(True, 3), TypeError),
    (lambda: hw.arithmetic_intensity(10, 0), ValueError),
    (lambda: hw.roofline_latency_s(1, 1, 0, 1), ValueError),
    (lambda: hw.roofline_latency_s(1, 1, 1, float("inf")), ValueError),
    (lambda: hw.select_hardware({"macs": 1}, []), ValueError),
])
def test_bad_inputs_raise_with_the_argument_named(call, error):
    with pytest.raises(error):
        call()


def test_select_hardware_never_passes_unknown_figures():
    catalog = hw.load_catalog()
    req = {"macs": 1e6, "model_bytes": 1e4, "precision": "int8", "efficiency": 1.0,
           "max_latency_s": 1.0, "max_power_w": 1e6}
    chosen = hw.select_hardware(req, catalog.records())
    for device_id in chosen:
        d = catalog[device_id]
        assert None not in (d.value("int8_ops_per_s"), d.value("memory_bytes"), d.value("power_w"))
    assert "rpi4" not in chosen  # its peak throughput is not published
    reasons = {r["id"]: hw.explain_choice(req, r) for r in catalog.records()}
    assert reasons["rpi4"] == "peak int8 throughput unknown"
    assert reasons[chosen[0]].startswith("feasible")


# --------------------------------------------------------------------------------------
# Profiles against Keras and the .tflite file (TensorFlow: a few seconds)
# --------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _models():
    from labkit import quantization as lq
    from labkit.models import build_course_cnn

    model = build_course_cnn((16, 16, 1), width=8)
    calib = np.random.default_rng(0).random((50, 16, 16, 1), dtype=np.float32)
    return model, lq.convert_float32(model), lq.convert_int8(model, calib), \
        lq.convert_dynamic_range(model)


def test_profiles_agree_with_count_macs_and_parameters():
    from labkit.models import count_macs

    model, f32, i8, _ = _models()
    keras_rows = hw.profile_keras(model)
    assert sum(r.macs for r in keras_rows) == count_macs(model)
    assert sum(r.params for r in keras_rows) == model.count_params()
    for model_bytes in (f32, i8):
        rows = hw.profile_tflite(model_bytes)
        assert sum(r.macs for r in rows) == count_macs(model)
        macs_by_layer = [r.macs for r in rows if r.macs]
        assert macs_by_layer == [r.macs for r in keras_rows if r.macs]


def test_int8_profile_moves_a_quarter_of_the_weight_bytes():
    _, f32, i8, _ = _models()
    w32 = sum(r.weight_bytes for r in hw.profile_tflite(f32) if r.kind == "CONV_2D")
    w8 = sum(r.weight_bytes for r in hw.profile_tflite(i8) if r.kind == "CONV_2D")
    assert 0.25 <= w8 / w32 < 0.4  # int8 kernels, int32 biases


def test_estimate_sums_the_layers_and_names_the_bound():
    model, *_ = _models()
    rows = hw.profile_keras(model)
    roofs = hw.Roofs("test", 1e12, 1e9)
    est = hw.estimate_latency_s(rows, roofs)
    assert est.total_s == pytest.approx(sum(est.layer_s))
    assert est.bound[rows.index(next(r for r in rows if r.kind == "MaxPooling2D"))] == "memory"
    assert len(est.bound) == len(rows)


def test_model_precision_names_each_variant():
    _, f32, i8, dyn = _models()
    assert [hw.model_precision(m) for m in (f32, i8, dyn)] == ["float32", "int8",
                                                                 "dynamic_range"]


def test_compatibility_checks_precision_ops_and_memory():
    _, f32, i8, dyn = _models()
    catalog = hw.load_catalog()
    assert hw.compatibility(i8, catalog["coral_usb"]).status == "yes"
    assert hw.compatibility(f32, catalog["coral_usb"]).status == "no"
    assert hw.compatibility(i8, catalog["jetson_nano"]).status == "no"
    assert hw.compatibility(dyn, catalog["nrf52840"]).status == "no"
    ok = hw.compatibility(i8, catalog["nrf52840"])
    assert ok and "TFLite Micro" in ok.reasons[0]


def test_compatibility_refuses_a_model_larger_than_the_arena():
    from labkit import quantization as lq
    from labkit.models import build_course_cnn

    calib = np.random.default_rng(0).random((20, 64, 64, 1), dtype=np.float32)
    big = lq.convert_int8(build_course_cnn((64, 64, 1), width=32), calib)
    result = hw.compatibility(big, hw.load_catalog()["nrf52840"])
    assert result.status == "no" and "arena" in result.reasons[0]


def test_xnnpack_switch_runs_both_stacks():
    _, f32, *_ = _models()
    on = hw.xnnpack_latency_ms(f32, xnnpack=True, runs=20)
    off = hw.xnnpack_latency_ms(f32, xnnpack=False, runs=20)
    assert on > 0 and off > 0


def test_bandwidth_measurement_is_plausible():
    assert 1e8 < hw.measure_bandwidth_bytes_per_s(size_bytes=32 * 2**20, repeats=2) < 1e13
