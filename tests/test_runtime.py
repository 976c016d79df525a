"""labkit.runtime against the real things: Keras, the LiteRT interpreter and TFLite Micro."""

from __future__ import annotations

import numpy as np
import pytest

from labkit import convert as lc
from labkit import runtime


@pytest.fixture(scope="module")
def digits():
    from labkit.data import load_digits

    return load_digits(8)


@pytest.fixture(scope="module")
def trained(digits):
    """A tiny CNN on 8×8 digits, trained for a couple of seconds."""
    from labkit._tf import load

    _, keras = load()
    keras.utils.set_random_seed(0)
    layers = keras.layers
    model = keras.Sequential([keras.Input((8, 8, 1)),
                              layers.Conv2D(8, 3, padding="same", activation="relu"),
                              layers.MaxPooling2D(), layers.Flatten(),
                              layers.Dense(10, activation="softmax")])
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(digits.x_train, digits.y_train, epochs=8, batch_size=32, verbose=0)
    return model


@pytest.fixture(scope="module")
def variants(trained, digits):
    models = {v: lc.convert(trained, v, x_calib=digits.x_train[:200]) for v in lc.VARIANTS}
    return models


def test_evaluate_float32_matches_keras(trained, variants, digits):
    keras_acc = trained.evaluate(digits.x_test, digits.y_test, verbose=0)[1]
    acc = runtime.evaluate(variants["float32"], digits.x_test, digits.y_test)
    assert abs(acc - keras_acc) <= 1 / len(digits.y_test) + 1e-9
    assert acc > 0.85


def test_predict_float32_matches_keras_outputs(trained, variants, digits):
    expected = trained.predict(digits.x_test, verbose=0)
    np.testing.assert_allclose(runtime.predict(variants["float32"], digits.x_test), expected,
                               atol=1e-5)


def test_predict_int8_quantizes_inputs_and_dequantizes_outputs(trained, variants, digits):
    from ai_edge_litert.interpreter import Interpreter

    model_bytes = variants["int8"]
    x = digits.x_test[:5]
    # by hand: quantize with the input's scale/zero point, run, dequantize the output
    interp = Interpreter(model_content=model_bytes)
    interp.allocate_tensors()
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    (s_in, z_in), (s_out, z_out) = inp["quantization"], out["quantization"]
    by_hand = []
    for sample in x:
        q = np.clip(np.round(sample / s_in) + z_in, -128, 127).astype(np.int8)
        interp.set_tensor(inp["index"], q[None])
        interp.invoke()
        by_hand.append((interp.get_tensor(out["index"]).astype(np.float32) - z_out) * s_out)
    got = runtime.predict(model_bytes, x)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, np.concatenate(by_hand), atol=1e-6)
    # and it approximates the float model within a few output steps
    np.testing.assert_allclose(got, trained.predict(x, verbose=0), atol=0.05)


def test_int8_accuracy_close_to_float(variants, digits):
    accs = {v: runtime.evaluate(variants[v], digits.x_test, digits.y_test) for v in variants}
    for variant in ("dynamic_range", "float16", "int8"):
        assert abs(accs[variant] - accs["float32"]) <= 0.03, accs


@pytest.mark.parametrize("batch_size", [1, 7, 1000])
def test_predict_batches_and_padding_do_not_change_results(variants, digits, batch_size):
    x = digits.x_test[:23]
    reference = runtime.predict(variants["int8"], x, batch_size=256)
    np.testing.assert_array_equal(runtime.predict(variants["int8"], x, batch_size=batch_size),
                                  reference)


def test_benchmark_fields_and_repr(variants):
    stats = runtime.benchmark(variants["int8"], threads=2, warmup=2, runs=30)
    assert stats.count == 30 and stats.threads == 2
    assert 0 < stats.min_ms <= stats.p10_ms <= stats.median_ms <= stats.p90_ms
    assert stats.mean_ms > 0
    assert set(stats.as_dict()) == {"median_ms", "p10_ms", "p90_ms", "mean_ms", "min_ms",
                                    "count", "threads"}
    assert "median" in repr(stats) and "ms" in repr(stats) and "2 threads" in repr(stats)


def test_describe_finds_int8_weights_and_io_quantization(variants):
    report = runtime.describe(variants["int8"])
    assert report.weight_dtypes == {"int8"}
    assert "float32" not in report.tensors_by_dtype
    assert report.inputs[0].dtype == report.outputs[0].dtype == "int8"
    assert report.inputs[0].scales and not report.inputs[0].per_channel
    assert {"CONV_2D", "FULLY_CONNECTED"} <= set(report.ops)
    kernels = [t for t in report.constants if t.role.endswith("weights")]
    assert kernels and all(t.per_channel for t in kernels)
    assert report.param_bytes_by_dtype["int8"] == sum(t.size_bytes for t in report.constants
                                                      if t.dtype == "int8")
    assert "| CONV_2D #1 weights | int8 |" in report.table()
    assert "int8" in repr(report) and "ops:" in repr(report)


def test_describe_shows_what_each_converter_setting_changed(variants):
    f32, dyn, f16 = (runtime.describe(variants[v]) for v in ("float32", "dynamic_range",
                                                             "float16"))
    assert f32.weight_dtypes == {"float32"}
    # the converter keeps tensors under 1024 values (here the first kernel) in float32
    assert "int8" in dyn.weight_dtypes and dyn.inputs[0].dtype == "float32"
    assert f16.weight_dtypes == {"float16"} and "DEQUANTIZE" in f16.ops
    assert f16.param_bytes_by_dtype["float16"] * 2 == pytest.approx(
        f32.param_bytes_by_dtype["float32"], rel=0.01)


def test_read_constant_returns_stored_int8_kernel(trained, variants):
    report = runtime.describe(variants["int8"])
    kernel_info = next(t for t in report.constants if t.role == "CONV_2D #1 weights")
    stored = runtime.read_constant(variants["int8"], kernel_info)
    assert stored.dtype == np.int8 and stored.shape == kernel_info.shape
    kernel = trained.layers[0].get_weights()[0]  # (kh, kw, c_in, c_out)
    dequantized = stored * np.asarray(kernel_info.scales)[:, None, None, None]
    np.testing.assert_allclose(dequantized.transpose(1, 2, 3, 0), kernel,
                               atol=max(kernel_info.scales) / 2 + 1e-7)
    with pytest.raises(ValueError, match="not a constant"):
        runtime.read_constant(variants["int8"], report.inputs[0])


def test_micro_refuses_dynamic_range_and_float16_with_a_reason(variants):
    ok, reason = runtime.runs_on_micro(variants["dynamic_range"])
    assert ok is False and "dynamic-range" in reason and "TFLite Micro said" in reason
    support = runtime.runs_on_micro(variants["float16"])
    assert not support and "float16" in support.reason
    assert "refused" in repr(support)


def test_micro_runs_int8_and_float32(variants):
    assert runtime.runs_on_micro(variants["int8"])
    assert runtime.runs_on_micro(variants["float32"]).ok


def test_run_micro_matches_litert(variants, digits):
    x = digits.x_test[:10]
    for variant, atol in (("int8", 1 / 256 + 1e-6), ("float32", 1e-5)):
        np.testing.assert_allclose(runtime.run_micro(variants[variant], x),
                                   runtime.predict(variants[variant], x), atol=atol)
    with pytest.raises(runtime.MicroError, match="float16"):
        runtime.run_micro(variants["float16"], x)


def test_gzip_size(variants):
    assert 0 < runtime.gzipped_size_bytes(variants["float32"]) < len(variants["float32"])


@pytest.mark.parametrize("bad, error", [
    ("model.tflite", TypeError), (b"not a model at all", ValueError), (None, TypeError),
])
def test_model_bytes_are_checked(bad, error, digits):
    for call in (lambda: runtime.evaluate(bad, digits.x_test, digits.y_test),
                 lambda: runtime.benchmark(bad), lambda: runtime.describe(bad),
                 lambda: runtime.runs_on_micro(bad)):
        with pytest.raises(error):
            call()


def test_inputs_are_checked(variants, digits):
    with pytest.raises(ValueError, match="shape"):
        runtime.predict(variants["float32"], digits.x_test[:, :4])
    with pytest.raises(ValueError, match="same length"):
        runtime.evaluate(variants["float32"], digits.x_test, digits.y_test[:3])
    with pytest.raises(ValueError, match=">= 1"):
        runtime.benchmark(variants["float32"], threads=0)


# --------------------------------------------------------------------------------------
# The backend interface
# --------------------------------------------------------------------------------------

def test_backend_interface_is_four_methods():
    assert runtime.Backend.__abstractmethods__ == {"load", "predict", "benchmark", "describe"}

    class Half(runtime.Backend):  # a backend that forgot benchmark and describe
        name = "half"

        def load(self, model_bytes, *, threads=None):
            return model_bytes

        def predict(self, handle, x):
            return np.zeros(len(x), np.float32)

    with pytest.raises(TypeError, match="abstract"):
        Half()
    assert not hasattr(runtime, "inspect")  # renamed: it shadowed the standard library's inspect


@pytest.mark.parametrize("name", sorted(runtime.BACKENDS))
def test_each_backend_satisfies_the_interface(name, variants, digits):
    backend = runtime.get_backend(name)
    assert isinstance(backend, runtime.Backend) and backend.name == name
    assert repr(backend).startswith(type(backend).__name__ + "(")
    for variant in ("float32", "int8"):
        handle = backend.load(variants[variant], threads=1)
        out = backend.predict(handle, digits.x_test[:5])
        assert out.dtype == np.float32 and out.shape == (5, 10), (variant, out.shape)
        stats = backend.benchmark(handle, warmup=1, runs=5)
        assert isinstance(stats, runtime.LatencyStats)
        assert stats.count == 5 and stats.threads == 1 and 0 < stats.min_ms <= stats.median_ms
        report = backend.describe(variants[variant])
        assert isinstance(report, runtime.ModelReport)
        assert report.inputs[0].dtype == variant
    with pytest.raises(TypeError):
        backend.load("model.tflite")


def test_litert_and_micro_agree_on_an_int8_model(variants, digits):
    x = digits.x_test[:60]
    outputs = {}
    for backend in (runtime.LiteRT(batch_size=16), runtime.Micro()):
        outputs[backend.name] = backend.predict(backend.load(variants["int8"]), x)
    step = runtime.describe(variants["int8"]).outputs[0].scales[0]  # one int8 output step
    # same int8 kernels: at most one step apart (rounding inside XNNPACK vs the reference kernels)
    np.testing.assert_allclose(outputs["micro"], outputs["litert"], atol=step + 1e-6, rtol=0)
    agree = np.mean(outputs["micro"].argmax(-1) == outputs["litert"].argmax(-1))
    assert agree >= 0.98, agree


def test_micro_backend_refuses_with_a_backend_error(variants):
    assert issubclass(runtime.MicroError, runtime.BackendError)
    with pytest.raises(runtime.BackendError, match="dynamic-range"):
        runtime.Micro().load(variants["dynamic_range"])
    with pytest.raises(ValueError, match="one core"):
        runtime.Micro().load(variants["int8"], threads=2)
    with pytest.raises(ValueError, match="arena_size"):
        runtime.Micro(arena_size=10)


def test_benchmark_models_runs_on_another_backend(variants):
    files = {v: variants[v] for v in ("float32", "int8")}
    latency = runtime.benchmark_models(files, rounds=2, warmup=1, runs=5, backend=runtime.Micro())
    assert list(latency) == ["float32", "int8"] and all(s.count == 5 for s in latency.values())
    with pytest.raises(TypeError, match="backend"):
        runtime.benchmark(variants["int8"], backend="micro")
    with pytest.raises(ValueError, match="must be one of"):
        runtime.get_backend("onnxruntime")


def test_quantized_io_helpers_are_plain_functions_of_one_module():
    """The grader blocks them by their defining module (02.quantize, 02.dequantize)."""
    import ast
    import inspect
    from pathlib import Path

    from labkit.runtime import tensors

    for fn in (runtime._to_input, runtime._from_output):
        assert fn.__module__ == "labkit.runtime.tensors" and getattr(tensors, fn.__name__) is fn
        tree = ast.parse(Path(inspect.getsourcefile(tensors)).read_text())
        assert fn.__name__ in {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
