"""labkit.bench: variants measured on one test set, tabled with intervals and a paired test."""

from __future__ import annotations

import pytest

from labkit import bench
from labkit.convert import convert_float32, convert_int8
from labkit.data import load_digits
from labkit.models import build_course_cnn


def test_measure_and_table_two_variants():
    ds = load_digits(8)
    model = build_course_cnn((8, 8, 1), width=4, seed=0)
    model.fit(ds.x_train, ds.y_train, epochs=3, batch_size=64, verbose=0)
    models = {"float32": convert_float32(model), "int8": convert_int8(model, ds.x_train[:64])}
    found = bench.measure_variants(models, ds.x_test, ds.y_test, macs=1000, rounds=1, runs=20)
    assert set(found) == {"float32", "int8"}
    f32, i8 = found["float32"], found["int8"]
    assert i8.size_bytes < f32.size_bytes and i8.micro and f32.micro
    assert f32.accuracy.n == len(ds.y_test) and f32.latency_ms > 0 and f32.macs == 1000
    table = bench.variants_table(found, baseline="float32")
    assert table.count("\n") == 3 and "vs float32" in table and "[" in table
    with pytest.raises(TypeError, match="models"):
        bench.measure_variants({}, ds.x_test, ds.y_test)
