"""Overfitting, underfitting and slow convergence: the code behind notebook 01_fitting.

Pure numpy (fast to test, no TensorFlow):

- :func:`standardize`, :func:`early_stopping_epoch`, :func:`epochs_to_reach`,
  :func:`diagnose_fit`: the reference answers of the notebook's exercises;
- :func:`learning_curves`: synthetic loss curves of each regime, for tests and plots.

TensorFlow glue (imported on first call through :mod:`labkit._tf`); the models and the
training loop live in :mod:`labkit.models` and :mod:`labkit.training`:

- :func:`keras_early_stopping_epoch` drives the real Keras ``EarlyStopping`` callback on a
  list of losses;
- judging runs on held-out data: :func:`held_out_correct`, :func:`compare_runs` (Wilson
  intervals and the exact McNemar test of :mod:`labkit.stats`), :func:`confidence` (why
  validation loss and accuracy can disagree);
- :func:`run_verdict`, :func:`show_run_explorer`: the diagnosis of a run, and the run
  explorer widget.

Example
-------
>>> early_stopping_epoch([1.0, 0.8, 0.9, 0.85, 0.7], patience=2)
1
>>> epochs_to_reach([0.2, 0.5, 0.7], 0.5)
2
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from labkit.data import Dataset
from labkit.training import Run
from labkit.validate import check_array, check_choice, check_fraction, check_int, check_real

REGIMES = ("underfitting", "overfitting", "slow_convergence", "good_fit")

# diagnose_fit's thresholds (the notebook states the rules; the exercise checks them).
# Losses are mean cross-entropy in nats; chance level for 10 balanced classes is ln 10 = 2.30.
GAP_LIMIT = 0.5  # final val_loss - train_loss above this: the model memorises its data
HIGH_LOSS = 0.8  # final train_loss above this: the model has not learned its data
STILL_IMPROVING = 0.004  # val_loss still falling faster than this (nats per epoch)


# ----------------------------------------------------------------------------------------
# Input checks shared by the exercises' references
# ----------------------------------------------------------------------------------------


def _as_curve(values: Any, name: str) -> np.ndarray:
    """A 1-D float64 array of finite numbers, at least one value."""
    curve = check_array(values, name, ndim=1, allow_nonfinite=True,
                        hint="pass a sequence of numbers, one per epoch")
    if not np.all(np.isfinite(curve)):
        raise ValueError(f"{name} contains NaN or inf at epoch(s) "
                         f"{np.flatnonzero(~np.isfinite(curve)).tolist()}; a diverged run has "
                         "no meaningful curve")
    return curve.astype(np.float64)


def _check_dataset(data: Any) -> None:
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a labkit.data.Dataset (e.g. load_mnist1d()), got "
                        f"{type(data).__name__}")


# ----------------------------------------------------------------------------------------
# Exercise references (pure numpy)
# ----------------------------------------------------------------------------------------


def standardize(x_train: np.ndarray, x_other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Standardize both arrays with per-feature statistics of the training data only.

    Parameters
    ----------
    x_train : array (n, d)
        Training inputs; each column's mean and standard deviation (population std,
        ``ddof=0``) are computed from these rows only.
    x_other : array (m, d)
        Validation or test inputs, transformed with the training statistics.

    Returns
    -------
    (x_train_s, x_other_s) : float arrays of the input shapes
        ``(x - mean) / std``; a feature whose training std is 0 (constant) is only centred
        (divided by 1), so it becomes 0 in training and never NaN or inf.

    Raises
    ------
    TypeError
        If an array is not numeric.
    ValueError
        If the arrays are not 2-D with the same number of features, ``x_train`` is empty,
        or they hold NaN/inf.

    Example
    -------
    >>> a, b = standardize(np.array([[0.0, 5.0], [2.0, 5.0]]), np.array([[4.0, 6.0]]))
    >>> a.tolist(), b.tolist()
    ([[-1.0, 0.0], [1.0, 0.0]], [[3.0, 1.0]])
    """
    dims, fix = ("samples", "features"), "flatten each sample first"
    x_train = check_array(x_train, "x_train", shape=dims, hint=fix)
    x_other = check_array(x_other, "x_other", shape=dims, hint=fix, allow_empty=True)
    if x_train.shape[1] != x_other.shape[1]:
        raise ValueError(f"x_train {x_train.shape} and x_other {x_other.shape} need the same "
                         "number of features")
    dtype = np.result_type(x_train.dtype, x_other.dtype, np.float32)
    mean = x_train.mean(axis=0, dtype=np.float64)
    std = x_train.std(axis=0, dtype=np.float64)
    scale = np.where(std > 0, std, 1.0)
    return (((x_train - mean) / scale).astype(dtype), ((x_other - mean) / scale).astype(dtype))


def early_stopping_epoch(val_loss: Sequence[float], patience: int, min_delta: float = 0.0
                         ) -> int:
    """The epoch whose weights Keras's ``EarlyStopping`` would restore.

    Follows ``EarlyStopping(monitor="val_loss", patience=patience, min_delta=min_delta,
    restore_best_weights=True)`` of tf_keras exactly:

    - ``best`` starts at +inf; epoch ``e`` *improves* when
      ``val_loss[e] + min_delta < best`` (strictly); then ``best = val_loss[e]`` and the
      wait count restarts at 0;
    - after each epoch that does not improve the wait count grows by 1; when it reaches
      ``patience`` (and at least 1, so ``patience=0`` acts like 1) training stops;
    - at the end of training, stopped early or not, the weights of the last improving
      epoch are restored.

    Parameters
    ----------
    val_loss : sequence of float
        Validation loss after each epoch (finite), epoch 0 first.
    patience : int
        Epochs without improvement before stopping, >= 0.
    min_delta : float
        Smallest decrease that counts as an improvement, >= 0.

    Returns
    -------
    int
        0-based index of the restored epoch.

    Example
    -------
    >>> early_stopping_epoch([1.0, 0.8, 0.9, 0.85, 0.7], patience=2)
    1
    >>> early_stopping_epoch([1.0, 0.8, 0.79, 0.9], patience=5, min_delta=0.05)
    1
    """
    losses = _as_curve(val_loss, "val_loss")
    patience = check_int(patience, "patience", low=0)
    min_delta = check_real(min_delta, "min_delta", low=0)
    best, best_epoch, wait = np.inf, 0, 0
    for epoch, loss in enumerate(losses):
        wait += 1
        if loss + min_delta < best:
            best, best_epoch, wait = loss, epoch, 0
        elif wait >= patience and epoch > 0:
            break
    return best_epoch


def epochs_to_reach(val_accuracy: Sequence[float], target: float) -> int | None:
    """The first epoch, counted from 1, whose accuracy is at least ``target``.

    Parameters
    ----------
    val_accuracy : sequence of float
        Validation accuracy (a fraction in [0, 1]) after each epoch.
    target : float
        Accuracy to reach, a fraction in [0, 1].

    Returns
    -------
    int or None
        ``e`` such that ``val_accuracy[e - 1] >= target`` for the first time; ``None`` when
        no epoch reaches it.

    Example
    -------
    >>> epochs_to_reach([0.2, 0.5, 0.7], 0.5), epochs_to_reach([0.2, 0.4], 0.5)
    (2, None)
    """
    acc = _as_curve(val_accuracy, "val_accuracy")
    target = check_fraction(target, "target", interval="[0, 1]")
    reached = np.flatnonzero(acc >= target)
    return int(reached[0]) + 1 if reached.size else None


def diagnose_fit(train_loss: Sequence[float], val_loss: Sequence[float]) -> str:
    """Name the regime of a training run from its loss curves.

    With ``n`` epochs and ``q = max(1, n // 4)`` (a quarter of the run), the rules are
    applied in this order:

    1. ``"overfitting"`` if the final gap ``val_loss[-1] - train_loss[-1]`` is above
       :data:`GAP_LIMIT` and the lowest validation loss came before the last quarter
       (its first index, counted from 0, is ``< n - q``);
    2. if the final training loss is above :data:`HIGH_LOSS`, the model is still bad:

       - ``"slow_convergence"`` if it is still improving: the mean validation loss of the
         last ``q`` epochs is lower than the mean of the ``q`` epochs before them by more
         than ``STILL_IMPROVING * q`` (nats);
       - ``"underfitting"`` otherwise (it has stopped improving);
    3. ``"good_fit"`` otherwise.

    Every comparison is strict (``>``, ``<``).

    Parameters
    ----------
    train_loss, val_loss : sequence of float
        Loss (nats) after each epoch, both the same length, at least 2 epochs.

    Returns
    -------
    str
        One of :data:`REGIMES`.

    Raises
    ------
    ValueError
        If the curves differ in length, have fewer than 2 epochs or contain NaN/inf.

    Example
    -------
    >>> diagnose_fit([2.3, 1.6, 1.5, 1.5], [2.3, 1.7, 1.6, 1.6])
    'underfitting'
    >>> diagnose_fit([2.3, 0.5, 0.2, 0.1], [2.3, 1.0, 1.1, 1.3])
    'overfitting'
    """
    train, val = _as_curve(train_loss, "train_loss"), _as_curve(val_loss, "val_loss")
    if train.size != val.size or train.size < 2:
        raise ValueError(f"train_loss and val_loss need the same length >= 2, got {train.size} "
                         f"and {val.size} epochs")
    n = val.size
    q = max(1, n // 4)
    if val[-1] - train[-1] > GAP_LIMIT and int(np.argmin(val)) < n - q:
        return "overfitting"
    if train[-1] > HIGH_LOSS:
        recent_drop = val[n - 2 * q:n - q].mean() - val[n - q:].mean()
        return "slow_convergence" if recent_drop > STILL_IMPROVING * q else "underfitting"
    return "good_fit"


def learning_curves(regime: str, *, epochs: int = 40, seed: int = 0, noise: float = 0.005
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic ``(train_loss, val_loss)`` curves of one regime, well inside its rules.

    Loss curves start near chance level (ln 10 = 2.30 nats) and then:

    - ``"underfitting"``: both flatten early at a high loss (1.2-1.8), small gap;
    - ``"overfitting"``: training loss falls towards 0 while validation loss bottoms out
      at 20-45 % of the run and then climbs;
    - ``"slow_convergence"``: both are still falling steadily at the end, far from done;
    - ``"good_fit"``: both flatten at a low loss with a small gap.

    Parameters
    ----------
    regime : str
        One of :data:`REGIMES`.
    epochs : int
        Length of the curves, 20-100.
    seed : int
        Seed of the random shape parameters and noise.
    noise : float
        Standard deviation of the Gaussian noise added to every value (nats).

    Example
    -------
    >>> train_loss, val_loss = learning_curves("overfitting", seed=1)
    >>> diagnose_fit(train_loss, val_loss)
    'overfitting'
    """
    check_choice(regime, "regime", REGIMES)
    epochs = check_int(epochs, "epochs", low=20, high=100)
    noise = check_real(noise, "noise", low=0, high=0.05)
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    e = np.arange(epochs, dtype=np.float64)
    start = np.log(10.0) + rng.uniform(-0.05, 0.05)

    def decay(floor: float, tau_fraction: float) -> np.ndarray:
        return floor + (start - floor) * np.exp(-e / (tau_fraction * epochs))

    if regime == "underfitting":
        train = decay(rng.uniform(1.2, 1.8), rng.uniform(0.05, 0.1))
        val = train + rng.uniform(0.03, 0.15)
    elif regime == "good_fit":
        train = decay(rng.uniform(0.1, 0.4), rng.uniform(0.08, 0.15))
        val = train + rng.uniform(0.05, 0.25)
    elif regime == "overfitting":
        train = decay(rng.uniform(0.01, 0.15), rng.uniform(0.08, 0.15))
        best = rng.uniform(0.2, 0.45) * epochs
        rise = rng.uniform(0.4, 1.0) / (epochs - 1 - best)
        val = decay(rng.uniform(0.9, 1.3), best / epochs / 4) + rise * np.maximum(0, e - best)
    else:  # slow_convergence: nearly straight descent, still steep at the end
        train = start - rng.uniform(0.7, 1.2) * (e / (epochs - 1)) ** rng.uniform(0.9, 1.0)
        val = train + rng.uniform(0.03, 0.2)
    return (train + rng.normal(0, noise, epochs), val + rng.normal(0, noise, epochs))


def keras_early_stopping_epoch(val_loss: Sequence[float], patience: int,
                               min_delta: float = 0.0) -> int:
    """The epoch the real tf_keras ``EarlyStopping`` restores, for a list of losses.

    Drives ``EarlyStopping(monitor="val_loss", restore_best_weights=True)`` with a stand-in
    model whose "weights" are the epoch number, so whatever the callback restores at the
    end of training is the epoch it chose. Used to test :func:`early_stopping_epoch`.

    Example
    -------
    >>> keras_early_stopping_epoch([1.0, 0.8, 0.9, 0.85, 0.7], patience=2)
    1
    """
    from labkit._tf import load

    _, keras = load()
    losses = _as_curve(val_loss, "val_loss")

    class EpochAsWeights:  # what EarlyStopping touches on a model
        def __init__(self) -> None:
            self.epoch, self.restored, self.stop_training = 0, None, False

        def get_weights(self) -> list[int]:
            return [self.epoch]

        def set_weights(self, weights: list[int]) -> None:
            self.restored = weights[0]

    model = EpochAsWeights()
    callback = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience,
                                             min_delta=min_delta, restore_best_weights=True)
    callback.set_model(model)
    callback.on_train_begin()
    for epoch, loss in enumerate(losses):
        model.epoch = epoch
        callback.on_epoch_end(epoch, {"val_loss": float(loss)})
        if model.stop_training:
            break
    callback.on_train_end()
    return int(model.restored)


# ----------------------------------------------------------------------------------------
# Judging a run on held-out data (TensorFlow for the predictions, labkit.stats for verdicts)
# ----------------------------------------------------------------------------------------


def _logits(run: Run, x: np.ndarray) -> np.ndarray:
    if run.model is None:
        raise ValueError(f"run {run.name!r} has no model; judge runs made by training.train")
    out = [np.asarray(run.model(x[i:i + 8192], training=False)) for i in range(0, len(x), 8192)]
    return np.concatenate(out)


def held_out_correct(run: Run, data: Dataset, split: str = "test") -> np.ndarray:
    """Boolean vector: True where the run's final model classifies a sample of ``split``
    (``"val"`` or ``"test"``) right. The input of :func:`labkit.stats.accuracy` and
    :func:`labkit.stats.compare`."""
    _check_dataset(data)
    check_choice(split, "split", ("val", "test"))
    x, y = getattr(data, "x_" + split), getattr(data, "y_" + split)
    return np.argmax(_logits(run, x), axis=-1) == y


def compare_runs(a: Run, b: Run, data: Dataset, split: str = "test") -> Any:
    """Run ``a`` against run ``b`` on the same held-out samples: both accuracies with their
    Wilson intervals, the paired difference and the exact McNemar test
    (:func:`labkit.stats.compare`; ``stats.verdict(result, above=0.0)`` says whether ``a``
    beats ``b``)."""
    from labkit import stats

    return stats.compare(held_out_correct(a, data, split), held_out_correct(b, data, split),
                         names=(a.name, b.name))


def confidence(run: Run, data: Dataset, split: str = "val") -> dict[str, float]:
    """How sure the run's final model is: the mean probability it gives its predicted class
    on the samples it gets ``right`` and on those it gets ``wrong``, and the mean
    cross-entropy (nats) of each group. An overconfident model is sure of its mistakes: its
    loss grows with the confidence of its wrong answers even when its accuracy does not
    drop."""
    _check_dataset(data)
    check_choice(split, "split", ("val", "test"))
    x, y = getattr(data, "x_" + split), getattr(data, "y_" + split)
    logits = _logits(run, x)
    logits = logits - logits.max(axis=1, keepdims=True)
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    predicted = np.argmax(log_p, axis=1)
    right = predicted == y
    top = np.exp(log_p.max(axis=1))
    nll = -log_p[np.arange(len(y)), y]
    return {"right": float(top[right].mean()) if right.any() else float("nan"),
            "wrong": float(top[~right].mean()) if (~right).any() else float("nan"),
            "loss_right": float(nll[right].mean()) if right.any() else float("nan"),
            "loss_wrong": float(nll[~right].mean()) if (~right).any() else float("nan"),
            "error_rate": float(np.mean(~right))}


# ----------------------------------------------------------------------------------------
# Figures and the run explorer
# ----------------------------------------------------------------------------------------


def run_verdict(run: Run) -> str:
    """:func:`diagnose_fit` of a run's loss curves ("" for a one-epoch run)."""
    return diagnose_fit(run.history["loss"], run.history["val_loss"]) if run.epochs > 1 else ""


def show_run_explorer(runs: Mapping[str, Run], *, interactive: bool | None = None) -> None:
    """Pick a run (and another to compare) and see its loss and accuracy per epoch.

    Headless (see :func:`labkit.widgets.explore`) it draws the first run next to the last.
    """
    import matplotlib.pyplot as plt

    from labkit.plots import plot_run
    from labkit.widgets import explore

    if not runs:
        raise ValueError("runs is empty; pass a dict of name -> Run")
    names = list(runs)

    def draw(run: str = names[0], compare: str = "(none)") -> None:
        chosen = [runs[run]] + ([] if compare in ("(none)", run) else [runs[compare]])
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
        for index, item in enumerate(chosen):
            prefix = f"{item.name}: " if len(chosen) > 1 else ""
            style = ("-", "--") if index == 0 else ("-.", ":")
            for ax, metric in zip(axes, ("loss", "accuracy")):
                plot_run(ax, item, metric, label_prefix=prefix, styles=style)
        for ax, metric in zip(axes, ("loss", "accuracy")):
            ax.set_title(f"{metric} per epoch")
            ax.legend(fontsize=8)
        fig.tight_layout()
        plt.show()

    explore(draw, {"run": lambda w: w.Dropdown(options=names, value=names[0], description="run"),
                   "compare": lambda w: w.Dropdown(options=["(none)", *names], value="(none)",
                                                   description="compare with")},
            static=[{"run": names[0], "compare": names[-1]}], interactive=interactive)
