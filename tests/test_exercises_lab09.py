"""Lab 09's exercises: the references score full marks, correct alternative spellings do too, and
each typical mistake loses points on every one of 50 seeds (fixed cases in every test separate
the mistakes: features on the wrong axis, wrong alignment, a length off by one, the last failing
arena size, a model that misses the budget)."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from conftest import assert_caught, assert_full_marks, assert_stub_not_attempted, unguarded

from labkit import deploy
from labkit.grading.core import run_exercise
from labkit.grading.registry import get_exercise, lab_exercises


def test_lab09_registers_the_four_exercises():
    assert [e.id for e in lab_exercises("09")] == [
        "09.spectral_features", "09.to_c_array", "09.minimum_arena_bytes", "09.deployable"]
    assert sum(e.points for e in lab_exercises("09")) == 14


@pytest.mark.parametrize("exercise", lab_exercises("09")[:3], ids=lambda e: e.id)
def test_reference_scores_full_marks(exercise):
    assert_full_marks(exercise.id, unguarded(exercise.reference))


@pytest.mark.slow
def test_deployable_reference_scores_full_marks():
    reference = functools.lru_cache(maxsize=1)(get_exercise("09.deployable").reference)
    assert_full_marks("09.deployable", unguarded(reference))


@pytest.mark.parametrize("exercise", lab_exercises("09"), ids=lambda e: e.id)
def test_stub_is_not_attempted(exercise):
    assert_stub_not_attempted(exercise.id)


def test_calling_labkits_answer_scores_zero():
    def lazy(window, n_bands):
        return deploy.spectral_features_batch(np.asarray(window)[None], n_bands)[0]

    result = run_exercise(get_exercise("09.spectral_features"), [lazy], seed=0)
    assert result.score == 0 and result.stage == "reference"


# --------------------------------------------------------------------------------------
# 09.spectral_features
# --------------------------------------------------------------------------------------


def _features(window, n_bands, *, axis=0, order="axis", dc=False, power="power", ddof=0,
              rms_raw=False, split="array_split"):
    w = np.asarray(window, dtype=np.float64)
    if axis == 1:
        w = w.T
    length = len(w)
    mean = w.mean(axis=0)
    d = w - mean
    rms = np.sqrt(np.mean((w if rms_raw else d) ** 2, axis=0)) if ddof == 0 else d.std(0, ddof=1)
    spectrum = np.abs(np.fft.rfft(d, axis=0))
    p = {"power": spectrum ** 2 / length, "amplitude": spectrum, "no_norm": spectrum ** 2}[power]
    bins = np.arange(0 if dc else 1, length // 2 + 1)
    if split == "array_split":
        groups = np.array_split(bins, n_bands)
    else:  # equal groups, the remainder dropped
        size = len(bins) // n_bands
        groups = [bins[i * size:(i + 1) * size] for i in range(n_bands)]
    bands = np.stack([p[g].sum(axis=0) for g in groups], axis=1)  # (C, n_bands)
    table = np.concatenate([mean[:, None], rms[:, None], bands], axis=1)
    return (table if order == "axis" else table.T).ravel()


def test_the_by_hand_features_are_right():
    assert_full_marks("09.spectral_features", _features, seeds=range(10))


SF_MISTAKES = {
    "wrong axis": functools.partial(_features, axis=1),
    "feature-major": functools.partial(_features, order="feature"),
    "dc kept": functools.partial(_features, dc=True),
    "amplitude": functools.partial(_features, power="amplitude"),
    "not divided by L": functools.partial(_features, power="no_norm"),
    "ddof=1": functools.partial(_features, ddof=1),
    "rms of raw values": functools.partial(_features, rms_raw=True),
    "equal bands": functools.partial(_features, split="equal"),
}


@pytest.mark.parametrize("name", SF_MISTAKES)
def test_spectral_features_mistakes_are_caught(name):
    assert_caught("09.spectral_features", SF_MISTAKES[name])


def test_spectral_mistakes_are_named():
    result = run_exercise(get_exercise("09.spectral_features"), [SF_MISTAKES["feature-major"]],
                          seed=0)
    assert "feature-major" in result.message and "axis-major" in result.hint
    result = run_exercise(get_exercise("09.spectral_features"), [SF_MISTAKES["wrong axis"]],
                          seed=0)
    assert result.stage == "shape" and "axis 0" in result.hint


# --------------------------------------------------------------------------------------
# 09.to_c_array
# --------------------------------------------------------------------------------------


def _c_source(model_bytes, name, *, align="alignas(16) ", extra_len=0, extern=True, static="",
              values="hex", element="unsigned char", length="number", drop_last=False):
    data = model_bytes[:-1] if drop_last else model_bytes
    items = ", ".join(f"0x{b:02x}" if values == "hex" else str(b) for b in data)
    size = f"sizeof({name})" if length == "sizeof" else str(len(model_bytes) + extra_len)
    lines = ([f"extern const {element} {name}[];", f"extern const unsigned int {name}_len;"]
             if extern else [])
    lines += [f"{static}{align}const {element} {name}[] = {{{items}}};",
              f"const unsigned int {name}_len = {size};"]
    return "\n".join(lines)


C_RIGHT = {
    "as written": _c_source,
    "decimal uint8_t and sizeof": functools.partial(_c_source, values="decimal", element="uint8_t",
                                                    length="sizeof"),
    "gcc attribute": functools.partial(_c_source, align="__attribute__((aligned(16))) "),
    "32-byte alignment": functools.partial(_c_source, align="alignas(32) "),
}


@pytest.mark.parametrize("name", C_RIGHT)
def test_correct_c_spellings_score_full_marks(name):
    assert_full_marks("09.to_c_array", C_RIGHT[name], seeds=range(10))


C_MISTAKES = {
    "no alignment": functools.partial(_c_source, align=""),
    "alignas(8)": functools.partial(_c_source, align="alignas(8) "),
    "alignas(4)": functools.partial(_c_source, align="alignas(4) "),
    "length + 1": functools.partial(_c_source, extra_len=1),
    "length - 1": functools.partial(_c_source, extra_len=-1),
    "file-local const": functools.partial(_c_source, extern=False),
    "static": functools.partial(_c_source, static="static "),
    "last byte missing": functools.partial(_c_source, drop_last=True),
    "fixed name": lambda model_bytes, name: _c_source(model_bytes, "g_model"),
}


@pytest.mark.parametrize("name", C_MISTAKES)
def test_c_array_mistakes_are_caught(name):
    assert_caught("09.to_c_array", C_MISTAKES[name])


def test_c_mistakes_are_explained():
    ex = get_exercise("09.to_c_array")
    result = run_exercise(ex, [C_MISTAKES["length + 1"]], seed=3)
    assert "(+1)" in result.message
    result = run_exercise(ex, [C_MISTAKES["alignas(8)"]], seed=3)
    assert "alignas(8)" in result.message and "alignas(16)" in result.hint


# --------------------------------------------------------------------------------------
# 09.minimum_arena_bytes
# --------------------------------------------------------------------------------------


def _runs(model_bytes, n):
    return deploy.arena_fits(model_bytes, n)


def _bisect(model_bytes, *, answer="high", step=1):
    low, high = 0, 1024
    while not _runs(model_bytes, high):
        low, high = high, 2 * high
    if step > 1:  # a linear search in steps from the last failure
        n = low + step
        while not _runs(model_bytes, n):
            n += step
        return n
    while high - low > 1:
        middle = (low + high) // 2
        if _runs(model_bytes, middle):
            high = middle
        else:
            low = middle
    return high if answer == "high" else low


def test_a_by_hand_bisection_is_right():
    assert_full_marks("09.minimum_arena_bytes", _bisect, seeds=range(5))


# Each mistake's answer depends on the model only: computed once per model (the grader's
# randomness is in the order of the models, so every seed still grades it afresh).
ARENA_MISTAKES = {
    "last failing size": functools.partial(_bisect, answer="low"),
    "doubling only": lambda b: 1024 * 2 ** int(np.ceil(np.log2(max(1, _bisect(b) / 1024)))),
    "steps of 16": functools.partial(_bisect, step=16),
    "steps of 256": functools.partial(_bisect, step=256),
    "ten times the model": lambda b: 10 * len(b),
    "a float": lambda b: float(_bisect(b)),
}


@pytest.mark.parametrize("name", ARENA_MISTAKES)
def test_arena_mistakes_are_caught(name):
    assert_caught("09.minimum_arena_bytes", functools.lru_cache(maxsize=8)(ARENA_MISTAKES[name]))


def test_off_by_one_is_explained():
    result = run_exercise(get_exercise("09.minimum_arena_bytes"),
                          [ARENA_MISTAKES["last failing size"]], seed=0)
    assert "first size that works" in result.hint


# --------------------------------------------------------------------------------------
# 09.deployable: models that miss the budget
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def missing_models():
    """Models that miss the challenge, each in one way (built once)."""
    from labkit import convert, zoo
    from labkit.data import load_gestures

    data = load_gestures()
    base = zoo.trained(deploy.GESTURE_CNN).model
    untrained = deploy.slim_gesture_cnn(deploy.build_gesture_cnn(seed=5), 0.5)
    feats = deploy.spectral_features_batch(data.x_train, 8)
    mlp = deploy.build_feature_mlp(feats.shape[1], mean=feats.mean(0), std=feats.std(0))
    mlp.fit(feats, data.y_train, epochs=5, verbose=0)
    return {
        "plain float32": convert.convert_float32(base),
        "plain int8 (too big)": convert.convert_int8(base, data.x_train[:256]),
        "dynamic range": convert.convert_dynamic_range(base),
        "untrained": convert.convert_int8(untrained, data.x_train[:256]),
        "spectral features in": convert.convert_int8(mlp, feats[:256]),
        "not a model": b"\x00" * 64,
    }


@pytest.mark.slow
@pytest.mark.parametrize("name", ["plain float32", "plain int8 (too big)", "dynamic range",
                                  "untrained", "spectral features in", "not a model"])
def test_models_that_miss_the_budget_lose_points(missing_models, name):
    model_bytes = missing_models[name]
    assert_caught("09.deployable", lambda: model_bytes)


@pytest.mark.slow
def test_the_plain_int8_model_misses_only_the_memory(missing_models):
    model_bytes = missing_models["plain int8 (too big)"]
    result = run_exercise(get_exercise("09.deployable"), [lambda: model_bytes], seed=0)
    assert result.passed_tests[0].startswith("an int8 model")
    assert "budget" in result.message
