"""labkit.quantization: the numpy rules, then against what the TFLite converter stores."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labkit import quantization as lq
from labkit import runtime
from labkit.models import build_course_cnn, count_macs

# millesimal values: ranges are 0 or at least 1e-3 wide (float32 results cannot hold 1e-80)
finite = st.integers(-10**7, 10**7).map(lambda n: n / 1000)


# --------------------------------------------------------------------------------------
# Rules of affine quantization
# --------------------------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(finite, finite, st.integers(2, 16), st.booleans())
def test_zero_is_exact_and_the_range_round_trips(a, b, bits, symmetric):
    x_min, x_max = min(a, b), max(a, b)
    scale, zero_point = lq.choose_qparams(x_min, x_max, bits, symmetric)
    qmin, qmax = lq.integer_range(bits)
    assert scale > 0 and isinstance(zero_point, int) and qmin <= zero_point <= qmax
    assert lq.dequantize(lq.quantize(0.0, scale, zero_point, bits), scale, zero_point) == 0.0
    x = np.linspace(x_min, x_max, 11)
    err = np.abs(lq.dequantize(lq.quantize(x, scale, zero_point, bits), scale, zero_point) - x)
    assert np.all(err <= scale / 2 * (1 + 1e-5) + 1e-6 * np.abs(x))


def test_asymmetric_maps_the_ends_of_the_range_to_the_ends_of_the_grid():
    scale, zero_point = lq.choose_qparams(-2.0, 6.0, 8)
    assert lq.quantize(np.array([-2.0, 6.0]), scale, zero_point).tolist() == [-128, 127]
    assert lq.choose_qparams(1.0, 6.0) == lq.choose_qparams(0.0, 6.0)  # widened to contain 0
    assert lq.choose_qparams(-3.0, -1.0)[1] == 127  # all negative: 0 is the top code


def test_symmetric_uses_zero_point_zero_and_plus_minus_qmax():
    scale, zero_point = lq.choose_qparams(-1.0, 0.5, 8, symmetric=True)
    assert zero_point == 0 and scale == pytest.approx(1 / 127)
    assert lq.quantize(np.array([-1.0, 1.0]), scale, 0).tolist() == [-127, 127]


def test_zero_range_and_storage_types():
    assert lq.choose_qparams(0.0, 0.0) == (1.0, 0)
    assert lq.choose_qparams(0.0, 0.0, symmetric=True) == (1.0, 0)
    assert lq.quantize([1.0], 0.1, 0, bits=4).dtype == np.int8
    assert lq.quantize([1.0], 0.1, 0, bits=12).dtype == np.int16
    assert lq.dequantize(np.array([1], np.int8), 0.5, 0).dtype == np.float32


def test_dequantize_does_not_wrap_int8():
    q = np.array([-128, 127], dtype=np.int8)
    np.testing.assert_allclose(lq.dequantize(q, 1.0, 127), [-255.0, 0.0])


def test_per_channel_matches_per_tensor_rule_channel_by_channel():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(3, 3, 4, 6)) * np.array([0.01, 0.1, 1, 2, 5, 10])
    q, scales = lq.quantize_per_channel(w, bits=8)
    assert q.shape == w.shape and scales.shape == (6,)
    for c in range(6):
        scale, zero_point = lq.choose_qparams(w[..., c].min(), w[..., c].max(), 8,
                                              symmetric=True)
        assert zero_point == 0 and scales[c] == pytest.approx(scale)
        np.testing.assert_array_equal(q[..., c], lq.quantize(w[..., c], scale, 0))
    q0, s0 = lq.quantize_per_channel(w, bits=4, axis=0)
    assert s0.shape == (3,) and np.abs(q0).max() <= 7
    w[..., 2] = 0
    q, scales = lq.quantize_per_channel(w)
    assert scales[2] == 1.0 and not q[..., 2].any()


def test_sqnr_grows_about_6_db_per_bit():
    x = np.random.default_rng(0).uniform(-1, 1, 100_000)
    sqnr = [lq.quantization_error(x, lq.fake_quantize(x, bits))[1] for bits in (4, 8, 12)]
    slopes = np.diff(sqnr) / 4
    assert np.all(np.abs(slopes - 6.02) < 0.3), slopes
    assert lq.quantization_error(x, x) == (0.0, float("inf"))


def test_percentile_calibration_clips_outliers():
    x = np.concatenate([np.random.default_rng(0).normal(size=10_000), [40.0]])
    lo, hi = lq.percentile_range(x, 99.9)
    assert hi < 5 and lq.percentile_range(x, 100) == (float(x.min()), 40.0)
    bulk = x[:-1]
    minmax = lq.quantization_error(bulk, lq.fake_quantize(bulk, 4, x_min=x.min(), x_max=40.0))[0]
    clipped = lq.quantization_error(bulk, lq.fake_quantize(bulk, 4, x_min=lo, x_max=hi))[0]
    assert clipped < minmax / 10


@pytest.mark.parametrize("call, error", [
    (lambda: lq.choose_qparams(1.0, -1.0), ValueError),
    (lambda: lq.choose_qparams(float("nan"), 1.0), ValueError),
    (lambda: lq.choose_qparams("0", 1.0), TypeError),
    (lambda: lq.choose_qparams(0.0, 1.0, bits=1), ValueError),
    (lambda: lq.choose_qparams(0.0, 1.0, bits=8.0), TypeError),
    (lambda: lq.quantize([1.0], 0.0, 0), ValueError),
    (lambda: lq.quantize([1.0], 0.1, 300), ValueError),
    (lambda: lq.quantize([1.0], 0.1, 0.5), TypeError),
    (lambda: lq.dequantize(np.array([0.5]), 0.1, 0), TypeError),
    (lambda: lq.quantize_per_channel(np.ones((2, 3)), axis=2), ValueError),
    (lambda: lq.quantize_per_channel(1.0), ValueError),
    (lambda: lq.percentile_range([1.0], 40), ValueError),
    (lambda: lq.convert(None, "int4"), ValueError),
    (lambda: lq.convert_float32(42), TypeError),
    (lambda: lq.convert_float32("no_such_dir"), ValueError),
], ids=lambda v: "" if callable(v) else v.__name__)
def test_bad_inputs_raise_with_a_message(call, error):
    with pytest.raises(error):
        call()


# --------------------------------------------------------------------------------------
# The course CNN and the converters
# --------------------------------------------------------------------------------------

def test_course_cnn_macs_by_hand():
    model = build_course_cnn(width=4)
    conv = 32 * 32 * 9 * (1 * 4 + 4 * 8) + 16 * 16 * 9 * 8 * 16
    dense = 8 * 8 * 16 * 10
    assert count_macs(model) == conv + dense
    assert model.output_shape == (None, 10)
    with pytest.raises(ValueError, match="multiples of 4"):
        build_course_cnn((30, 30, 1))
    with pytest.raises(TypeError):
        count_macs("model")


@pytest.fixture(scope="module")
def small_cnn():
    from labkit.data import load_digits

    ds = load_digits(32)
    model = build_course_cnn(width=4, seed=1)
    model.fit(ds.x_train, ds.y_train, epochs=1, batch_size=64, verbose=0)
    return model, ds


def test_converter_int8_kernels_equal_labkits_per_channel_quantization(small_cnn):
    model, ds = small_cnn
    model_bytes = lq.convert_int8(model, ds.x_train[:100])
    report = runtime.describe(model_bytes)
    for k, layer in enumerate(("conv1", "conv2", "conv3"), start=1):
        info = next(t for t in report.constants if t.role == f"CONV_2D #{k} weights")
        stored = runtime.read_constant(model_bytes, info).transpose(1, 2, 3, 0)
        q, scales = lq.quantize_per_channel(model.get_layer(layer).get_weights()[0])
        np.testing.assert_allclose(scales, info.scales, rtol=1e-6)
        assert np.mean(stored == q) > 0.999 and np.abs(stored.astype(int) - q).max() <= 1


def test_converter_input_qparams_equal_labkits_from_calibration_range(small_cnn):
    model, ds = small_cnn
    x_calib = ds.x_train[:100]
    report = runtime.describe(lq.convert_int8(model, x_calib))
    scale, zero_point = lq.choose_qparams(float(x_calib.min()), float(x_calib.max()))
    assert report.inputs[0].scales[0] == pytest.approx(scale, rel=1e-5)
    assert report.inputs[0].zero_points[0] == zero_point


def test_qat_leaves_the_model_alone_and_converts_to_int8():
    from labkit.data import load_digits

    ds = load_digits(8)
    model = build_course_cnn((8, 8, 1), width=4, seed=1)  # small: QAT takes a few seconds
    before = [w.copy() for w in model.get_weights()]
    qat = lq.quantize_aware_train(model, ds.x_train[:256], ds.y_train[:256], epochs=1)
    assert qat is not model
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    report = runtime.describe(lq.convert_qat(qat))
    assert report.weight_dtypes == {"int8"} and report.inputs[0].dtype == "int8"


def test_int8_variant_needs_calibration_data(small_cnn):
    model, ds = small_cnn
    with pytest.raises(ValueError, match="x_calib"):
        lq.convert(model, "int8")
    with pytest.raises(ValueError, match="shape"):
        lq.convert_int8(model, ds.x_train[:10, :16])
