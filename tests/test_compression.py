"""labkit.compression: the numpy math against first principles, its argument checks, and the
TensorFlow glue (clustering, pruning plans, distillation, factorized layers, the pipeline)
against what the models really compute."""

from __future__ import annotations

import gzip
import re

import numpy as np
import pytest

from labkit import compression as lc

# --------------------------------------------------------------------------------------
# Pure numpy
# --------------------------------------------------------------------------------------


def test_kmeans_lowers_the_error_and_keeps_the_codebook_sorted():
    rng = np.random.default_rng(0)
    w = rng.normal(0, 0.1, size=(3, 3, 8, 16))
    errors = []
    for iters in (0, 1, 5, 20):
        codebook, indices = lc.kmeans_codebook(w, 8, iters)
        assert indices.shape == w.shape and indices.min() >= 0 and indices.max() < 8
        assert np.all(np.diff(codebook) >= 0)  # 1-D Lloyd from a sorted start stays sorted
        errors.append(np.mean((codebook[indices] - w) ** 2))
    assert errors == sorted(errors, reverse=True)


def test_kmeans_edge_cases():
    codebook, indices = lc.kmeans_codebook(np.full((2, 2), 0.5), 3)
    np.testing.assert_allclose(codebook, 0.5)
    assert np.all(indices == 0)  # ties go to the lower index
    codebook, _ = lc.kmeans_codebook([0.0, 0.0, 1.0, 1.0], 3, iters=4)
    np.testing.assert_allclose(codebook, [0.0, 0.5, 1.0])  # the empty middle cluster stays
    assert lc.kmeans_codebook([1.0, 3.0], 1)[0].tolist() == [2.0]


def test_index_bits():
    assert [lc.index_bits(k) for k in (1, 2, 3, 4, 5, 16, 256, 257)] == [0, 1, 2, 2, 3, 4, 8, 9]


def test_entropy_matches_the_definition():
    rng = np.random.default_rng(1)
    values = rng.choice([-3, 0, 0, 0, 2, 7], size=1000)
    _, counts = np.unique(values, return_counts=True)
    p = counts / counts.sum()
    assert lc.entropy_bits(values) == pytest.approx(-np.sum(p * np.log2(p)))
    assert lc.entropy_bits(np.zeros((4, 4))) == 0.0
    assert lc.entropy_bits(np.arange(256)) == pytest.approx(8.0)


def test_huffman_is_optimal_within_one_bit_of_the_entropy():
    rng = np.random.default_rng(2)
    for _ in range(20):
        counts = dict(enumerate(rng.integers(1, 500, size=rng.integers(2, 50)).tolist()))
        lengths = lc.huffman_code_lengths(counts)
        total = sum(counts.values())
        mean = sum(counts[s] * lengths[s] for s in counts) / total
        p = np.array(list(counts.values())) / total
        h = -np.sum(p * np.log2(p))
        assert h - 1e-9 <= mean < h + 1
        assert sum(2.0 ** -n for n in lengths.values()) == pytest.approx(1.0)  # a full tree


def test_huffman_bit_stream_round_trips():
    rng = np.random.default_rng(3)
    values = rng.choice([0, 0, 0, 0, 0, 0, 5, -5, 9], size=5000)
    symbols, counts = np.unique(values, return_counts=True)
    lengths = lc.huffman_code_lengths(dict(zip(symbols.tolist(), counts.tolist())))
    stream = lc.huffman_encode(values, lengths)
    assert len(stream) == -(-sum(n * lengths[s] for s, n in zip(symbols.tolist(), counts.tolist())) // 8)
    assert lc.huffman_decode(stream, lengths, values.size) == values.tolist()
    codes = lc.canonical_codes(lengths)
    words = [format(c, f"0{n}b") for c, n in codes.values()]
    assert not any(a != b and b.startswith(a) for a in words for b in words)  # prefix-free


def test_sparse_symbols_rebuild_the_tensor():
    rng = np.random.default_rng(4)
    values = np.where(rng.random(300) < 0.9, 0, rng.integers(1, 9, size=300))
    runs, nonzero = lc.sparse_symbols(values)
    rebuilt = np.concatenate([np.r_[np.zeros(r, int), [v]] for r, v in zip(runs[:-1], nonzero)]
                             + [np.zeros(runs[-1], int)])
    np.testing.assert_array_equal(rebuilt, values)


def test_coded_sizes_respect_the_entropy_bound():
    rng = np.random.default_rng(5)
    values = np.where(rng.random(20_000) < 0.9, 0, rng.integers(-8, 8, size=20_000)).astype(np.int8)
    sizes = lc.coded_sizes(values)
    assert sizes["raw"] == 20_000
    assert sizes["gzip"] == len(gzip.compress(values.tobytes(), compresslevel=9, mtime=0))
    assert sizes["huffman"] >= 20_000 / 8  # at least one bit per symbol
    assert sizes["entropy bound"] <= sizes["huffman, sparse"] < sizes["huffman"]


def test_softmax_and_distillation_loss():
    z = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(lc.softmax(z).sum(axis=1), 1.0)
    np.testing.assert_allclose(lc.softmax(z, 1e6)[0], 1 / 3, atol=1e-5)  # very hot: uniform
    labels = np.array([2, 0])
    ce = -np.log(lc.softmax(z)[[0, 1], labels]).mean()
    assert lc.distillation_loss(labels, z, z * 5, 3.0, 1.0) == pytest.approx(ce)
    assert lc.distillation_loss(labels, z, z, 3.0, 0.0) == pytest.approx(0.0, abs=1e-12)
    assert lc.distillation_loss(labels, z, z[::-1], 2.0, 0.0) > 0


def test_low_rank_is_the_eckart_young_optimum():
    rng = np.random.default_rng(6)
    w = rng.normal(size=(30, 12))
    s = np.linalg.svd(w, compute_uv=False)
    for r in (1, 4, 12):
        a, b = lc.low_rank(w, r)
        assert a.shape == (30, r) and b.shape == (r, 12)
        assert np.linalg.norm(w - a @ b) == pytest.approx(np.sqrt(np.sum(s[r:] ** 2)), abs=1e-9)
    assert lc.low_rank_params((4096, 10), 5) == 5 * 4106


@pytest.mark.parametrize("call, error, name", [
    (lambda: lc.kmeans_codebook(np.ones(3), 0), ValueError, "k"),
    (lambda: lc.kmeans_codebook(np.ones(3), 2.0), TypeError, "k"),
    (lambda: lc.kmeans_codebook(np.ones(3), 2, -1), ValueError, "iters"),
    (lambda: lc.kmeans_codebook(["a"], 2), TypeError, "w"),
    (lambda: lc.kmeans_codebook([np.nan, 1.0], 2), ValueError, "w"),
    (lambda: lc.entropy_bits([]), ValueError, "values"),
    (lambda: lc.huffman_code_lengths([3, 4]), TypeError, "counts"),
    (lambda: lc.huffman_code_lengths({}), ValueError, "counts"),
    (lambda: lc.huffman_code_lengths({"a": 0}), ValueError, "counts['a']"),
    (lambda: lc.huffman_encode([1, 2], {1: 1}), ValueError, "values"),
    (lambda: lc.distillation_loss([0], [[1.0]], [[1.0, 2.0]], 2.0, 0.5), ValueError,
     "student_logits"),
    (lambda: lc.distillation_loss([3], [[1.0, 2.0]], [[1.0, 2.0]], 2.0, 0.5), ValueError, "labels"),
    (lambda: lc.distillation_loss([0], [[1.0, 2.0]], [[1.0, 2.0]], 0.0, 0.5), ValueError,
     "temperature"),
    (lambda: lc.distillation_loss([0], [[1.0, 2.0]], [[1.0, 2.0]], 2.0, 50), ValueError, "alpha"),
    (lambda: lc.low_rank(np.ones(3), 1), ValueError, "w"),
    (lambda: lc.low_rank(np.ones((3, 2)), 3), ValueError, "rank"),
    (lambda: lc.softmax([[1.0]], temperature="2"), TypeError, "temperature"),
])
def test_bad_arguments_name_the_argument(call, error, name):
    with pytest.raises(error, match=rf"^{re.escape(name)}(?!\w)"):
        call()


def test_import_does_not_load_tensorflow():
    import subprocess
    import sys

    code = "import sys, labkit.compression; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------------------
# TensorFlow glue
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small():
    from labkit.data import load_digits
    from labkit.models import build_course_cnn

    ds = load_digits(8)
    model = build_course_cnn((8, 8, 1), width=4, seed=0)
    model.fit(ds.x_train, ds.y_train, epochs=3, batch_size=32, verbose=0)
    return ds, model


def test_cluster_model_leaves_the_original_alone(small):
    ds, model = small
    before = [w.copy() for w in model.get_weights()]
    wrapped = lc.cluster_model(model, 4)
    assert {type(layer).__name__ for layer in wrapped.layers} >= {"ClusterWeights"}
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_cluster_and_fine_tune_keeps_k_values(small):
    ds, model = small
    clustered = lc.cluster_and_fine_tune(model, ds.x_train[:256], ds.y_train[:256], 4, epochs=1)
    assert max(lc.unique_weights(clustered).values()) <= 4
    shared = lc.shared_weights_model(model, 3)
    assert max(lc.unique_weights(shared).values()) <= 3


def test_prune_plan_reaches_each_layers_sparsity(small):
    from labkit import pruning as lp

    ds, model = small
    plan = {"conv2": 0.5, "dense": 0.8}
    pruned = lc.prune_plan_and_fine_tune(model, ds.x_train, ds.y_train, plan, epochs=1,
                                         frequency=5)
    got = lp.kernel_sparsity(pruned)
    assert got["conv2"] == pytest.approx(0.5, abs=0.01) and got["dense"] == pytest.approx(0.8, abs=0.01)
    assert got["conv1"] == 0.0


def test_factorize_at_full_rank_computes_the_same_function(small):
    ds, model = small
    full = lc.factorize(model, {"conv3": 16, "dense": 10})
    np.testing.assert_allclose(full.predict(ds.x_test, verbose=0), model.predict(ds.x_test, verbose=0),
                               atol=1e-4)
    thin = lc.factorize(model, {"dense": 2})
    assert thin.count_params() < model.count_params()


def test_logits_model_and_distill(small):
    from labkit._tf import load
    from labkit.models import build_course_cnn

    tf, _ = load()
    ds, model = small
    logits = lc.logits_model(model).predict(ds.x_test, verbose=0)
    np.testing.assert_allclose(tf.nn.softmax(logits).numpy(), model.predict(ds.x_test, verbose=0),
                               atol=1e-5)
    student = build_course_cnn((8, 8, 1), width=4, seed=1)
    before = [w.copy() for w in student.get_weights()]
    trained = lc.distill(model, student, ds.x_train, ds.y_train, epochs=8, batch_size=32)
    assert all(np.array_equal(a, b) for a, b in zip(before, student.get_weights()))
    acc = np.mean(trained.predict(ds.x_test, verbose=0).argmax(1) == ds.y_test)
    assert acc > 0.5  # far above chance (0.1) after a short distillation


@pytest.mark.slow
def test_deep_compression_and_its_entropy_coded_size(small):
    from labkit import runtime

    ds, model = small
    out = lc.deep_compression(model, ds.x_train, ds.y_train, plan={"conv3": 0.7, "dense": 0.9},
                              number_of_clusters=8, prune_epochs=2, cluster_epochs=1)
    files = out["files"]
    assert set(files) == {"float32", "pruned", "clustered", "int8"}
    assert runtime.describe(files["int8"]).weight_dtypes == {"int8"}
    coded = lc.entropy_coded_size(files["int8"])
    assert coded["total_bytes"] == coded["rest_bytes"] + coded["weights_bytes"]
    assert coded["total_bytes"] < runtime.gzipped_size_bytes(files["float32"])
    assert len(coded["tensors"]) == 4  # three convolutions and the dense layer
    qat = lc.deep_compression(model, ds.x_train[:300], ds.y_train[:300],
                              plan={"dense": 0.9}, number_of_clusters=8, prune_epochs=1,
                              qat_epochs=1)
    assert runtime.describe(qat["files"]["int8"]).inputs[0].dtype == "int8"


def test_signal_cnn_builder_and_its_zoo_recipe():
    from labkit import zoo
    from labkit.models import build_signal_cnn

    model = build_signal_cnn()
    assert model.count_params() == 94_890 and model.output_shape == (None, 10)
    assert [layer.name for layer in model.layers if type(layer).__name__ == "Conv2D"] == [
        "conv1", "conv2", "conv3"]
    with pytest.raises(ValueError, match="^input_shape"):
        build_signal_cnn((42,))
    with pytest.raises(TypeError, match="^input_shape"):
        build_signal_cnn(40)
    assert lc.SIGNAL_CNN.builder in zoo.BUILDERS and lc.SIGNAL_CNN.dataset == "mnist1d_large"
