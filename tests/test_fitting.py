"""labkit.fitting: the exercise references against the real Keras callback, the curve
generator against the rules, and the training loop on tiny runs."""

from __future__ import annotations

import numpy as np
import pytest

from labkit import fitting, models, plots, training
from labkit.data import load_mnist1d


@pytest.fixture(scope="module")
def ds():
    return load_mnist1d()


@pytest.fixture(scope="module")
def keras():
    from labkit._tf import load

    return load()[1]


# ------------------------------------------------------------------- early_stopping_epoch


def _random_losses(rng: np.random.Generator) -> list[float]:
    """Validation losses on a grid of 1/64 (exact ties), noisy, falling then rising."""
    n = int(rng.integers(1, 30))
    steps = rng.choice([-4, -3, -2, -1, 0, 0, 1, 2, 3], size=n)
    return [float(v) for v in 2.0 + np.cumsum(steps) / 64]


def test_early_stopping_epoch_matches_keras_on_random_sequences(keras):
    rng = np.random.default_rng(0)
    for _ in range(400):
        losses = _random_losses(rng)
        patience = int(rng.integers(0, 7))
        min_delta = float(rng.choice([0.0, 1 / 64, 2 / 64, 3 / 64, 0.05]))
        assert fitting.early_stopping_epoch(losses, patience, min_delta) == \
            fitting.keras_early_stopping_epoch(losses, patience, min_delta), (losses, patience,
                                                                              min_delta)


@pytest.mark.parametrize("losses, patience, min_delta, expected", [
    ([1.0, 0.8, 0.9, 0.85, 0.7], 2, 0.0, 1),     # stops at epoch 3, never sees 0.7
    ([1.0, 0.9, 0.95, 0.97], 10, 0.0, 1),        # never stops: the best epoch is restored
    ([1.0, 0.9, 0.95, 0.97], 0, 0.0, 1),         # patience 0 acts like 1
    ([1.0, 1.0, 1.0], 5, 0.0, 0),                # equal is not better
    ([1.0, 0.75, 0.5], 5, 0.25, 2),              # a drop of exactly min_delta does not count
    ([1.0, 0.7, 0.65, 0.6, 0.55], 5, 0.1, 4),    # small drops do not move best: they add up
    ([3.0], 1, 0.0, 0),
])
def test_early_stopping_epoch_worked_examples(keras, losses, patience, min_delta, expected):
    assert fitting.early_stopping_epoch(losses, patience, min_delta) == expected
    assert fitting.keras_early_stopping_epoch(losses, patience, min_delta) == expected


@pytest.mark.parametrize("args, error", [
    (([], 2), ValueError), (([1.0, np.nan], 2), ValueError), (([1.0], -1), ValueError),
    (([1.0], 1.5), TypeError), (([1.0], 1, -0.1), ValueError), ((None, 1), TypeError),
    ((["a"], 1), TypeError),
])
def test_early_stopping_epoch_rejects_bad_input(args, error):
    with pytest.raises(error):
        fitting.early_stopping_epoch(*args)


# ------------------------------------------------------------------------------ standardize


def test_standardize_uses_training_statistics_only():
    rng = np.random.default_rng(1)
    x_train = rng.normal(5, 3, size=(200, 6)).astype(np.float32)
    x_other = rng.normal(-5, 1, size=(50, 6)).astype(np.float32)
    train_s, other_s = fitting.standardize(x_train, x_other)
    np.testing.assert_allclose(train_s.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(train_s.std(0), 1, atol=1e-5)
    expected = (x_other - x_train.mean(0)) / x_train.std(0)
    np.testing.assert_allclose(other_s, expected, rtol=1e-5, atol=1e-5)
    assert train_s.dtype == np.float32 and other_s.shape == x_other.shape


def test_standardize_centres_constant_features_without_nan():
    x_train = np.array([[1.0, 7.0], [3.0, 7.0]])
    train_s, other_s = fitting.standardize(x_train, np.array([[2.0, 9.0]]))
    assert np.all(np.isfinite(train_s)) and np.all(np.isfinite(other_s))
    np.testing.assert_array_equal(train_s[:, 1], [0.0, 0.0])
    np.testing.assert_array_equal(other_s, [[0.0, 2.0]])


def test_standardize_rejects_bad_shapes():
    with pytest.raises(ValueError, match="2-D"):
        fitting.standardize(np.zeros(5), np.zeros((2, 5)))
    with pytest.raises(ValueError, match="same"):
        fitting.standardize(np.zeros((3, 4)), np.zeros((2, 5)))


# -------------------------------------------------------------------------- epochs_to_reach


def test_epochs_to_reach():
    assert fitting.epochs_to_reach([0.2, 0.5, 0.7], 0.5) == 2
    assert fitting.epochs_to_reach([0.6], 0.5) == 1
    assert fitting.epochs_to_reach([0.2, 0.4], 0.5) is None
    assert isinstance(fitting.epochs_to_reach(np.array([0.1, 0.9]), 0.5), int)
    with pytest.raises(ValueError, match="fraction"):
        fitting.epochs_to_reach([0.2], 50)


# ----------------------------------------------------------------- diagnose_fit and curves


@pytest.mark.parametrize("regime", fitting.REGIMES)
def test_generated_curves_are_diagnosed_as_their_regime(regime):
    for seed in range(150):
        epochs = 20 + seed % 81
        train, val = fitting.learning_curves(regime, epochs=epochs, seed=seed)
        assert train.shape == val.shape == (epochs,)
        assert fitting.diagnose_fit(train, val) == regime, (seed, epochs)


def test_learning_curves_repeat_with_a_seed_and_check_arguments():
    a = fitting.learning_curves("good_fit", seed=3)
    b = fitting.learning_curves("good_fit", seed=3)
    np.testing.assert_array_equal(a[0], b[0])
    with pytest.raises(ValueError, match="regime"):
        fitting.learning_curves("perfect")
    with pytest.raises(ValueError, match="epochs"):
        fitting.learning_curves("good_fit", epochs=5)


def test_diagnose_fit_rejects_mismatched_curves():
    with pytest.raises(ValueError, match="same length"):
        fitting.diagnose_fit([1.0, 0.9], [1.0])
    with pytest.raises(ValueError, match="same length"):
        fitting.diagnose_fit([1.0], [1.0])


# ------------------------------------------------------------------ models and training


def test_model_builders_parameter_counts(keras):
    assert models.build_mlp(()).count_params() == 40 * 10 + 10
    assert models.build_mlp((16, 16)).count_params() == 40 * 16 + 16 + 16 * 16 + 16 + 16 * 10 + 10
    assert models.build_cnn().count_params() == 5210
    bn = models.build_mlp((8,), batch_norm=True, dropout=0.5)
    kinds = [type(layer).__name__ for layer in bn.layers]
    assert kinds == ["Dense", "BatchNormalization", "ReLU", "Dropout", "Dense"]
    with pytest.raises(ValueError, match="widths"):
        models.build_mlp((0,))
    with pytest.raises(ValueError, match="dropout"):
        models.build_mlp((8,), dropout=1.0)


def test_random_shift_moves_signals_and_fills_zeros(keras):
    import tensorflow as tf

    x = np.tile(np.arange(1, 11, dtype=np.float32), (50, 1))
    shifted = training.random_shift(tf.constant(x), 3).numpy()
    for row in shifted:
        inside = row[row != 0]
        # a contiguous run of the original values, zero-filled at one end
        assert len(inside) >= 7 and np.all(np.diff(inside) == 1)
    np.testing.assert_array_equal(training.random_shift(tf.constant(x), 0).numpy(), x)


def test_subset_is_stratified(ds):
    part = training.subset(ds, 0.1)
    assert len(part.x_train) == 350 and len(part.x_val) == len(ds.x_val)
    assert np.all(np.bincount(part.y_train) == 35)
    with pytest.raises(ValueError):
        training.subset(ds, 0.0)


def test_train_returns_a_repeatable_history(ds):
    small = training.subset(ds, 0.1)
    first = training.train(lambda: models.build_mlp(()), small, name="lr", epochs=3)
    again = training.train(lambda: models.build_mlp(()), small, name="lr", epochs=3)
    assert sorted(first.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert first.epochs == 3 and first.params == 410 and first.settings["train_samples"] == 350
    assert first.history == again.history
    assert first.final["val_loss"] == pytest.approx(first.history["val_loss"][-1], abs=1e-6)
    assert "lr: 410 params" in repr(first)
    with pytest.raises(ValueError, match="optimizer"):
        training.train(lambda: models.build_mlp(()), small, optimizer="rmsprop", epochs=1)


def test_train_drives_keras_early_stopping_and_restores_the_best_epoch(ds, keras):
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=2,
                                         restore_best_weights=True)
    run = training.train(lambda: models.build_mlp((128, 128)), training.subset(ds, 0.1),
                        epochs=40, callbacks=[stop])
    assert run.epochs < 40, "a large MLP on 350 samples should stop early"
    restored = fitting.early_stopping_epoch(run.history["val_loss"], 2)
    assert restored == run.epochs - 1 - 2
    assert run.final["val_loss"] == pytest.approx(run.history["val_loss"][restored], abs=1e-5)


# ------------------------------------------------------------------------ tables and plots


def test_markdown_table():
    assert plots.markdown_table(["a", "b"], [[1, 2]]) == "| a | b |\n|---|---|\n| 1 | 2 |"
    with pytest.raises(ValueError, match="header"):
        plots.markdown_table(["a", "b"], [[1]])


def test_plots_and_static_explorer_run_headless(ds):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run = training.train(lambda: models.build_mlp(()), training.subset(ds, 0.1), epochs=2,
                        name="tiny")
    fig = plots.plot_learning_curves([run, run], metric="accuracy")
    assert len(fig.axes) == 2
    fitting.show_run_explorer({"tiny": run}, interactive=False)
    plt.close("all")
    with pytest.raises(ValueError, match="metric"):
        plots.plot_run(fig.axes[0], run, "f1")
