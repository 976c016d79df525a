"""Exercises of notebook 09_deployment_lab: features, the smallest arena, C source, a budget.

References live in :mod:`labkit.deploy`. Inputs and outputs are plain data: windows are
float arrays, models are ``.tflite`` bytes, C source is a string. The budget challenge
(``09.deployable``) takes nothing and returns the bytes of the student's model; the judge
measures them itself — size, TFLite Micro arena, and accuracy in TFLite Micro on recordings
it simulates afresh for each check (repetitions of the dataset's people that were never
shipped), which the student's code never sees.

Each test starts with fixed cases that separate the typical mistakes — features computed
along the wrong axis or in feature-major order, the DC bin kept, amplitude for power; the
array without ``alignas(16)``, a length off by one, a ``const`` array left file-local; the
last failing arena size returned instead of the first that works — and goes on with
random inputs.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from labkit import deploy
from labkit.grading.compare import Mismatch
from labkit.grading.core import Exercise, Test, TestContext

# --------------------------------------------------------------------------------------
# 09.spectral_features
# --------------------------------------------------------------------------------------

_SF_HINT = ("For each axis (column) in turn: its mean; the RMS of the column minus its mean; "
            "then P = |np.fft.rfft(d)|**2 / L over the bins 1 .. L//2, cut with "
            "np.array_split into n_bands groups, each summed. Concatenate axis by axis.")


def _accelerometer_window(ctx: TestContext, length: int, axes: int) -> np.ndarray:
    """Gravity on a random axis mix, two rhythms per axis and sensor noise, in m/s2."""
    t = np.arange(length) / deploy.SAMPLE_RATE_HZ
    gravity = ctx.rng.normal(0.0, 1.0, axes)
    gravity *= 9.80665 / max(float(np.sqrt(np.sum(gravity ** 2))), 1e-9)
    window = np.tile(gravity, (length, 1))
    for a in range(axes):
        for _ in range(2):
            hz, amp = ctx.rng.uniform(0.5, 12.0), ctx.rng.uniform(0.2, 5.0)
            window[:, a] += amp * np.sin(2 * np.pi * hz * t + ctx.rng.uniform(0, 2 * np.pi))
    return window + ctx.rng.normal(0.0, 0.05, window.shape)


def _sf_variants(window: np.ndarray, n_bands: int) -> dict[str, np.ndarray]:
    """What the typical mistakes compute, to name the mistake in the message."""
    length, axes = window.shape
    ref = deploy.spectral_features(window, n_bands)
    d = window - window.mean(axis=0)
    power = np.abs(np.fft.rfft(d, axis=0)) ** 2 / length

    def bands(p: np.ndarray, bins: np.ndarray) -> np.ndarray:
        return np.stack([p[g].sum(axis=0) for g in np.array_split(bins, n_bands)])

    variants = {"feature-major order": ref.reshape(axes, -1).T.ravel()}
    rows = np.arange(1, length // 2 + 1)
    for name, value in (("the DC bin kept", bands(power, np.arange(0, length // 2 + 1))),
                        ("|X| instead of |X|**2", bands(np.sqrt(power * length), rows)),
                        ("|X|**2 without / L", bands(power * length, rows))):
        alt = ref.reshape(axes, -1).copy()
        alt[:, 2:] = value.T
        variants[name] = alt.ravel()
    alt = ref.reshape(axes, -1).copy()
    alt[:, 1] = d.std(axis=0, ddof=1)
    variants["std with ddof=1 as the RMS"] = alt.ravel()
    alt = ref.reshape(axes, -1).copy()
    alt[:, 1] = np.sqrt(np.mean(window ** 2, axis=0))
    variants["the RMS of the raw column (mean not removed)"] = alt.ravel()
    return variants


_SF_FIXES = {
    "feature-major order": "Features are axis-major: all of x's (mean, rms, bands), then y's, "
                           "then z's.",
    "the DC bin kept": "Leave out bin 0 (the mean): bands cover bins 1 .. L//2.",
    "|X| instead of |X|**2": "Band power uses |rfft|**2 / L, not the magnitude |rfft|.",
    "|X|**2 without / L": "Divide |rfft|**2 by L, the window length.",
    "std with ddof=1 as the RMS": "RMS divides by L: np.sqrt(np.mean(d ** 2)), not ddof=1.",
    "the RMS of the raw column (mean not removed)": "The RMS is of the column minus its mean.",
}


def _expect_features(ctx: TestContext, window: np.ndarray, n_bands: int) -> None:
    length, axes = window.shape
    what = f"spectral_features(window of shape {window.shape}, n_bands={n_bands})"
    got = ctx.student(window.copy(), n_bands)
    expected = ctx.reference(window, n_bands)
    shape_hint = (f"One value per feature and axis: {axes} axes × (2 + {n_bands}) = "
                  f"{expected.size}. Time runs along axis 0 (rows) of the window: take the "
                  "mean, the RMS and the FFT along axis=0, once per column.")
    try:
        ctx.expect_array(got, expected, what=what, rtol=1e-6, atol=1e-9, kind="f",
                         hint=shape_hint)
    except Mismatch as exc:
        if exc.stage != "values":
            raise
        arr = np.asarray(got, dtype=np.float64)
        for name, value in _sf_variants(window, n_bands).items():
            if np.allclose(arr, value, rtol=1e-6, atol=1e-9):
                raise Mismatch("values", f"{what}: your features match {name}",
                               _SF_FIXES[name]) from None
        raise Mismatch("values", exc.message, _SF_HINT) from None


def _sf_two_seconds(ctx: TestContext) -> None:
    _expect_features(ctx, _accelerometer_window(ctx, 125, 3), 8)


def _sf_bands(ctx: TestContext) -> None:
    """Band edges: bins that do not divide evenly, one bin per band, an odd length."""
    for length, n_bands in ((100, 8), (64, 32), (33, 1), (90, 7)):
        _expect_features(ctx, _accelerometer_window(ctx, length, 3), n_bands)


def _sf_random(ctx: TestContext) -> None:
    for _ in range(4):
        length = int(ctx.rng.integers(20, 300))
        axes = int(ctx.rng.choice([1, 2, 3]))
        n_bands = int(ctx.rng.integers(1, length // 2 + 1))
        _expect_features(ctx, _accelerometer_window(ctx, length, axes), n_bands)


# --------------------------------------------------------------------------------------
# 09.to_c_array
# --------------------------------------------------------------------------------------

_NAMES = ("g_model", "g_gesture_model_data", "model_tflite", "gestures_int8", "g_wand")


def _blob(ctx: TestContext, size: int) -> bytes:
    """``size`` bytes that start like a .tflite file (the TFL3 identifier at bytes 4-8)."""
    body = ctx.rng.integers(0, 256, size=max(0, size - 8), dtype=np.uint8).tobytes()
    return b"\x1c\x00\x00\x00TFL3" + body


def _c_cases(ctx: TestContext) -> list[tuple[bytes, str]]:
    """Blobs whose lengths sit on, just below and just above a multiple of 16, and one more."""
    k = int(ctx.rng.integers(1, 40))
    sizes = [16 * k - 1, 16 * k, 16 * k + 1, int(ctx.rng.integers(200, 3000))]
    names = ctx.rng.permutation(len(_NAMES))
    return [(_blob(ctx, s), _NAMES[names[i % len(_NAMES)]]) for i, s in enumerate(sizes)]


def _parsed(ctx: TestContext, model_bytes: bytes, name: str) -> deploy.CArray:
    what = f"to_c_array(<{len(model_bytes)} bytes>, {name!r})"
    got = ctx.student(model_bytes, name)
    if got is None:
        raise Mismatch("type", f"{what} returned None; expected the C source as a str — did "
                       "you forget `return`?")
    if not isinstance(got, str):
        raise Mismatch("type", f"{what} returned {type(got).__name__}; expected a str of C "
                       "source", "Build the lines as strings and return '\\n'.join(lines).")
    try:
        return deploy.read_c_array(got, name)
    except ValueError as exc:
        raise Mismatch("values", f"{what}: {exc}",
                       f"Write `alignas(16) const unsigned char {name}[] = {{0x1c, 0x00, ...}};` "
                       "with the name you were given.") from None


def _c_bytes(ctx: TestContext) -> None:
    for model_bytes, name in _c_cases(ctx):
        found = _parsed(ctx, model_bytes, name)
        if found.data != model_bytes:
            first = next((i for i, (a, b) in enumerate(zip(found.data, model_bytes)) if a != b),
                         min(len(found.data), len(model_bytes)))
            raise Mismatch("values", f"the array {name} holds {len(found.data)} bytes that differ "
                           f"from the model's {len(model_bytes)} from byte {first} on",
                           "List every byte of model_bytes once, in order (f'0x{b:02x}' for b in "
                           "model_bytes), and nothing else.")


def _c_alignment(ctx: TestContext) -> None:
    for model_bytes, name in _c_cases(ctx)[:2]:
        found = _parsed(ctx, model_bytes, name)
        if found.alignment is None or found.alignment % deploy.ALIGNMENT_BYTES:
            shown = "no alignment" if found.alignment is None else f"alignas({found.alignment})"
            raise Mismatch("values", f"the array {name} has {shown}; TFLite Micro reads the "
                           "model in place and needs it aligned to 16 bytes",
                           f"Start the definition with alignas(16): `alignas(16) const unsigned "
                           f"char {name}[] = {{...}};`.")


def _c_length(ctx: TestContext) -> None:
    for model_bytes, name in _c_cases(ctx):
        found = _parsed(ctx, model_bytes, name)
        if found.length is None:
            raise Mismatch("values", f"no definition of {name}_len found",
                           f"Add `const unsigned int {name}_len = <number of bytes>;`.")
        if found.length != len(model_bytes):
            off = found.length - len(model_bytes)
            raise Mismatch("values", f"{name}_len is {found.length}; the model has "
                           f"{len(model_bytes)} bytes ({off:+d})",
                           "The length is len(model_bytes): no terminating zero is added to a "
                           "byte array, and the count starts at 1, not 0.")


def _c_linkage(ctx: TestContext) -> None:
    for model_bytes, name in _c_cases(ctx)[:2]:
        found = _parsed(ctx, model_bytes, name)
        if not found.exported:
            raise Mismatch("values", f"{name} or {name}_len is visible only inside its own file: "
                           "a const (or static) variable at file scope has internal linkage in "
                           "C++, so main.cc cannot link to it",
                           f"Declare both first: `extern const unsigned char {name}[];` and "
                           f"`extern const unsigned int {name}_len;` (and do not make them "
                           "static).")


# --------------------------------------------------------------------------------------
# 09.minimum_arena_bytes
# --------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _arena_models() -> dict[str, bytes]:
    """Small models whose arenas differ: an int8 gesture CNN, a float32 dense net, an int8
    2-D CNN (untrained: an arena does not depend on the weights)."""
    from labkit import convert
    from labkit._tf import load, quiet_native_stderr

    _, keras = load()
    rng = np.random.default_rng(9)
    models = {}
    with quiet_native_stderr():
        cnn = deploy.build_gesture_cnn((100, 3), width=4)
        models["int8 gesture CNN, 100×3 input"] = convert.convert_int8(
            cnn, rng.normal(0, 4, (32, 100, 3)).astype(np.float32))
        keras.utils.set_random_seed(1)
        dense = keras.Sequential([keras.Input((30,)), keras.layers.Dense(24, activation="relu"),
                                  keras.layers.Dense(4, activation="softmax")])
        models["float32 dense net on 30 features"] = convert.convert_float32(dense)
        conv = keras.Sequential([keras.Input((12, 12, 1)),
                                 keras.layers.Conv2D(6, 3, activation="relu"),
                                 keras.layers.MaxPooling2D(), keras.layers.Flatten(),
                                 keras.layers.Dense(10, activation="softmax")])
        models["int8 2-D CNN, 12×12 input"] = convert.convert_int8(
            conv, rng.random((32, 12, 12, 1)).astype(np.float32))
    return models


_ARENA_HINT = ("Find the smallest n for which Interpreter.from_bytes(model_bytes, arena_size=n) "
               "and one invoke() succeed: double n until it works, then bisect between the last "
               "size that failed and the first that worked, down to a single byte.")


@functools.lru_cache(maxsize=8)
def _arena_answer(model_bytes: bytes) -> int:
    return deploy.minimum_arena_bytes(model_bytes)


def _expect_arena(ctx: TestContext, label: str, model_bytes: bytes) -> None:
    from labkit.runtime.backend import capture_native_stderr

    what = f"minimum_arena_bytes(<{label}, {len(model_bytes):,} bytes>)"
    with capture_native_stderr():  # TFLite Micro's complaints about the arenas that are too small
        got = ctx.student(model_bytes)
    expected = _arena_answer(model_bytes)  # the reference's answer, measured once per model
    hint = _ARENA_HINT
    if isinstance(got, (int, np.integer)) and not isinstance(got, bool):
        if got == expected - 1:
            hint = ("That size fails: return the first size that works (the bisection's upper "
                    "end), not the last that fails.")
        elif got > expected:
            hint = (f"{got - expected} bytes too many: search down to a single byte, not in "
                    "steps.")
        elif got < expected:
            hint = "TFLite Micro cannot load the model in an arena that small: " + _ARENA_HINT
    ctx.expect_equal(got, expected, what=what, hint=hint)


def _arena_gesture(ctx: TestContext) -> None:
    label, model_bytes = next(iter(_arena_models().items()))
    _expect_arena(ctx, label, model_bytes)


def _arena_others(ctx: TestContext) -> None:
    items = list(_arena_models().items())[1:]
    for i in ctx.rng.permutation(len(items)):
        _expect_arena(ctx, *items[i])


# --------------------------------------------------------------------------------------
# 09.deployable: the budget challenge
# --------------------------------------------------------------------------------------

_DEPLOY_HINT = (f"Return the bytes of a full-int8 .tflite model (labkit.convert.convert_int8) of "
                f"a model that takes raw windows (1, L, 3) in m/s2 and outputs 4 class scores, "
                f"within {deploy.BUDGET.model_flash_bytes:,} bytes and a "
                f"{deploy.BUDGET.arena_bytes:,}-byte arena: fewer filters (structured pruning) "
                "and int8 weights.")


def _student_model(ctx: TestContext) -> tuple[bytes, Any]:
    """The student's bytes, checked to be a model TFLite Micro runs with the right I/O."""
    from labkit import hardware, runtime

    got = ctx.student()
    if got is None:
        raise Mismatch("type", "deployable() returned None; expected the bytes of a .tflite "
                       "model — did you forget `return`?")
    if not isinstance(got, (bytes, bytearray)):
        raise Mismatch("type", f"deployable() returned {type(got).__name__}; expected bytes",
                       "Return what convert_int8 (or converter.convert()) gives you.")
    model_bytes = bytes(got)
    try:
        report = runtime.describe(model_bytes)
    except ValueError as exc:
        raise Mismatch("type", f"the returned bytes are not a .tflite model ({exc})") from None
    support = runtime.runs_on_micro(model_bytes)
    if not support:
        raise Mismatch("values", f"TFLite Micro refuses the model: {support.reason}", _DEPLOY_HINT)
    shape_in, shape_out = report.inputs[0].shape, report.outputs[0].shape
    if len(report.inputs) != 1 or len(shape_in) != 3 or shape_in[0] != 1 or shape_in[2] != 3 \
            or not 16 <= shape_in[1] <= 625:
        raise Mismatch("values", f"the model's input has shape {list(shape_in)}; expected one "
                       "raw window [1, L, 3] (L from 16 to 625 samples of accX, accY, accZ)",
                       "The judge feeds raw windows: put any preprocessing inside the model, as "
                       "build_gesture_cnn does with the mean.")
    if tuple(shape_out) != (1, len(deploy.CLASSES)):
        raise Mismatch("values", f"the model's output has shape {list(shape_out)}; expected "
                       f"[1, {len(deploy.CLASSES)}], one score per class {deploy.CLASSES}")
    precision = hardware.model_precision(model_bytes)
    if precision != "int8" or report.inputs[0].dtype != "int8":
        raise Mismatch("values", f"the model is {precision} with {report.inputs[0].dtype} input; "
                       "the challenge asks for a full-int8 model", _DEPLOY_HINT)
    return model_bytes, report


def _deploy_runs(ctx: TestContext) -> None:
    _student_model(ctx)


def _deploy_fits(ctx: TestContext) -> None:
    model_bytes, _ = _student_model(ctx)
    budget = deploy.BUDGET
    if len(model_bytes) > budget.model_flash_bytes:
        raise Mismatch("values", f"the model has {len(model_bytes):,} bytes; the flash budget "
                       f"is {budget.model_flash_bytes:,}",
                       "Fewer filters shrink the file; int8 weights take a quarter of float32's.")
    arena = deploy.minimum_arena_bytes(model_bytes)
    if arena > budget.arena_bytes:
        raise Mismatch("values", f"TFLite Micro needs a {arena:,}-byte arena for the model; the "
                       f"RAM budget is {budget.arena_bytes:,}",
                       "The arena holds the largest activations at once: fewer filters (or int8 "
                       "activations) shrink it.")


def _deploy_accuracy(ctx: TestContext) -> None:
    from labkit import runtime, stats

    model_bytes, report = _student_model(ctx)
    window_len = int(report.inputs[0].shape[1])
    reps = sorted(int(r) for r in ctx.rng.choice(np.arange(6, 100), size=4, replace=False))
    x, y = deploy.windows_of(deploy.fresh_recordings(reps), window_len, max(1, window_len // 2))
    predicted = np.argmax(runtime.run_micro(model_bytes, x), axis=1)
    acc = stats.accuracy(predicted, y)
    if acc.value < deploy.BUDGET.accuracy:
        raise Mismatch("values", f"held-out accuracy in TFLite Micro is {acc} (new recordings of "
                       f"the dataset's people); the target is {deploy.BUDGET.accuracy:.0%}",
                       "Fine-tune after removing filters, calibrate convert_int8 with a few "
                       "hundred training windows, and measure on data the model never saw.")


EXERCISES = (
    Exercise(
        id="09.spectral_features",
        title="Spectral features of one window",
        name="spectral_features",
        reference=deploy.spectral_features,
        equivalents=(deploy.spectral_features_batch,),
        tests=(
            Test("a 2 s window of 3 axes, 8 bands", 1, _sf_two_seconds),
            Test("band edges: uneven groups, one bin per band, odd lengths", 1, _sf_bands),
            Test("random lengths, axes and bands", 1, _sf_random),
        ),
        hint=_SF_HINT,
    ),
    Exercise(
        id="09.to_c_array",
        title="A .tflite model as C source",
        name="to_c_array",
        reference=deploy.to_c_array,
        tests=(
            Test("every byte, in order", 1, _c_bytes),
            Test("16-byte alignment", 1, _c_alignment),
            Test("the length", 1, _c_length),
            Test("visible from main.cc (extern)", 1, _c_linkage),
        ),
        hint="alignas(16) const unsigned char NAME[] = {...}; and const unsigned int NAME_len.",
    ),
    Exercise(
        id="09.minimum_arena_bytes",
        title="The smallest tensor arena",
        name="minimum_arena_bytes",
        reference=deploy.minimum_arena_bytes,
        tests=(
            Test("an int8 gesture CNN", 1, _arena_gesture, time_limit_s=60.0),
            Test("a float32 dense net and an int8 2-D CNN", 1, _arena_others, time_limit_s=60.0),
        ),
        hint=_ARENA_HINT,
    ),
    Exercise(
        id="09.deployable",
        title="The budget challenge",
        name="deployable",
        reference=deploy.deployable_model,
        tests=(
            Test("an int8 model that TFLite Micro runs, window in, 4 scores out", 1,
                 _deploy_runs, time_limit_s=300.0),
            Test(f"within {deploy.BUDGET.model_flash_bytes:,} B of flash and a "
                 f"{deploy.BUDGET.arena_bytes:,} B arena", 2, _deploy_fits, time_limit_s=300.0),
            Test(f"held-out accuracy >= {deploy.BUDGET.accuracy:.0%} in TFLite Micro", 2,
                 _deploy_accuracy, time_limit_s=300.0),
        ),
        hint=_DEPLOY_HINT,
    ),
)
