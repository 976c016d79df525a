"""Lab 08's exercises: the references score full marks, each typical mistake loses points on
every one of 50 seeds (fixed edge cases in every test separate the mistakes)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import numpy as np
import pytest
from conftest import SEEDS, assert_caught, assert_full_marks, assert_stub_not_attempted, unguarded

from labkit import frameworks as fw
from labkit.grading.core import run_exercise
from labkit.grading.registry import get_exercise, lab_exercises


def test_lab08_registers_the_two_exercises():
    assert [e.id for e in lab_exercises("08")] == ["08.parity", "08.ei_sample"]


@pytest.mark.parametrize("exercise", lab_exercises("08"), ids=lambda e: e.id)
def test_reference_scores_full_marks(exercise):
    assert_full_marks(exercise.id, unguarded(exercise.reference))


@pytest.mark.parametrize("exercise", lab_exercises("08"), ids=lambda e: e.id)
def test_stub_is_not_attempted(exercise):
    assert_stub_not_attempted(exercise.id)


def test_references_return_plain_data():
    out = fw.parity(np.eye(3), np.eye(3) * 0.5)
    assert out == {"max_abs_diff": 0.5, "top1_agreement": 1.0}
    assert all(type(v) is float for v in out.values())
    sample = fw.ei_sample(np.ones((2, 3)), 16, ["a", "b", "c"], ["m/s2"] * 3, "X", "k")
    assert json.loads(json.dumps(sample)) == sample


# --------------------------------------------------------------------------------------
# 08.parity: typical mistakes
# --------------------------------------------------------------------------------------

def _p(diff, agree):
    def fn(ref, other):
        ref, other = np.asarray(ref, float), np.asarray(other, float)
        return {"max_abs_diff": diff(ref, other), "top1_agreement": agree(ref, other)}
    return fn


def _argmax_agree(ref, other):
    return float(np.mean(ref.argmax(1) == other.argmax(1)))


def _maxabs(ref, other):
    return float(np.abs(ref - other).max())


PARITY_MISTAKES = {
    "signed-ref-minus-other": _p(lambda r, o: float((r - o).max()), _argmax_agree),
    "signed-other-minus-ref": _p(lambda r, o: float((o - r).max()), _argmax_agree),
    "mean-not-max": _p(lambda r, o: float(np.abs(r - o).mean()), _argmax_agree),
    "relative-difference": _p(lambda r, o: float((np.abs(r - o) / np.abs(r).max()).max()),
                              _argmax_agree),
    "agreement-as-count": _p(_maxabs, lambda r, o: float(np.sum(r.argmax(1) == o.argmax(1)))),
    "agreement-in-percent": _p(_maxabs, lambda r, o: 100 * _argmax_agree(r, o)),
    "argmax-over-axis-0": _p(_maxabs, lambda r, o: float(np.mean(r.argmax(0) == o.argmax(0)))),
    "rows-equal-not-argmax": _p(_maxabs, lambda r, o: float(np.mean(np.all(r == o, axis=1)))),
    "last-of-ties (argsort)": _p(_maxabs, lambda r, o: float(np.mean(
        np.argsort(r, axis=1, kind="stable")[:, -1] == np.argsort(o, axis=1, kind="stable")[:, -1]))),
    "flattened-argmax": _p(_maxabs, lambda r, o: float(r.argmax() == o.argmax())),
}


@pytest.mark.parametrize("name", PARITY_MISTAKES)
def test_parity_mistakes_are_caught(name):
    assert_caught("08.parity", PARITY_MISTAKES[name])


def test_parity_wrong_return_shapes_are_caught():
    assert_caught("08.parity", lambda r, o: (_maxabs(np.asarray(r), np.asarray(o)), 1.0))
    assert_caught("08.parity", lambda r, o: {"max_diff": 0.0, "agreement": 1.0})


# --------------------------------------------------------------------------------------
# 08.ei_sample: typical mistakes, each a switch of one configurable implementation
# --------------------------------------------------------------------------------------

def _ei(values, interval_ms, names, units, device_type, hmac_key=None, *, placeholder="0" * 64,
        alg_before_signing=True, key_bytes=lambda k: k.encode("utf-8"), digest=hashlib.sha256,
        encode=json.dumps, signed_part="all", out="hex", transpose=False, alg_without_key="none",
        unsigned_signature="0" * 64, int_interval=False, sensors_as_names=False, numpy_values=False,
        extra=None):
    """A configurable ei_sample: each keyword reproduces one typical mistake."""
    rows = np.asarray(values, dtype=float)
    rows = rows.T if transpose else rows
    sensors = list(names) if sensors_as_names else [{"name": n, "units": u}
                                                    for n, u in zip(names, units)]
    payload = {"device_type": device_type,
               "interval_ms": int(interval_ms) if int_interval else interval_ms,
               "sensors": sensors, "values": rows if numpy_values else rows.tolist()}
    payload.update(extra or {})
    alg = "HS256" if hmac_key else alg_without_key
    sample = {"protected": {"ver": "v1", "alg": alg if alg_before_signing else "none"},
              "signature": placeholder if hmac_key else unsigned_signature, "payload": payload}
    if placeholder is None and hmac_key:
        del sample["signature"]
    if hmac_key:
        part = sample if signed_part == "all" else sample["payload"]
        mac = hmac.new(key_bytes(hmac_key), encode(part).encode("utf-8"), digest)
        sample = {"protected": {"ver": "v1", "alg": alg}, "signature": None, "payload": payload}
        sample["signature"] = (mac.hexdigest() if out == "hex" else mac.hexdigest().upper()
                               if out == "upper" else base64.b64encode(mac.digest()).decode())
    return sample


EI_MISTAKES = {
    "no-placeholder (signature absent while signing)": dict(placeholder=None),
    "empty-placeholder": dict(placeholder=""),
    "alg-set-after-signing": dict(alg_before_signing=False),
    "key-decoded-from-hex": dict(key_bytes=lambda k: bytes.fromhex(k)),
    "sha1": dict(digest=hashlib.sha1),
    "compact-json": dict(encode=lambda d: json.dumps(d, separators=(",", ":"))),
    "sorted-keys-json": dict(encode=lambda d: json.dumps(d, sort_keys=True)),
    "payload-only": dict(signed_part="payload"),
    "base64-signature": dict(out="base64"),
    "uppercase-hex": dict(out="upper"),
    "values-transposed": dict(transpose=True),
    "alg-HS256-without-key": dict(alg_without_key="HS256"),
    "empty-signature-without-key": dict(unsigned_signature=""),
    "interval-rounded-to-int": dict(int_interval=True),
    "sensors-as-names": dict(sensors_as_names=True),
    "numpy-values": dict(numpy_values=True),
    "extra-device_name": dict(extra={"device_name": "ac:87:a3:0a:2d:1b"}),
}


def test_ei_config_without_mistakes_is_right():
    exercise = get_exercise("08.ei_sample")
    for seed in SEEDS:
        assert run_exercise(exercise, [_ei], seed=seed).score == exercise.points


@pytest.mark.parametrize("name", EI_MISTAKES)
def test_ei_sample_mistakes_are_caught(name):
    options = EI_MISTAKES[name]
    assert_caught("08.ei_sample", lambda *args: _ei(*args, **options))
