"""Exercises of notebook 08_edge_frameworks: output parity between runtimes, and an Edge Impulse
data-acquisition sample, unsigned or signed with HMAC-SHA256.

References live in :mod:`labkit.frameworks`. Inputs and outputs are plain data (arrays,
numbers, strings, dicts and lists). Each test starts with fixed cases that separate the
typical mistakes — a signed difference instead of an absolute one, a mean instead of a
maximum, ties broken the other way, a count instead of a fraction; a signature computed
without the zero placeholder, over the payload only, before ``alg`` was set, with the key
decoded from hex, or not in hex — and goes on with random inputs.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

from labkit import frameworks as fw
from labkit.grading.compare import Mismatch, fmt
from labkit.grading.core import Exercise, Test, TestContext

# --------------------------------------------------------------------------------------
# 08.parity
# --------------------------------------------------------------------------------------

_PARITY_HINT = ("max_abs_diff = the largest |reference - other| over all samples and classes; "
                "top1_agreement = the fraction (0-1) of rows where np.argmax agrees.")


def _expect_parity(ctx: TestContext, ref: np.ndarray, other: np.ndarray, hint: str) -> None:
    got = ctx.student(ref.copy(), other.copy())
    expected = ctx.reference(ref, other)
    what = f"parity on {ref.shape[0]} samples × {ref.shape[1]} classes"
    if not isinstance(got, dict):
        raise Mismatch("type", f"{what} returned {type(got).__name__}; expected a dict with "
                       "'max_abs_diff' and 'top1_agreement'", "Return {'max_abs_diff': ..., "
                       "'top1_agreement': ...}.")
    for key in expected:
        if key not in got:
            raise Mismatch("type", f"{what}: the dict has no {key!r} (keys: {sorted(got)})",
                           _PARITY_HINT)
        ctx.expect_close(got[key], expected[key], rtol=1e-6, atol=1e-9, what=f"{what}: {key}",
                         hint=hint)


def _parity_fixed(ctx: TestContext) -> None:
    ref = np.array([[1.0, 2.0, 0.5], [0.2, 0.1, 0.9], [0.3, 0.6, 0.1], [0.7, 0.2, 0.1]])
    _expect_parity(ctx, ref, ref + np.array([[0, 3.0, 0], [0.1, 0, -0.1], [0, 0, 0.6], [0, 0, 0]]),
                   "Here the largest difference is other - reference = +3: take the absolute "
                   "value before the maximum, and the maximum, not the mean.")
    _expect_parity(ctx, ref, ref - np.array([[0, 3.0, 0], [0.1, 0, -0.1], [0, 0, 0.6], [0, 0, 0]]),
                   "Here the largest difference is reference - other = +3 … and the other way "
                   "round above: use np.abs.")
    ties = np.array([[0.5, 0.5, 0.0], [0.25, 0.25, 0.5], [0.1, 0.45, 0.45]])
    _expect_parity(ctx, np.array([[0.6, 0.3, 0.1], [0.2, 0.2, 0.6], [0.1, 0.6, 0.3]]), ties,
                   "Ties (common with int8 outputs): the top-1 class is np.argmax's, the first "
                   "of the equal maxima.")


def _parity_agreement(ctx: TestContext) -> None:
    ref = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7], [0.55, 0.45]])
    other = np.array([[0.8, 0.2], [0.7, 0.3], [0.6, 0.4], [0.35, 0.65], [0.4, 0.6]])
    _expect_parity(ctx, ref, other, "3 of 5 rows agree: top1_agreement is the fraction 0.6, "
                   "not a count or a percentage; compare the argmax of each row (axis=1), not "
                   "the scores themselves.")
    _expect_parity(ctx, ref, ref * 1.001, "Scores that differ a little but rank the same: every "
                   "row agrees.")


def _quantized(x: np.ndarray) -> np.ndarray:
    return np.round(x * 256) / 256  # int8-like output steps of 1/256: ties happen


def _parity_random(ctx: TestContext) -> None:
    for i in range(12):
        n, k = int(ctx.rng.integers(2, 300)), int(ctx.rng.integers(2, 12))
        logits = ctx.rng.normal(0, 2, (n, k))
        ref = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        other = ref + ctx.rng.normal(0, float(10 ** ctx.rng.uniform(-6, -1)), (n, k))
        if i % 3 == 0:
            other = _quantized(other)
        if i % 4 == 1:
            other = other[ctx.rng.permutation(n)]
        dtype = np.float32 if i % 2 else np.float64
        _expect_parity(ctx, ref.astype(dtype), other.astype(dtype), _PARITY_HINT)


# --------------------------------------------------------------------------------------
# 08.ei_sample
# --------------------------------------------------------------------------------------

_EI_HINT = ("protected = {'ver': 'v1', 'alg': ...}, signature, payload = {device_type, "
            "interval_ms, sensors: [{'name', 'units'}, ...], values: one list per time step}.")
_SIGN_HINT = ("Build the whole sample with alg 'HS256' and signature = 64 zeros, encode it with "
              "json.dumps(sample), then signature = hmac.new(hmac_key.encode('utf-8'), "
              "encoded.encode('utf-8'), hashlib.sha256).hexdigest().")
_HEX64 = re.compile(r"[0-9a-f]{64}")


def _ei_args(ctx: TestContext, steps: int, sensors: int) -> tuple[Any, ...]:
    names = ["accX", "accY", "accZ", "gyrX", "gyrY", "gyrZ", "temp", "mic"]
    units = ["m/s2", "m/s2", "m/s2", "deg", "deg", "deg", "Cel", "dB"]
    pick = ctx.rng.choice(len(names), size=sensors, replace=False)
    values = np.round(ctx.rng.normal(0, 5, (steps, sensors)), 3)
    interval = float(np.round(1000 / ctx.rng.choice([50, 62.5, 100, 200, 300, 16000]), 4))
    device = str(ctx.rng.choice(["ARDUINO_NANO33BLE", "ESP32-S3", "PHONE", "LABKIT_SIMULATOR"]))
    return (values, interval, [names[i] for i in pick], [units[i] for i in pick], device)


def _call_ei(ctx: TestContext, args: tuple[Any, ...], key: str | None) -> tuple[Any, dict, str]:
    values, *rest = args
    sent = values.copy() if isinstance(values, np.ndarray) else [list(r) for r in values]
    got = ctx.student(sent, *rest, key)
    expected = ctx.reference(values, *rest, key)
    what = (f"ei_sample({np.shape(values)[0]}×{np.shape(values)[1]} values, interval_ms="
            f"{fmt(args[1])}, hmac_key={'None' if key is None else repr(key)})")
    if not isinstance(got, dict):
        raise Mismatch("type", f"{what} returned {type(got).__name__}; expected a dict",
                       _EI_HINT)
    try:
        json.dumps(got)
    except (TypeError, ValueError) as exc:
        raise Mismatch("type", f"{what} cannot be encoded as JSON ({exc})",
                       "Use plain lists and floats: np.asarray(values).tolist().") from None
    return got, expected, what


def _expect_body(got: dict, expected: dict, what: str, hint: str) -> None:
    if set(got) != set(expected):
        raise Mismatch("values", f"{what} has keys {sorted(got)}; expected {sorted(expected)}",
                       _EI_HINT)
    if got["protected"] != expected["protected"]:
        raise Mismatch("values", f"{what}: protected is {fmt(got['protected'])}; expected "
                       f"{fmt(expected['protected'])}", "alg is 'HS256' with a key and 'none' "
                       "without one; ver is 'v1'; no iat.")
    payload, want = got["payload"], expected["payload"]
    if not isinstance(payload, dict) or set(payload) != set(want):
        raise Mismatch("values", f"{what}: payload keys are "
                       f"{sorted(payload) if isinstance(payload, dict) else payload!r:.80}; "
                       f"expected {sorted(want)}", _EI_HINT)
    for key in ("device_type", "sensors"):
        if payload[key] != want[key]:
            raise Mismatch("values", f"{what}: payload[{key!r}] is {fmt(payload[key])}; "
                           f"expected {fmt(want[key])}", "sensors is a list of {'name': ..., "
                           "'units': ...} dicts, one per column, in order.")
    if not isinstance(payload["interval_ms"], (int, float)) or not np.isclose(
            payload["interval_ms"], want["interval_ms"], rtol=1e-12, atol=0):
        raise Mismatch("values", f"{what}: interval_ms is {fmt(payload['interval_ms'])}; expected "
                       f"{fmt(want['interval_ms'])}", "Keep interval_ms as given (a float such "
                       "as 3.3333 for 300 Hz is fine; do not round it).")
    rows = np.asarray(payload["values"], dtype=object)
    if rows.shape != np.shape(want["values"]):
        raise Mismatch("shape", f"{what}: values has shape {rows.shape}; expected "
                       f"{np.shape(want['values'])}", "One list per time step, one number per "
                       "sensor in it (rows, not columns).")
    if not np.allclose(rows.astype(float), want["values"], rtol=0, atol=1e-12):
        raise Mismatch("values", f"{what}: values differ from the input", hint)


def _ei_unsigned(ctx: TestContext) -> None:
    cases = [(np.array([[-9.81, 0.03, 1.21], [-9.83, 0.04, 1.27], [-9.12, 0.03, 1.23],
                        [-9.14, 0.01, 1.25]]), 10, ["accX", "accY", "accZ"], ["m/s2"] * 3,
              "DISCO-L475VG-IOT01A"),
             (np.array([[21.5], [21.75]]), 1000, ["temp"], ["Cel"], "ESP32"),
             ([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], 3.3333, ["accX", "accY"], ["m/s2"] * 2,
              "PHONE")]
    for args in cases:
        got, expected, what = _call_ei(ctx, args, None)
        _expect_body(got, expected, what, _EI_HINT)
        if got["signature"] != fw.EMPTY_SIGNATURE:
            raise Mismatch("values", f"{what}: signature is {fmt(got['signature'])}; without a "
                           "key it is 64 zeros", "signature = '0' * 64 when hmac_key is None.")


def _expect_signed(ctx: TestContext, args: tuple[Any, ...], key: str) -> None:
    got, expected, what = _call_ei(ctx, args, key)
    _expect_body(got, expected, what, _EI_HINT)
    signature = got["signature"]
    if not isinstance(signature, str) or not _HEX64.fullmatch(signature):
        raise Mismatch("values", f"{what}: signature {fmt(signature)} is not 64 lowercase hex "
                       "digits", "HMAC-SHA256 gives 32 bytes; .hexdigest() writes them as 64 "
                       "hex digits.")
    if not fw.ei_signature_valid(got, key):
        raise Mismatch("values", f"{what}: the signature does not verify against "
                       "json.dumps(sample) with the signature field set to 64 zeros, as Edge "
                       "Impulse checks it", _SIGN_HINT)


def _ei_signed(ctx: TestContext) -> None:
    base = (np.array([[-9.81, 0.03, 1.21], [-9.83, 0.04, 1.27]]), 16, ["accX", "accY", "accZ"],
            ["m/s2"] * 3, "ARDUINO_NANO33BLE")
    _expect_signed(ctx, base, "fed53116f20684c067774ebf9e7bcbdc")  # hex-looking, as Studio shows
    _expect_signed(ctx, base, "course-key")  # the key is text: never decode it
    _expect_signed(ctx, (np.array([[0.5], [0.25], [0.125]]), 62.5, ["mic"], ["dB"], "PHONE"),
                   "0123456789abcdef0123456789abcdef")


def _ei_random(ctx: TestContext) -> None:
    for i in range(6):
        args = _ei_args(ctx, int(ctx.rng.integers(1, 40)), int(ctx.rng.integers(1, 7)))
        if i % 2:
            _expect_signed(ctx, args, "".join(ctx.rng.choice(list("0123456789abcdef"), 32)))
        else:
            got, expected, what = _call_ei(ctx, args, None)
            _expect_body(got, expected, what, _EI_HINT)
            if got["signature"] != fw.EMPTY_SIGNATURE:
                raise Mismatch("values", f"{what}: signature should be 64 zeros without a key",
                               "signature = '0' * 64 when hmac_key is None.")


# --------------------------------------------------------------------------------------
# Registry
# --------------------------------------------------------------------------------------

EXERCISES = (
    Exercise(
        id="08.parity",
        title="Output parity of a runtime with the reference",
        name="parity",
        reference=fw.parity,
        tests=(Test("signed and unsigned differences, ties", 2, _parity_fixed),
               Test("agreement is a fraction of rows", 1, _parity_agreement),
               Test("random outputs, float32 and int8-like", 1, _parity_random)),
        hint=_PARITY_HINT,
    ),
    Exercise(
        id="08.ei_sample",
        title="A sample in Edge Impulse's data acquisition format",
        name="ei_sample",
        reference=fw.ei_sample,
        tests=(Test("unsigned samples", 2, _ei_unsigned),
               Test("signed with HMAC-SHA256", 2, _ei_signed),
               Test("random samples, signed and unsigned", 1, _ei_random)),
        hint=_SIGN_HINT,
    ),
)
