"""labkit.validate: the one rule (TypeError for the kind, ValueError for the value) and messages
that name the argument, show what was given and say what is expected."""

from __future__ import annotations

import re
import types
from pathlib import Path

import numpy as np
import pytest

from labkit import validate as v

# --------------------------------------------------------------------------------------
# check_int
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 7, np.int8(7), np.uint64(7), 10**20])
def test_check_int_accepts_integers_and_returns_int(value):
    got = v.check_int(value, "n")
    assert type(got) is int and got == int(value)


@pytest.mark.parametrize("value, text", [
    (True, "got bool True; a bool is not a count"), (np.bool_(False), "got bool False"),
    (2.0, "got float 2.0; pass 2"), (2.5, "got float 2.5"), ("3", "got str '3'"),
    (None, "got NoneType None"), (np.array(3), "got an array of dtype int64 and shape ()"),
])
def test_check_int_refuses_other_kinds(value, text):
    with pytest.raises(TypeError, match="epochs must be an int") as info:
        v.check_int(value, "epochs")
    assert text in str(info.value)


@pytest.mark.parametrize("kwargs, value, text", [
    ({"low": 1}, 0, "runs must be >= 1, got 0"),
    ({"high": 9}, 10, "runs must be <= 9, got 10"),
    ({"low": 1, "high": 9}, 10, "runs must be between 1 and 9, got 10"),
    ({"low": 1, "hint": "time at least one run"}, -5, "got -5; time at least one run"),
])
def test_check_int_range(kwargs, value, text):
    with pytest.raises(ValueError) as info:
        v.check_int(value, "runs", **kwargs)
    assert text in str(info.value)
    assert v.check_int(5, "runs", **{k: b for k, b in kwargs.items() if k != "hint"}) == 5


# --------------------------------------------------------------------------------------
# check_real
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 1.5, np.float32(0.25), np.int64(3), -1e300])
def test_check_real_accepts_reals(value):
    got = v.check_real(value, "x")
    assert type(got) is float and got == float(value)


@pytest.mark.parametrize("value", [True, "1.0", None, 1j, [1.0], np.array([1.0])])
def test_check_real_refuses_other_kinds(value):
    with pytest.raises(TypeError, match="x must be a real number, got"):
        v.check_real(value, "x")


def test_check_real_refuses_nan_and_inf_unless_allowed():
    for bad in (float("nan"), np.float32("nan"), float("inf"), -np.inf):
        with pytest.raises(ValueError, match="x_min must be finite"):
            v.check_real(bad, "x_min")
    assert np.isnan(v.check_real(float("nan"), "x", allow_nan=True, low=0))
    assert v.check_real(float("inf"), "x", allow_inf=True, high=1) == float("inf")
    with pytest.raises(ValueError):
        v.check_real(float("nan"), "x", allow_inf=True)


@pytest.mark.parametrize("include, low_ok, high_ok, text", [
    ("both", True, True, ">= 0 and <= 1"), ("low", True, False, ">= 0 and < 1"),
    ("high", False, True, "> 0 and <= 1"), ("neither", False, False, "> 0 and < 1"),
])
def test_check_real_bounds(include, low_ok, high_ok, text):
    for value, ok in ((0, low_ok), (1, high_ok), (0.5, True), (-0.1, False), (1.1, False)):
        if ok:
            assert v.check_real(value, "p", low=0, high=1, include=include) == value
        else:
            with pytest.raises(ValueError, match=f"p must be {text}, got"):
                v.check_real(value, "p", low=0, high=1, include=include)


def test_check_real_words_units_and_hints():
    with pytest.raises(TypeError, match="window_s must be a number of seconds, got str '2'"):
        v.check_real("2", "window_s", what="a number of seconds")
    with pytest.raises(ValueError, match="window_s must be > 0 and <= 10 s, got 12; too long"):
        v.check_real(12, "window_s", low=0, high=10, include="high", unit="s", hint="too long")
    with pytest.raises(ValueError, match="include must be one of"):
        v.check_real(1, "x", include="left")


# --------------------------------------------------------------------------------------
# check_fraction and check_sparsity
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("interval, zero, one", [
    ("[0, 1]", True, True), ("[0, 1)", True, False), ("(0, 1]", False, True),
    ("(0, 1)", False, False),
])
def test_check_fraction_intervals(interval, zero, one):
    assert v.check_fraction(0.5, "f", interval=interval) == 0.5
    for value, ok in ((0, zero), (1, one)):
        if ok:
            assert v.check_fraction(value, "f", interval=interval) == value
        else:
            with pytest.raises(ValueError, match=re.escape(f"f must be a fraction in {interval}")):
                v.check_fraction(value, "f", interval=interval)


@pytest.mark.parametrize("value, hint", [
    (90, "for 90 % pass 0.9, not 90"), (99.5, "for 99.5 % pass 0.995, not 99.5"),
    (100, "for 100 % pass 1, not 100"), (np.int64(50), "for 50 % pass 0.5, not 50"),
])
def test_check_fraction_explains_percentages(value, hint):
    with pytest.raises(ValueError) as info:
        v.check_fraction(value, "target", interval="[0, 1]")
    assert str(info.value).endswith(hint)


@pytest.mark.parametrize("value", [-0.1, 101, float("nan"), float("inf")])
def test_check_fraction_other_bad_values_are_not_called_percentages(value):
    with pytest.raises(ValueError, match=r"target must be a fraction in \[0, 1\]") as info:
        v.check_fraction(value, "target", interval="[0, 1]", hint="0.5 is half")
    assert "%" not in str(info.value) and str(info.value).endswith("0.5 is half")


def test_check_fraction_kind_and_interval_are_checked():
    for value in (True, "0.5", None, [0.5]):
        with pytest.raises(TypeError, match=r"dropout must be a number, a fraction in \[0, 1\)"):
            v.check_fraction(value, "dropout", interval="[0, 1)")
    with pytest.raises(ValueError, match="interval must be one of"):
        v.check_fraction(0.5, "dropout", interval="[0, 100]")
    with pytest.raises(TypeError):
        v.check_fraction(0.5, "dropout")  # the interval is always stated


def test_check_sparsity_is_the_one_sparsity_check():
    from labkit import pruning

    assert pruning.check_sparsity is v.check_sparsity
    assert v.check_sparsity(0) == 0.0
    with pytest.raises(ValueError, match="0.9 removes 90 % of them"):
        v.check_sparsity(1.0)
    with pytest.raises(ValueError, match="final_sparsity must be a fraction in"):
        v.check_sparsity(-1, "final_sparsity")


# --------------------------------------------------------------------------------------
# check_choice
# --------------------------------------------------------------------------------------


def test_check_choice():
    assert v.check_choice("sgd", "optimizer", ("adam", "sgd")) == "sgd"
    with pytest.raises(ValueError, match="optimizer must be one of 'adam', 'sgd', got 'Adam'"):
        v.check_choice("Adam", "optimizer", ("adam", "sgd"))
    with pytest.raises(TypeError, match=r"optimizer must be one of 'adam', 'sgd' \(a string\)"):
        v.check_choice(None, "optimizer", ("adam", "sgd"))


# --------------------------------------------------------------------------------------
# check_array
# --------------------------------------------------------------------------------------


def test_check_array_returns_the_array_unchanged():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert v.check_array(x, "x") is x
    assert v.check_array([[1, 2]], "x", shape=("n", 2)).dtype.kind == "i"
    assert v.check_array([], "x", allow_empty=True).size == 0
    assert v.check_array([], "keep", kinds="iu", allow_empty=True).dtype == np.int64
    assert np.isnan(v.check_array([np.nan], "x", allow_nonfinite=True)[0])
    assert v.check_array([True, False], "correct", kinds="b", ndim=1).dtype == bool


@pytest.mark.parametrize("value, kwargs, text", [
    (None, {}, "w must be a numeric array, got None"),
    ([[1.0, 2.0], [3.0]], {}, "w must be a numeric array, got list that is not one rectangular"),
    (["a"], {}, "w must be a numeric array, got dtype <U1 (list ['a'])"),
    ([1, None], {}, "got dtype object"),
    ([True], {}, "w must be a numeric array, got dtype bool"),
    ([1.0], {"kinds": "iu"}, "w must be an integer array, got dtype float64"),
    ([1], {"kinds": "b"}, "w must be a boolean array, got dtype int64"),
    ([1j], {}, "got dtype complex128"),
    ([1.5], {"kinds": "iu", "hint": "quantize() first"}, "float64 (list [1.5]); quantize() first"),
])
def test_check_array_wrong_kind_is_a_type_error(value, kwargs, text):
    with pytest.raises(TypeError) as info:
        v.check_array(value, "w", **kwargs)
    assert text in str(info.value)


@pytest.mark.parametrize("value, kwargs, text", [
    (np.zeros(3), {"ndim": 2}, "x must be a 2-D array, got shape (3,)"),
    (np.zeros(3), {"ndim": (2, 4)}, "x must be a 2-D or 4-D array, got shape (3,)"),
    (np.zeros((2, 3)), {"shape": ("kh", "kw", "c_in", "c_out")},
     "x must be a 4-D array of shape (kh, kw, c_in, c_out), got shape (2, 3)"),
    (np.zeros((2, 3)), {"shape": ("n", 4), "hint": "one row per sample"},
     "x must have shape (n, 4), got (2, 3); one row per sample"),
    (np.zeros((3,)), {"shape": (None, 2)}, "of shape (?, 2)"),
    (np.zeros((0, 4)), {}, "x must be non-empty, got shape (0, 4); pass at least one value"),
    ([], {"kinds": "iu"}, "x must be non-empty, got shape (0,)"),
    ([1.0, np.nan, 2.0], {}, "x contains NaN or inf (first at index 1: nan)"),
    ([[1.0, 2.0], [np.inf, 0.0]], {}, "first at index (1, 0): inf"),
    (np.float64(np.nan), {}, "x contains NaN or inf (first: nan)"),
])
def test_check_array_wrong_value_is_a_value_error(value, kwargs, text):
    with pytest.raises(ValueError) as info:
        v.check_array(value, "x", **kwargs)
    assert text in str(info.value)


def test_check_array_checks_in_order_kind_then_shape_then_values():
    with pytest.raises(TypeError):  # wrong kind wins over wrong shape
        v.check_array(np.array([["a"]]), "x", ndim=1)
    with pytest.raises(ValueError, match="1-D"):  # shape before NaN
        v.check_array(np.full((2, 2), np.nan), "x", ndim=1)


# --------------------------------------------------------------------------------------
# check_keras_model (no TensorFlow: a stand-in tf_keras module)
# --------------------------------------------------------------------------------------


@pytest.fixture
def fake_tf_keras(monkeypatch):
    module = types.ModuleType("tf_keras")

    class Model:
        def __init__(self, built: bool) -> None:
            self.built = built

    module.Model = Model
    monkeypatch.setitem(__import__("sys").modules, "tf_keras", module)
    return module


def test_check_keras_model_with_a_stand_in(fake_tf_keras):
    model = fake_tf_keras.Model(built=True)
    assert v.check_keras_model(model, built=True) is model
    with pytest.raises(ValueError, match=r"model is not built; .*model.build\(input_shape\)"):
        v.check_keras_model(fake_tf_keras.Model(built=False), built=True)
    assert v.check_keras_model(fake_tf_keras.Model(built=False)) is not None
    with pytest.raises(TypeError, match="pass a model instance, not a class"):
        v.check_keras_model(fake_tf_keras.Model)


def test_check_keras_model_explains_what_was_given():
    keras3 = type("Sequential", (), {"__module__": "keras.src.models.sequential"})()
    for value, text in [(keras3, "Keras 3 model"), ("m.keras", "tf_keras.models.load_model"),
                        (Path("m.h5"), "load_model"), (None, "got NoneType None; build one"),
                        (object(), "labkit.models.build_course_cnn")]:
        with pytest.raises(TypeError, match="qat_model must be a tf_keras Model") as info:
            v.check_keras_model(value, "qat_model")
        assert text in str(info.value)


# --------------------------------------------------------------------------------------
# check_model_bytes
# --------------------------------------------------------------------------------------

TFLITE = b"\x1c\x00\x00\x00TFL3" + bytes(16)


def test_check_model_bytes():
    for ok in (TFLITE, bytearray(TFLITE), memoryview(TFLITE)):
        assert v.check_model_bytes(ok) == TFLITE and type(v.check_model_bytes(ok)) is bytes
    with pytest.raises(TypeError, match=r"a file path\? read it with Path\(path\).read_bytes"):
        v.check_model_bytes("model.tflite")
    with pytest.raises(TypeError, match="model_bytes must be the bytes of a .tflite model, got "
                                        "ndarray"):
        v.check_model_bytes(np.zeros(8, np.uint8))
    for bad in (b"", b"TFL3", b"\x00" * 4 + b"TFL2" + bytes(8)):
        with pytest.raises(ValueError, match="no 'TFL3' identifier"):
            v.check_model_bytes(bad)
