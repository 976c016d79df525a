"""Notebook 08's code: parity, the Edge Impulse format and SDK path, ONNX export and the ONNX
Runtime / OpenVINO backends compared with Keras and LiteRT, runtime costs, the catalog."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import math
import zipfile

import numpy as np
import pytest

from labkit import convert, convert_onnx, frameworks, hardware, runtime
from labkit import edge_impulse as lei
from labkit.runtime import BackendError, OnnxRuntime, OpenVINO

# --------------------------------------------------------------------------------------
# Pure functions
# --------------------------------------------------------------------------------------


def test_parity_on_known_values_and_bad_inputs():
    ref = np.array([[0.1, 0.7, 0.2], [0.5, 0.4, 0.1]])
    assert frameworks.parity(ref, ref) == {"max_abs_diff": 0.0, "top1_agreement": 1.0}
    out = frameworks.parity(ref, ref[::-1])
    assert out["top1_agreement"] == 0.0 and math.isclose(out["max_abs_diff"], 0.4)
    with pytest.raises(ValueError, match="same shape"):
        frameworks.parity(ref, ref[:1])
    with pytest.raises(ValueError, match="reference_logits"):
        frameworks.parity(ref[0], ref[0])
    with pytest.raises(TypeError, match="other_logits"):
        frameworks.parity(ref, [["a", "b", "c"]] * 2)


def test_ei_sample_signature_is_edge_impulse_recipe():
    """The recipe of Edge Impulse's Python example, written out independently."""
    values = [[-9.81, 0.03, 1.21], [-9.83, 0.04, 1.27]]
    key = "fed53116f20684c067774ebf9e7bcbdc"
    sample = frameworks.ei_sample(np.array(values), 10, ["accX", "accY", "accZ"], ["m/s2"] * 3,
                                  "DISCO-L475VG-IOT01A", key)
    data = {"protected": {"ver": "v1", "alg": "HS256"}, "signature": "0" * 64,
            "payload": {"device_type": "DISCO-L475VG-IOT01A", "interval_ms": 10,
                        "sensors": [{"name": n, "units": "m/s2"} for n in ("accX", "accY", "accZ")],
                        "values": values}}
    encoded = json.dumps(data)
    data["signature"] = hmac.new(bytes(key, "utf-8"), msg=encoded.encode("utf-8"),
                                 digestmod=hashlib.sha256).hexdigest()
    assert sample == data and list(sample) == list(data)
    assert frameworks.ei_signature_valid(sample, key)
    tampered = json.loads(json.dumps(sample))
    tampered["payload"]["values"][0][0] = -9.8
    assert not frameworks.ei_signature_valid(tampered, key)
    assert not frameworks.ei_signature_valid(sample, "another-key")


def test_ei_sample_matches_the_shipped_gesture_files():
    from labkit.gestures import dataset_dir

    path = sorted(dataset_dir().glob("wave.*.json"))[0]
    shipped = json.loads(path.read_text())
    payload = shipped["payload"]
    made = frameworks.ei_sample(np.array(payload["values"]), payload["interval_ms"],
                               [s["name"] for s in payload["sensors"]],
                               [s["units"] for s in payload["sensors"]], payload["device_type"])
    assert made["protected"] == {k: v for k, v in shipped["protected"].items() if k != "iat"}
    assert made["signature"] == shipped["signature"]
    assert made["payload"] == {k: v for k, v in payload.items() if k != "device_name"}


@pytest.mark.parametrize("bad, error, match", [
    (dict(values=[1.0, 2.0]), ValueError, "values"),
    (dict(interval_ms=0), ValueError, "interval_ms"),
    (dict(sensor_names=["a"]), ValueError, "sensor_names"),
    (dict(units="m/s2"), TypeError, "units"),
    (dict(device_type=""), TypeError, "device_type"),
    (dict(hmac_key=b"key"), TypeError, "hmac_key"),
])
def test_ei_sample_checks_its_arguments(bad, error, match):
    args = dict(values=np.ones((3, 2)), interval_ms=16, sensor_names=["a", "b"],
                units=["m", "m"], device_type="X", hmac_key=None)
    args.update(bad)
    with pytest.raises(error, match=match):
        frameworks.ei_sample(**args)


def test_framework_catalog_cites_every_cell():
    catalog = frameworks.load_frameworks()
    names = [fw["name"] for fw in catalog["frameworks"]]
    for expected in ("LiteRT", "ONNX Runtime", "OpenVINO", "TensorRT", "ExecuTorch", "Edge Impulse"):
        assert any(n.startswith(expected) for n in names), expected
    table = frameworks.frameworks_markdown(catalog)
    assert table.count("<sup>[") == len(names) * len(frameworks.FRAMEWORK_FIELDS)
    for source in catalog["sources"].values():
        assert source["url"].startswith("https://")


def test_runtime_costs_are_measured():
    assert 0 < frameworks.import_time_s("onnxruntime") < 30
    assert frameworks.installed_size_bytes("onnxruntime") > 1_000_000
    with pytest.raises(RuntimeError, match="no_such_module"):
        frameworks.import_time_s("no_such_module")
    status = frameworks.tensorrt_status()
    assert status.available == (status.reason() == "")


# --------------------------------------------------------------------------------------
# ONNX export and the two new backends, against Keras and LiteRT
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def course():
    from labkit import zoo
    from labkit.data import load_digits

    model = zoo.trained(zoo.COURSE_CNN).model
    ds = load_digits(32)
    f32, i8 = convert.convert_float32(model), convert.convert_int8(model, ds.x_train[:200])
    onnx_f32 = convert_onnx.keras_to_onnx(model)
    return {"model": model, "x": ds.x_test[:64], "keras": model.predict(ds.x_test[:64], verbose=0),
            "f32": f32, "i8": i8, "onnx_f32": onnx_f32,
            "onnx_i8": convert_onnx.quantize_static_int8(onnx_f32, ds.x_train[:200])}


def _run(backend, model_bytes, x):
    return backend.predict(backend.load(model_bytes, threads=1), x)


def test_onnx_export_matches_keras(course):
    out = _run(OnnxRuntime(), course["onnx_f32"], course["x"])
    np.testing.assert_allclose(out, course["keras"], atol=1e-5)
    report = runtime.get_backend("onnx").describe(course["onnx_f32"])
    assert report.ops["Conv"] == 3 and report.inputs[0].dtype == "float32"
    assert report.param_count_by_dtype["float32"] >= course["model"].count_params()


def test_onnx_static_int8_is_qdq_with_float_io(course):
    report = OnnxRuntime().describe(course["onnx_i8"])
    assert {"QuantizeLinear", "DequantizeLinear"} <= set(report.ops)
    assert "int8" in report.param_bytes_by_dtype and report.inputs[0].dtype == "float32"
    assert len(course["onnx_i8"]) < 0.5 * len(course["onnx_f32"])
    agree = frameworks.parity(course["keras"], _run(OnnxRuntime(), course["onnx_i8"],
                                                    course["x"]))["top1_agreement"]
    assert agree >= 0.95


def test_openvino_reads_onnx_and_tflite(course):
    f32 = OpenVINO(precision="f32")
    handle = f32.load(course["onnx_f32"], threads=1)
    assert handle.precision == "f32"
    np.testing.assert_allclose(f32.predict(handle, course["x"]), course["keras"], atol=1e-4)
    np.testing.assert_allclose(_run(f32, course["f32"], course["x"]), course["keras"], atol=1e-4)
    litert_i8 = runtime.predict(course["i8"], course["x"])
    ov_i8 = _run(OpenVINO(), course["i8"], course["x"])
    step = runtime.describe(course["i8"]).outputs[0].scales[0]
    assert np.max(np.abs(ov_i8 - litert_i8)) <= 3 * step + 1e-6  # same int8 grid
    assert frameworks.parity(litert_i8, ov_i8)["top1_agreement"] >= 0.95


def test_new_backends_refuse_what_they_cannot_read(course):
    with pytest.raises(ValueError, match="ONNX"):
        OnnxRuntime().load(b"\x08\x07 not a model")
    with pytest.raises(ValueError, match="neither"):
        OpenVINO().load(b"PK\x03\x04 a zip")
    with pytest.raises(ValueError, match="precision"):
        OpenVINO(precision="int4")
    assert issubclass(BackendError, RuntimeError)


# --------------------------------------------------------------------------------------
# Edge Impulse: the offline profile, and the SDK's real code path against a local endpoint
# --------------------------------------------------------------------------------------


def test_offline_profile_from_arena_size_and_catalog(course):
    device = hardware.load_catalog()["nrf52840"]
    info = lei.offline_profile(course["i8"], device)
    arena = lei.micro_arena_bytes(course["i8"])
    assert info["memory"]["tflite"] == {"ram": arena, "rom": len(course["i8"]) + 16 * 1024,
                                        "arenaSize": arena}
    assert runtime.runs_on_micro(course["i8"], arena_size=arena)  # the arena it reported is enough
    macs = sum(layer.macs for layer in hardware.profile_tflite(course["i8"]))
    assert info["timePerInferenceMs"] == math.ceil(1e3 * 2 * macs / 256e6)
    assert info["isSupportedOnMcu"] and info["variant"] == "int8"
    dyn = lei.offline_profile(convert.convert_dynamic_range(course["model"]), device)
    assert not dyn["isSupportedOnMcu"] and "dynamic-range" in dyn["mcuSupportError"]
    with pytest.raises(TypeError, match="microcontroller"):
        lei.offline_profile(course["i8"], hardware.load_catalog()["rpi5"])


@pytest.mark.slow
def test_edge_impulse_sdk_path_against_a_local_endpoint(course, monkeypatch):
    """upload → profile → deploy through the real edgeimpulse SDK, answered on 127.0.0.1;
    the offline profile has the same fields, of the same types, as Edge Impulse's."""
    from edgeimpulse_api import ProfileModelInfo
    from ei_fake import FakeEdgeImpulse

    from labkit.gestures import dataset_dir

    monkeypatch.delenv("EI_API_KEY", raising=False)
    with pytest.raises(ValueError, match="EI_API_KEY"):
        lei.profile(course["i8"])
    with FakeEdgeImpulse() as fake:
        monkeypatch.setenv("EI_API_KEY", "ei_test_key")
        monkeypatch.setenv("EI_API_ENDPOINT", f"{fake.url}/v1")
        monkeypatch.setenv("EI_INGESTION_ENDPOINT", fake.url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
        files = sorted(dataset_dir().glob("*.json"))
        assert lei.upload_directory(dataset_dir()) == (len(files), 0)
        assert sorted(fake.uploaded_files) == [p.name for p in files]

        online = lei.profile(course["i8"])
        assert course["i8"] in fake.model_bytes  # the .tflite bytes went up
        assert online["memory"]["tflite"]["ram"] == fake.profile_numbers["ram"]
        archive = lei.deploy(course["i8"], [str(i) for i in range(10)])
        assert zipfile.ZipFile(io.BytesIO(archive)).namelist() == ["tflite-model/tflite_learn_1.cpp"]
        assert ("POST", "/v1/api/1/jobs/build-ondevice-model") in fake.requests

    offline = lei.offline_profile(course["i8"], hardware.load_catalog()["nrf52840"])
    ProfileModelInfo.from_dict(offline)  # a valid ProfileModelInfo
    for field in lei.PROFILE_FIELDS:
        assert field in online and field in offline, field
        assert type(online[field]) is type(offline[field]), field
    assert set(offline["memory"]["tflite"]) == set(online["memory"]["tflite"])
    assert lei.profile_summary(offline).keys() == lei.profile_summary(online).keys()
