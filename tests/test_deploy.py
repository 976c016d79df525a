"""labkit.deploy: windows, spectral features against the physics, structured pruning against the
original model, the arena search against TFLite Micro, the C array compiled by the host compiler
and written back byte for byte, the generated main.cc's op list, streams, and the budget."""

from __future__ import annotations

import functools
import re

import numpy as np
import pytest

from labkit import convert, deploy, gestures, runtime
from labkit.data import load_gestures

# --------------------------------------------------------------------------------------
# Models shared by the tests (small, untrained unless said otherwise)
# --------------------------------------------------------------------------------------


@functools.cache
def _cnn(width: int = 4, length: int = 100):
    return deploy.build_gesture_cnn((length, 3), width=width, seed=1)


@functools.cache
def _int8_cnn(width: int = 4, length: int = 100) -> bytes:
    rng = np.random.default_rng(0)
    return convert.convert_int8(_cnn(width, length),
                                rng.normal(0, 4, (32, length, 3)).astype(np.float32))


@functools.cache
def _float_dense() -> bytes:
    from labkit._tf import load

    _, keras = load()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((30,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(4, activation="softmax")])
    return convert.convert_float32(model)


# --------------------------------------------------------------------------------------
# Windows and recordings
# --------------------------------------------------------------------------------------


def test_sliding_windows_count_stride_and_content():
    values = np.arange(625 * 3, dtype=np.float64).reshape(625, 3)
    windows = deploy.sliding_windows(values, 125, 31)
    assert windows.shape == ((625 - 125) // 31 + 1, 125, 3) and windows.dtype == np.float32
    for i, start in enumerate(deploy.window_starts(625, 125, 31)):
        np.testing.assert_array_equal(windows[i], values[start:start + 125])
    assert deploy.window_starts(125, 125, 7).tolist() == [0]


def test_fresh_recordings_reproduce_the_shipped_files():
    shipped = {r.name: r for r in gestures.generate_recordings(per_class=16, subjects=8)}
    for rec in deploy.fresh_recordings([1, 2]):
        np.testing.assert_array_equal(rec.values, shipped[rec.name].values)
    names = {r.name for r in deploy.fresh_recordings([6])}
    assert not names & {p.stem for p in gestures.dataset_dir().glob("*.json")}


def test_windows_of_labels_every_window():
    recs = deploy.fresh_recordings([7])[:8]
    x, y = deploy.windows_of(recs, 125, 62)
    assert x.shape == (8 * 9, 125, 3)
    assert y.tolist() == [gestures.CLASSES.index(r.label) for r in recs for _ in range(9)]


# --------------------------------------------------------------------------------------
# Spectral features
# --------------------------------------------------------------------------------------


def _features_by_hand(window: np.ndarray, n_bands: int) -> np.ndarray:
    out = []
    for column in window.T:
        d = column - column.mean()
        power = np.abs(np.fft.rfft(d)) ** 2 / len(d)
        bins = np.arange(1, len(d) // 2 + 1)
        out += [column.mean(), np.sqrt(np.mean(d * d))]
        out += [power[g].sum() for g in np.array_split(bins, n_bands)]
    return np.array(out)


@pytest.mark.parametrize("length,n_bands", [(125, 8), (64, 32), (33, 1), (100, 7)])
def test_spectral_features_follow_the_definition(length, n_bands):
    rng = np.random.default_rng(length)
    window = rng.normal(0, 1, (length, 3)) + [0.0, 3.0, 9.81]
    got = deploy.spectral_features(window, n_bands)
    assert got.shape == (3 * (2 + n_bands),) and got.dtype == np.float64
    np.testing.assert_allclose(got, _features_by_hand(window, n_bands), rtol=1e-12, atol=1e-12)
    batch = deploy.spectral_features_batch(np.stack([window, 2 * window]), n_bands)
    np.testing.assert_allclose(batch[0], got, rtol=1e-12)
    assert len(deploy.feature_names(n_bands)) == got.size


def test_band_powers_add_up_to_the_variance():
    """Parseval: for odd L, mean(d²) = 2 · Σ bands / L (every bin but DC appears twice)."""
    rng = np.random.default_rng(3)
    window = rng.normal(0, 2, (125, 3)) + 9.81
    f = deploy.spectral_features(window, 5).reshape(3, -1)
    np.testing.assert_allclose(f[:, 1] ** 2, 2 * f[:, 2:].sum(axis=1) / 125, rtol=1e-10)


def test_a_sine_lands_in_its_band():
    t = np.arange(128) / 128
    window = np.stack([np.sin(2 * np.pi * 40 * t)] * 3, axis=1)
    bands = deploy.spectral_features(window, 4).reshape(3, -1)[:, 2:]
    assert (np.argmax(bands, axis=1) == 2).all()  # bins 33..48 of 1..64


@pytest.mark.parametrize("call,match", [
    (lambda: deploy.spectral_features(np.zeros(10), 2), "window"),
    (lambda: deploy.spectral_features(np.zeros((10, 3)), 6), "n_bands"),
    (lambda: deploy.spectral_features(np.zeros((10, 3)), 2.0), "n_bands"),
    (lambda: deploy.spectral_features_batch(np.zeros((10, 3)), 2), "windows"),
    (lambda: deploy.sliding_windows(np.zeros((10, 3)), 11, 1), "window_len"),
    (lambda: deploy.sliding_windows(np.zeros((10, 3)), 4, 0), "stride"),
    (lambda: deploy.smooth(np.zeros((4, 2)), 0), "k"),
    (lambda: deploy.to_c_array(b"\x1c\x00\x00\x00TFL3", "1model"), "name"),
    (lambda: deploy.to_c_array("model.tflite", "g_model"), "model_bytes"),
    (lambda: deploy.to_c_array(b"not a model", "g_model"), "model_bytes"),
    (lambda: deploy.fresh_recordings([0]), "repetitions"),
])
def test_bad_arguments_are_named(call, match):
    with pytest.raises((TypeError, ValueError), match=match):
        call()


# --------------------------------------------------------------------------------------
# Models and structured pruning
# --------------------------------------------------------------------------------------


def test_gesture_cnn_removes_gravity_and_converts_to_micro_ops():
    model = _cnn()
    x = np.random.default_rng(0).normal(0, 1, (4, 100, 3)).astype(np.float32)
    np.testing.assert_allclose(model.predict(x, verbose=0), model.predict(x + [0, 0, 9.81],
                                                                           verbose=0), atol=1e-5)
    ops = runtime.describe(_int8_cnn()).ops
    assert {"MEAN", "SUB", "CONV_2D", "FULLY_CONNECTED", "SOFTMAX"} <= set(ops)
    assert runtime.runs_on_micro(_int8_cnn())


def test_slim_cnn_computes_the_original_with_the_other_filters_zeroed():
    model = deploy.build_gesture_cnn((100, 3), width=8, seed=2)
    x = np.random.default_rng(1).normal(0, 3, (8, 100, 3)).astype(np.float32)
    same = deploy.slim_gesture_cnn(model, 1.0)
    np.testing.assert_allclose(same.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    slim = deploy.slim_gesture_cnn(model, 0.5)
    assert [slim.get_layer(f"conv{i}").filters for i in (1, 2, 3)] == [4, 8, 8]
    zeroed = deploy.build_gesture_cnn((100, 3), width=8, seed=2)
    zeroed.set_weights(model.get_weights())
    previous = None
    for i in (1, 2, 3):
        small = slim.get_layer(f"conv{i}").get_weights()[0]
        kernel, bias = zeroed.get_layer(f"conv{i}").get_weights()
        source = kernel if previous is None else kernel[:, previous, :]
        keep = [int(np.argmin(np.abs(source - small[..., [j]]).sum(axis=(0, 1))))
                for j in range(small.shape[-1])]
        mask = np.zeros(kernel.shape[-1], bool)
        mask[keep] = True
        kernel[..., ~mask], bias[~mask] = 0.0, 0.0
        zeroed.get_layer(f"conv{i}").set_weights([kernel, bias])
        previous = np.flatnonzero(mask)
    np.testing.assert_allclose(slim.predict(x, verbose=0), zeroed.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    assert model.get_layer("conv1").filters == 8  # the original is untouched


def test_zoo_knows_the_gesture_cnn():
    from labkit import zoo

    assert "gesture_cnn" in zoo.BUILDERS
    assert deploy.GESTURE_CNN.builder == "gesture_cnn" and deploy.GESTURE_CNN.dataset == "gestures"


# --------------------------------------------------------------------------------------
# Memory
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", [_int8_cnn, _float_dense], ids=["int8 cnn", "float32 dense"])
def test_minimum_arena_is_the_boundary(model):
    model_bytes = model()
    smallest = deploy.minimum_arena_bytes(model_bytes)
    assert deploy.arena_fits(model_bytes, smallest)
    assert not deploy.arena_fits(model_bytes, smallest - 1)
    assert all(deploy.arena_fits(model_bytes, smallest + k) for k in (1, 7, 100, 4096))
    assert deploy.minimum_arena_bytes(model_bytes) == smallest  # repeatable
    x = np.zeros((1, *runtime.describe(model_bytes).inputs[0].shape[1:]), np.float32)
    assert runtime.run_micro(model_bytes, x, arena_size=max(1024, smallest)).shape[0] == 1


def test_int8_needs_a_smaller_arena_than_float32():
    model = _cnn(8, 125)
    f32 = convert.convert_float32(model)
    assert deploy.minimum_arena_bytes(_int8_cnn(8, 125)) < deploy.minimum_arena_bytes(f32)
    assert deploy.flash_bytes(f32) == len(f32) + deploy.RUNTIME_FLASH_BYTES


# --------------------------------------------------------------------------------------
# C source: compiled and written back
# --------------------------------------------------------------------------------------

needs_compiler = pytest.mark.skipif(deploy.cxx_compiler() is None, reason="no C++ compiler")


@needs_compiler
@pytest.mark.parametrize("size", [8, 15, 16, 17, 1000])
def test_c_array_compiles_and_round_trips_byte_for_byte(size, tmp_path):
    rng = np.random.default_rng(size)
    data = b"\x1c\x00\x00\x00TFL3" + rng.integers(0, 256, size - 8, dtype=np.uint8).tobytes()
    back = deploy.compile_roundtrip(deploy.to_c_array(data, "g_blob"), "g_blob", workdir=tmp_path)
    assert back.data == data and back.length == len(data) and back.address_mod_alignment == 0


@needs_compiler
def test_a_real_model_round_trips_and_reads_back():
    model_bytes = _int8_cnn()
    source = deploy.to_c_array(model_bytes, "g_gesture_model")
    assert deploy.compile_roundtrip(source, "g_gesture_model").data == model_bytes
    found = deploy.read_c_array(source, "g_gesture_model")
    assert (found.data, found.alignment, found.length, found.exported) == (
        model_bytes, 16, len(model_bytes), True)


@needs_compiler
def test_file_local_array_does_not_link(tmp_path):
    source = deploy.to_c_array(b"\x1c\x00\x00\x00TFL3", "g_m")
    local = "\n".join(line for line in source.splitlines() if not line.startswith("extern"))
    assert not deploy.read_c_array(local, "g_m").exported
    with pytest.raises(RuntimeError, match="could not build"):
        deploy.compile_roundtrip(local, "g_m", workdir=tmp_path)


def test_read_c_array_accepts_the_other_spellings():
    data = b"\x1c\x00\x00\x00TFL3\xff"
    source = ("/* decimal values, uint8_t, GCC's attribute, sizeof */\n"
              "extern const uint8_t m[]; extern const unsigned int m_len;\n"
              "const uint8_t m[] __attribute__((aligned(32))) = {"
              + ", ".join(str(b) for b in data) + "};\n"
              "const unsigned int m_len = sizeof(m);  // the length\n")
    found = deploy.read_c_array(source, "m")
    assert (found.data, found.alignment, found.length, found.length_is_sizeof, found.exported) \
        == (data, 32, len(data), True, True)


@pytest.mark.parametrize("edit,field,value", [
    (lambda s: s.replace("alignas(16) ", ""), "alignment", None),
    (lambda s: s.replace("alignas(16)", "alignas(8)"), "alignment", 8),
    (lambda s: s.replace("g_len = 9;", "g_len = 10;"), "length", 10),
    (lambda s: s.replace("alignas(16) const", "static alignas(16) const"), "exported", False),
])
def test_read_c_array_sees_the_mistakes(edit, field, value):
    source = edit(deploy.to_c_array(b"\x1c\x00\x00\x00TFL3\x01", "g"))
    assert getattr(deploy.read_c_array(source, "g"), field) == value


def test_read_c_array_refuses_what_is_not_a_byte_array():
    with pytest.raises(ValueError, match="no definition"):
        deploy.read_c_array("int x = 3;", "g_model")
    with pytest.raises(ValueError, match="0..255"):
        deploy.read_c_array("const unsigned char g[] = {256};", "g")
    with pytest.raises(ValueError, match="const unsigned char"):
        deploy.read_c_array("float g[] = {1};", "g")


def test_c_header_declares_what_the_array_defines():
    header = deploy.c_header("g_model")
    assert "extern const unsigned char g_model[];" in header
    assert "extern const unsigned int g_model_len;" in header
    assert header.startswith("#ifndef G_MODEL_H_")


# --------------------------------------------------------------------------------------
# main.cc: exactly the model's operators
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", [_int8_cnn, _float_dense], ids=["int8 cnn", "float32 dense"])
def test_resolver_ops_are_the_models_ops(model):
    model_bytes = model()
    ops = runtime.describe(model_bytes).ops
    pairs = deploy.resolver_ops(model_bytes)
    assert [op for op, _ in pairs] == list(ops)
    assert all(re.fullmatch(r"Add[A-Z]\w*", method) for _, method in pairs)


def test_main_cc_registers_exactly_the_models_ops():
    model_bytes = _int8_cnn()
    main = deploy.micro_main_cc(model_bytes, model_name="g_gesture_model")
    size, methods = deploy.registered_ops(main)
    expected = [method for _, method in deploy.resolver_ops(model_bytes)]
    assert methods == expected and len(set(methods)) == len(methods)
    assert size == len(runtime.describe(model_bytes).ops) == len(methods)
    arena = int(re.search(r"kTensorArenaSize = (\d+);", main).group(1))
    assert arena % 16 == 0 and arena >= deploy.minimum_arena_bytes(model_bytes) > arena - 16
    assert '#include "g_gesture_model.h"' in main and "GetModel(g_gesture_model)" in main
    assert "alignas(16) uint8_t tensor_arena" in main


def test_main_cc_names_the_int8_requirement():
    with pytest.raises(ValueError, match="full-int8"):
        deploy.micro_main_cc(_float_dense())


def test_op_table_comes_from_the_tflite_micro_header():
    import json

    table = json.loads(deploy.export.MICRO_OPS_PATH.read_text())
    assert table["source"]["path"].endswith("micro_mutable_op_resolver.h")
    methods = table["methods"]
    assert methods["CONV_2D"] == "AddConv2D" and methods["FULLY_CONNECTED"] == "AddFullyConnected"
    assert methods["MEAN"] == "AddMean" and len(methods) >= 90


# --------------------------------------------------------------------------------------
# Continuous inference
# --------------------------------------------------------------------------------------


def test_smooth_is_a_causal_moving_average():
    rng = np.random.default_rng(0)
    p = rng.random((10, 4))
    got = deploy.smooth(p, 3)
    for t in range(10):
        np.testing.assert_allclose(got[t], p[max(0, t - 2):t + 1].mean(axis=0))
    np.testing.assert_allclose(deploy.smooth(p, 1), p)


def test_stream_predictions_cover_the_recording():
    values = deploy.fresh_recordings([8])[1].values
    stream = deploy.stream_predictions(_int8_cnn(), values, stride=25, k=4)
    n = (625 - 100) // 25 + 1
    assert stream.raw.shape == (n, 4) and stream.smoothed.shape == (n, 4)
    np.testing.assert_allclose(stream.times_s, (np.arange(n) * 25 + 100) / 62.5)
    np.testing.assert_allclose(stream.smoothed, deploy.smooth(stream.raw.astype(float), 4))


# --------------------------------------------------------------------------------------
# The budget: a plain model misses, the optimized one makes it
# --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_budget_is_missed_by_the_plain_models_and_met_by_the_reference():
    from labkit import hardware, zoo

    data = load_gestures()
    base = zoo.trained(deploy.GESTURE_CNN).model
    budget = deploy.BUDGET
    f32 = convert.convert_float32(base)
    i8 = convert.convert_int8(base, data.x_train[:256])
    for plain in (f32, i8):
        assert (len(plain) > budget.model_flash_bytes
                or deploy.minimum_arena_bytes(plain) > budget.arena_bytes)
    assert deploy.minimum_arena_bytes(i8) > budget.arena_bytes
    answer = deploy.deployable_model()
    assert hardware.model_precision(answer) == "int8"
    assert len(answer) <= budget.model_flash_bytes
    assert deploy.minimum_arena_bytes(answer) <= budget.arena_bytes
    x, y = deploy.windows_of(deploy.fresh_recordings(list(range(20, 28))), 125, 62)
    acc = np.mean(np.argmax(runtime.run_micro(answer, x), axis=1) == y)
    assert acc >= budget.accuracy + 0.01, acc
