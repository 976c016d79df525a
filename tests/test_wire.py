"""The plain-data format between judge and sandbox: round trips, and refusals."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pytest

from labkit.grading import wire


@pytest.mark.parametrize("value", [
    None, True, 3, -2**70, 1.5, float("nan"), float("-inf"), 1 + 2j, "text", b"\x00bytes",
    [1, [2, 3]], (1, (2.0, "x")), {"a": 1, 2: [None], (1, 2): "t"},
    np.arange(6, dtype=np.int8).reshape(2, 3), np.zeros((0, 4), np.float32), np.float32(0.25),
    np.array([True, False]), np.arange(3, dtype=">i4"),
])
def test_plain_data_round_trips_with_its_types(value):
    back = wire.decode(wire.encode(value))
    if isinstance(value, np.ndarray):
        assert isinstance(back, np.ndarray) and back.shape == value.shape
        np.testing.assert_array_equal(back, value)
        assert back.dtype == value.dtype.newbyteorder("<") or back.dtype == value.dtype
    elif isinstance(value, float) and value != value:
        assert back != back
    else:
        assert back == value and type(back) is type(value)


def test_subclasses_cross_as_their_plain_values():
    class Liar(int):
        def __eq__(self, other):
            return True

    back = wire.decode(wire.encode([Liar(0)]))
    assert type(back[0]) is int and back[0] == 0 and back[0] != 1


@pytest.mark.parametrize("value", [object(), (x for x in [1]), np.array([object()]),
                                   {1, 2}, lambda: 0])
def test_what_is_not_plain_data_is_refused(value):
    with pytest.raises(wire.NotPlainData):
        wire.encode(value)


def test_recursive_and_deep_structures_are_refused():
    loop: list = []
    loop.append(loop)
    with pytest.raises(wire.NotPlainData, match="deeper"):
        wire.encode(loop)
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(wire.WireError):
        wire.decode(deep.encode())


@pytest.mark.parametrize("message", [
    {"$": "pickle", "v": ""},
    {"$": "nd", "dtype": "|O", "shape": [1], "v": ""},
    {"$": "nd", "dtype": "<f8", "shape": [3], "v": "AAAA"},
    {"$": "nd", "dtype": "<f8", "shape": [-1], "v": ""},
    {"$": "keras", "path": "/etc/passwd"},  # no loader given: refused
])
def test_malformed_or_dangerous_messages_are_refused(message):
    with pytest.raises(wire.WireError):
        wire.decode(json.dumps(message).encode())


def test_size_limit():
    with pytest.raises(wire.NotPlainData, match="more than"):
        wire.encode(b"x" * 1000, max_bytes=100)
    with pytest.raises(wire.WireError, match="allowed"):
        wire.decode(b"[1]" * 100, max_bytes=10)


@pytest.mark.slow
def test_a_returned_keras_model_crosses_as_a_file_and_lambda_layers_are_refused():
    from labkit import load_tensorflow
    from labkit.grading.sandbox import RemoteError, Sandbox

    _, keras = load_tensorflow()
    source = ("from labkit import load_tensorflow\n"
              "def zeroed(model):\n"
              "    tf, keras = load_tensorflow()\n"
              "    copy = keras.models.clone_model(model)\n"
              "    copy.set_weights([w * 0 for w in model.get_weights()])\n"
              "    return copy\n"
              "def sneaky(model):\n"
              "    tf, keras = load_tensorflow()\n"
              "    return keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda x: x)])\n")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    with tempfile.TemporaryDirectory() as folder, \
            Sandbox([(0, source)], ["zeroed", "sneaky"], blocked=[], workdir=Path(folder)) as box:
        box.start()
        got = box.call("zeroed", (model,), {}, 60)
        assert [w.shape for w in got.get_weights()] == [(3, 2), (2,)]
        assert all(float(np.abs(w).sum()) == 0 for w in got.get_weights())
        with pytest.raises((wire.NotPlainData, RemoteError), match="safely|Lambda"):
            box.call("sneaky", (model,), {}, 60)
