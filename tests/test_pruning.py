"""labkit.pruning: the numpy math against tfmot's own, and the Keras glue on tiny models."""

from __future__ import annotations

import numpy as np
import pytest

from labkit import pruning as lp
from labkit._tf import load_tfmot
from labkit.training import accuracy

RNG = np.random.default_rng(0)

# --------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 0.0, 0.5, 0.999, np.float32(0.25)])
def test_check_sparsity_accepts_fractions(value):
    assert lp.check_sparsity(value) == pytest.approx(float(value))


@pytest.mark.parametrize("value, error, text", [
    (1.0, ValueError, "removes 90 %"), (-0.1, ValueError, "[0, 1)"),
    (80, ValueError, "pass 0.8"), (float("nan"), ValueError, "[0, 1)"),
    (True, TypeError, "bool"), ("0.5", TypeError, "str"), (None, TypeError, "NoneType"),
])
def test_check_sparsity_refuses_the_rest(value, error, text):
    with pytest.raises(error, match=None) as info:
        lp.check_sparsity(value)
    assert text in str(info.value)


def test_every_public_sparsity_argument_is_checked():
    w = RNG.normal(size=(4, 4))
    for call in (lambda: lp.magnitude_prune(w, 1.0), lambda: lp.global_threshold([w], 50),
                 lambda: lp.sparsity_plan({"a": [1.0]}, [1.5], 1.0),
                 lambda: lp.polynomial_schedule(1.0, end_step=10)):
        with pytest.raises(ValueError, match=r"fraction in \[0, 1\)"):
            call()


# --------------------------------------------------------------------------------------
# Unstructured pruning
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(10,), (3, 3, 4, 8), (64, 10)])
@pytest.mark.parametrize("sparsity", [0.0, 0.3, 0.75, 0.95])
def test_magnitude_prune_removes_the_smallest(shape, sparsity):
    w = RNG.normal(size=shape).astype(np.float32)
    before = w.copy()
    pruned, mask = lp.magnitude_prune(w, sparsity)
    np.testing.assert_array_equal(w, before)
    assert pruned.dtype == mask.dtype == np.float32 and pruned.shape == mask.shape == shape
    assert np.count_nonzero(mask == 0) == round(sparsity * w.size)
    kept, removed = np.abs(w[mask == 1]), np.abs(w[mask == 0])
    assert not (removed.size and kept.size) or removed.max() <= kept.min()
    np.testing.assert_array_equal(pruned, np.where(mask == 1, w, 0))
    assert not np.any(np.signbit(pruned[mask == 0])), "pruned weights are +0.0, not -0.0"


def test_magnitude_prune_ties_go_in_ravel_order():
    _, mask = lp.magnitude_prune(np.array([1.0, -1.0, 1.0, 2.0]), 0.5)
    np.testing.assert_array_equal(mask, [0, 0, 1, 1])


@pytest.mark.parametrize("sparsity", [0.5, 0.8, 0.9])
def test_magnitude_prune_matches_tfmot_mask(sparsity):
    """tfmot keeps round(size * (1 - s)) weights; with no .5 tie that is our count."""
    load_tfmot()  # imports tfmot without its distutils warnings
    from tensorflow_model_optimization.python.core.sparsity.keras import (
        pruning_impl,
        pruning_schedule,
    )

    from labkit._tf import load

    tf, _ = load()
    w = RNG.normal(size=(3, 3, 8, 16)).astype(np.float32)
    pruning = pruning_impl.Pruning(
        training_step_fn=lambda: tf.constant(0, tf.int64), pruning_vars=[],
        pruning_schedule=pruning_schedule.ConstantSparsity(sparsity, 0), block_size=(1, 1),
        block_pooling_type="AVG")
    _, tfmot_mask = pruning._update_mask(tf.constant(w))
    np.testing.assert_array_equal(lp.magnitude_prune(w, sparsity)[1], tfmot_mask.numpy())


def test_global_threshold_counts_over_all_layers():
    layers = [RNG.normal(size=(3, 3, 1, 8)), 0.1 * RNG.normal(size=(50, 10))]
    threshold = lp.global_threshold(layers, 0.6)
    magnitudes = np.concatenate([np.abs(w).ravel() for w in layers])
    assert isinstance(threshold, float)
    assert np.count_nonzero(magnitudes <= threshold) == round(0.6 * magnitudes.size)
    assert lp.global_threshold(layers, 0.0) == 0.0
    pruned = [lp.threshold_prune(w, threshold)[0] for w in layers]
    assert lp.zero_fraction(pruned[1]) > lp.zero_fraction(pruned[0]), "small layer pruned more"


def test_global_threshold_wants_a_list():
    with pytest.raises(TypeError, match=r"wrap a single array as \[w\]"):
        lp.global_threshold(np.ones(4), 0.5)
    with pytest.raises(ValueError, match="NaN"):
        lp.global_threshold([np.array([1.0, np.nan])], 0.5)


def test_is_m_by_n_sparse_agrees_with_tfmot():
    load_tfmot()
    from tensorflow_model_optimization.python.core.sparsity.keras import pruning_utils

    from labkit._tf import load

    tf, _ = load()
    for shape in [(3, 3, 8, 4), (16, 6), (3, 3, 6, 2)]:
        w = tf.constant(RNG.normal(size=shape).astype(np.float32))
        mask = pruning_utils.m_by_n_sparsity_mask_prepare(
            pruning_utils.generate_m_by_n_mask(pruning_utils.weights_rearrange(w), (2, 4)),
            w.shape)
        sparse = (w * mask).numpy()
        assert lp.is_m_by_n_sparse(sparse) and not lp.is_m_by_n_sparse(w.numpy())
        assert bool(pruning_utils.is_pruned_m_by_n(tf.constant(sparse), (2, 4)))


# --------------------------------------------------------------------------------------
# Structured pruning
# --------------------------------------------------------------------------------------


def test_rank_filters_l1_and_prune_filters():
    kernel = RNG.normal(size=(3, 3, 2, 5)) * np.array([3.0, 0.1, 1.0, 0.5, 2.0])
    order = lp.rank_filters_l1(kernel)
    assert order.dtype == np.int64 and order[0] == 1 and order[-1] == 0
    next_kernel = RNG.normal(size=(3, 3, 5, 7))
    k, b, nk = lp.prune_filters(kernel, np.arange(5.0), next_kernel, np.array([0, 2, 4]))
    np.testing.assert_array_equal(k, kernel[..., [0, 2, 4]])
    np.testing.assert_array_equal(b, [0.0, 2.0, 4.0])
    np.testing.assert_array_equal(nk, next_kernel[:, :, [0, 2, 4], :])


@pytest.mark.parametrize("keep, error, text", [
    ([], ValueError, "non-empty"), ([0, 5], ValueError, "outside 0..4"),
    ([1, 1], ValueError, "repeated"), ([0.5], TypeError, "integer"),
])
def test_prune_filters_checks_keep(keep, error, text):
    with pytest.raises(error, match=text):
        lp.prune_filters(np.ones((3, 3, 1, 5)), np.zeros(5), np.ones((3, 3, 5, 2)),
                         np.array(keep))


def test_prune_filters_checks_that_layers_chain():
    with pytest.raises(ValueError, match="reads 4 input channels but kernel makes 5"):
        lp.prune_filters(np.ones((3, 3, 1, 5)), np.zeros(5), np.ones((3, 3, 4, 2)), [0])
    with pytest.raises(ValueError, match=r"\(kh, kw, c_in, c_out\)"):
        lp.rank_filters_l1(np.ones((3, 5)))


def test_kernel_image_tiles_filters():
    kernel = np.arange(3 * 3 * 2 * 4, dtype=float).reshape(3, 3, 2, 4)
    image = lp.kernel_image(kernel)
    assert image.shape == (6, 12)
    np.testing.assert_array_equal(image[3:6, 9:12], kernel[:, :, 1, 3])


# --------------------------------------------------------------------------------------
# Keras glue, on a tiny course CNN (8×8 inputs, width 4)
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny():
    from labkit.models import build_course_cnn

    rng = np.random.default_rng(1)
    x = rng.random((96, 8, 8, 1)).astype(np.float32)
    y = (x[:, :4].mean(axis=(1, 2, 3)) > x[:, 4:].mean(axis=(1, 2, 3))).astype(np.int64)
    model = build_course_cnn((8, 8, 1), 2, width=4, seed=0)
    model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    return model, x, y


def test_prune_model_layer_and_global(tiny):
    model, x, y = tiny
    before = [w.copy() for w in model.get_weights()]
    layerwise = lp.prune_model(model, 0.7)
    assert all(s == pytest.approx(0.7, abs=0.02) for s in lp.kernel_sparsity(layerwise).values())
    global_ = lp.prune_model(model, 0.7, scope="global")
    assert lp.total_sparsity(global_) == pytest.approx(0.7, abs=1e-3)
    planned = lp.prune_model(model, {"conv3": 0.5})
    assert lp.kernel_sparsity(planned)["conv1"] == 0.0
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="choose from"):
        lp.prune_model(model, 0.5, layers=["pool1"])


def test_sweeps_scan_and_plan(tiny):
    model, x, y = tiny
    base = accuracy(model, x, y)
    assert base == pytest.approx(model.evaluate(x, y, verbose=0)[1], abs=1e-6)
    sparsities = [0.0, 0.5, 0.9]
    curve = lp.accuracy_vs_sparsity(model, x, y, sparsities, progress=False)
    assert curve.shape == (3,) and curve[0] == pytest.approx(base)
    scan = lp.sensitivity_scan(model, x, y, sparsities, progress=False)
    assert set(scan) == {"conv1", "conv2", "conv3", "dense"}
    assert all(acc[0] == pytest.approx(base) for acc in scan.values())
    plan = lp.sparsity_plan(scan, sparsities, base, max_drop=1.0 - 1e-9)
    assert set(plan.values()) == {0.9}


def test_schedule_reaches_its_target_only_with_a_low_frequency():
    schedule = lp.polynomial_schedule(0.8, end_step=85, frequency=10)
    assert schedule.end_step == 80
    trace = lp.schedule_trace(schedule, 100)
    assert trace[0] == 0.0 and trace[79] < 0.8 and trace[80] == pytest.approx(0.8)
    assert len(np.unique(trace[:81])) == 9  # updates at steps 0, 10, ..., 80
    with pytest.raises(ValueError, match="frequency=100 leaves no mask update"):
        lp.polynomial_schedule(0.8, end_step=85, frequency=100)


def test_prune_and_fine_tune_reaches_the_sparsity(tiny):
    model, x, y = tiny
    pruned = lp.prune_and_fine_tune(model, x, y, 0.75, epochs=2, pruning_epochs=1,
                                    frequency=1, batch_size=16)
    assert [layer.__class__.__name__ for layer in pruned.layers] == \
        [layer.__class__.__name__ for layer in model.layers], "pruning wrappers stripped"
    for name, sparsity in lp.kernel_sparsity(pruned).items():
        assert sparsity == pytest.approx(0.75, abs=0.02), name


def test_prune_m_by_n_gives_2_4_kernels(tiny):
    model, x, y = tiny
    pruned = lp.prune_m_by_n_and_fine_tune(model, x, y, epochs=1, batch_size=16)
    for name in lp.prunable_layers(pruned):
        assert lp.is_m_by_n_sparse(pruned.get_layer(name).kernel.numpy()), name
    assert lp.kernel_sparsity(pruned)["conv2"] == pytest.approx(0.5)


def test_remove_filters_equals_zeroing_them(tiny):
    from labkit.models import count_macs

    model, x, _ = tiny
    keep = lp.filters_to_keep(model, 0.5)
    assert {name: len(idx) for name, idx in keep.items()} == {"conv1": 2, "conv2": 4, "conv3": 8}
    slim = lp.remove_filters(model, keep)
    zeroed = lp.prune_model(model, 0.0)
    for name, idx in keep.items():
        kernel, bias = zeroed.get_layer(name).get_weights()
        dropped = np.setdiff1d(np.arange(kernel.shape[-1]), idx)
        kernel[..., dropped], bias[dropped] = 0.0, 0.0
        zeroed.get_layer(name).set_weights([kernel, bias])
    np.testing.assert_allclose(slim.predict_on_batch(x), zeroed.predict_on_batch(x), atol=1e-5)
    assert count_macs(slim) < 0.3 * count_macs(model)
    with pytest.raises(ValueError, match="only Conv2D filters"):
        lp.remove_filters(model, {"dense": [0]})


def test_zeros_survive_conversion_and_explorer(tiny, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    from labkit.convert import convert_float32, convert_int8

    model, x, _ = tiny
    pruned = lp.prune_model(model, 0.8)
    for model_bytes in (convert_float32(pruned), convert_int8(pruned, x[:32])):
        stored = lp.tflite_weight_sparsity(model_bytes)
        assert len(stored) == 4
        assert all(s == pytest.approx(0.8, abs=0.02) for s in stored.values()), stored
    kernel = model.get_layer("conv2").kernel.numpy()
    import matplotlib.pyplot as plt

    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append(plt.gcf()))
    lp.sparsity_explorer(kernel, [0.0, 0.5, 0.9], [0.9, 0.8, 0.5])  # headless: static figures
    assert len(shown) == 2 and "90%" in shown[1].axes[0].get_title()
    displayed = []
    monkeypatch.setattr("IPython.display.display", displayed.append)
    lp.sparsity_explorer(kernel, [0.0, 0.5, 0.9], [0.9, 0.8, 0.5], interactive=True)
    assert len(displayed) == 1 and len(displayed[0].children) >= 1
    fig = lp.plot_masked_kernels(kernel, [0.0, 0.5, 0.9], [0.9, 0.8, 0.5], show=[0.0, 0.9])
    assert len(fig.axes) == 3 and "90%" in fig.axes[1].get_title()  # two panels, one colorbar


def test_sparse_encoding_is_smaller_and_computes_the_same(tiny):
    from labkit import runtime
    from labkit.convert import convert_float32

    model, x, _ = tiny
    pruned = lp.prune_model(model, 0.9)
    dense_format, sparse_format = convert_float32(pruned), lp.convert_sparse_encoding(pruned)
    assert len(sparse_format) < 0.7 * len(dense_format)  # graph overhead dominates a tiny model
    assert "DENSIFY" in runtime.describe(sparse_format).ops
    np.testing.assert_allclose(runtime.predict(sparse_format, x[:16]),
                               runtime.predict(dense_format, x[:16]), atol=1e-5)


def test_prune_model_refuses_a_plan_with_a_global_threshold(tiny):
    model, _, _ = tiny
    with pytest.raises(ValueError, match="needs scope='layer'"):
        lp.prune_model(model, {"conv2": 0.5}, scope="global")
    with pytest.raises(ValueError, match="scope must be 'layer' or 'global'"):
        lp.prune_model(model, 0.5, scope="per-layer")
