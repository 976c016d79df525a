"""labkit.convert: every TFLite conversion, checked on what the converted file holds and computes."""

from __future__ import annotations

import numpy as np
import pytest

from labkit import convert as lc
from labkit import pruning as lp
from labkit import quantization as lq
from labkit import runtime
from labkit.models import build_course_cnn


@pytest.fixture(scope="module")
def model():
    """The course CNN at 8×8 inputs, width 4, untrained: conversions do not need training."""
    return build_course_cnn((8, 8, 1), width=4, seed=1)


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(0).random((64, 8, 8, 1), dtype=np.float32)


def test_topic_modules_re_export_the_same_functions():
    for name in ("VARIANTS", "convert", "convert_float32", "convert_dynamic_range",
                 "convert_float16", "convert_int8", "convert_qat"):
        assert getattr(lq, name) is getattr(lc, name), name
    assert lp.convert_sparse_encoding is lc.convert_sparse_encoding
    assert lq.convert_int8.__module__ == "labkit.convert"


def test_convert_picks_int8_through_the_module_global(monkeypatch):
    monkeypatch.setattr(lc, "convert_int8", lambda model, x_calib: b"stub")
    assert lc.convert("model", "int8", x_calib=[0.0]) == b"stub"
    assert lq.convert("model", "int8", x_calib=[0.0]) == b"stub"


def test_blocking_the_int8_reference_blocks_convert_too():
    from labkit.grading.core import ReferenceUsed, references_blocked

    with references_blocked("02"), pytest.raises(ReferenceUsed, match="convert_int8"):
        lq.convert(None, "int8", x_calib=np.zeros((1, 8, 8, 1)))


@pytest.mark.parametrize("variant, weights, io", [
    ("float32", {"float32"}, "float32"), ("dynamic_range", {"int8"}, "float32"),
    ("float16", {"float16"}, "float32"), ("int8", {"int8"}, "int8"),
])
def test_each_variant_stores_what_it_says(model, x, variant, weights, io):
    model_bytes = lc.convert(model, variant, x_calib=x)
    report = runtime.describe(model_bytes)
    assert weights <= report.weight_dtypes and report.inputs[0].dtype == io
    atol = {"float32": 1e-5, "float16": 2e-3}.get(variant, 0.05)
    np.testing.assert_allclose(runtime.predict(model_bytes, x[:8]), model.predict(x[:8], verbose=0),
                               atol=atol)


def test_conversions_are_silent(model, capfd):
    lc.convert_float32(model)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_dynamic_range_from_a_saved_model_directory(model, x, tmp_path):
    from labkit._tf import load, quiet_native_stderr

    tf, _ = load()
    with quiet_native_stderr():
        tf.saved_model.save(model, str(tmp_path / "cnn"))
    from_dir = lc.convert_dynamic_range(tmp_path / "cnn")
    report = runtime.describe(from_dir)
    assert "int8" in report.weight_dtypes and report.inputs[0].dtype == "float32"
    np.testing.assert_allclose(runtime.predict(from_dir, x[:8]),
                               runtime.predict(lc.convert_dynamic_range(model), x[:8]), atol=1e-6)
    with pytest.raises(ValueError, match="not a SavedModel directory"):
        lc.convert_float32(tmp_path)
    with pytest.raises(TypeError, match="SavedModel"):
        lc.convert_float16(42)
    with pytest.raises(TypeError, match="tf_keras Model"):
        lc.convert_int8(str(tmp_path / "cnn"), x)


def test_pruning_wrappers_are_stripped_before_conversion(model, x):
    from labkit._tf import load, load_tfmot

    _, keras = load()
    sparsity = load_tfmot().sparsity.keras
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    wrapped = sparsity.prune_low_magnitude(
        clone, pruning_schedule=sparsity.ConstantSparsity(0.5, begin_step=0))
    assert "PruneLowMagnitude" in {type(layer).__name__ for layer in wrapped.layers}
    stripped = lc.strip_wrappers(wrapped)
    assert "PruneLowMagnitude" not in {type(layer).__name__ for layer in stripped.layers}
    assert lc.strip_wrappers(model) is model
    model_bytes = lc.convert_pruned(wrapped, "int8", x_calib=x)
    assert runtime.describe(model_bytes).weight_dtypes == {"int8"}
    np.testing.assert_allclose(runtime.predict(lc.convert_pruned(wrapped), x[:8]),
                               model.predict(x[:8], verbose=0), atol=1e-5)


def test_clustered_weights_keep_their_few_values(model):
    from labkit._tf import load, load_tfmot

    _, keras = load()
    clustering = load_tfmot().clustering.keras
    clone = keras.models.clone_model(model)  # cluster_weights changes the model it is given
    clone.set_weights(model.get_weights())
    clustered = clustering.cluster_weights(
        clone, number_of_clusters=4,
        cluster_centroids_init=clustering.CentroidInitialization.LINEAR)
    model_bytes = lc.convert_pruned(clustered)
    report = runtime.describe(model_bytes)
    kernels = [t for t in report.constants if t.role.endswith(" weights")]
    assert len(kernels) == 4
    for info in kernels:
        assert len(np.unique(runtime.read_constant(model_bytes, info))) <= 4, info.role


def test_sparse_encoding_strips_wrappers_and_refuses_non_models():
    with pytest.raises(TypeError, match="tf_keras Model"):
        lc.convert_sparse_encoding("model.h5")
    with pytest.raises(ValueError, match="variant must be one of"):
        lc.convert_pruned(None, "int4")
