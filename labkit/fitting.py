"""Overfitting, underfitting and slow convergence: the code behind notebook 01_fitting.

Pure numpy (fast to test, no TensorFlow):

- :func:`standardize`, :func:`early_stopping_epoch`, :func:`epochs_to_reach`,
  :func:`diagnose_fit`: the reference answers of the notebook's exercises;
- :func:`learning_curves`: synthetic loss curves of each regime, for tests and plots.

TensorFlow glue (imported on first call through :mod:`labkit._tf`):

- :func:`build_mlp`, :func:`build_cnn`: the models of the capacity sweep;
  :func:`random_shift`: the data augmentation; :func:`subset`: a smaller training set;
- :func:`train`: a small, fast training loop that returns a :class:`Run` with its
  per-epoch history; :func:`keras_early_stopping_epoch` drives the real Keras
  ``EarlyStopping`` callback on a list of losses;
- :func:`plot_learning_curves`, :func:`show_run_explorer`, :func:`markdown_table`: figures,
  the run explorer widget and tables.

Example
-------
>>> early_stopping_epoch([1.0, 0.8, 0.9, 0.85, 0.7], patience=2)
1
>>> epochs_to_reach([0.2, 0.5, 0.7], 0.5)
2
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from labkit.data import Dataset
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
# Models and training (TensorFlow)
# ----------------------------------------------------------------------------------------


def build_mlp(hidden: Sequence[int] = (64, 64), *, l2: float = 0.0, dropout: float = 0.0,
              batch_norm: bool = False, input_len: int = 40, num_classes: int = 10,
              name: str | None = None):
    """A multilayer perceptron that outputs logits; ``hidden=()`` is logistic regression.

    Parameters
    ----------
    hidden : sequence of int
        Width of each hidden ReLU layer.
    l2 : float
        L2 weight decay on every kernel: ``l2 * sum(w ** 2)`` is added to the loss.
    dropout : float
        Fraction of each hidden layer's units dropped in training, in [0, 1).
    batch_norm : bool
        Batch normalization between each hidden Dense layer and its ReLU.

    Example
    -------
    >>> build_mlp((16,)).count_params()  # 40*16 + 16 + 16*10 + 10
    826
    """
    if isinstance(hidden, str) or not isinstance(hidden, (Sequence, np.ndarray)):
        raise TypeError(f"hidden must be a sequence of layer widths, e.g. (64, 64), got {hidden!r}")
    for i, width in enumerate(hidden):
        check_int(width, f"hidden[{i}]", low=1, hint="hidden lists positive layer widths")
    check_real(l2, "l2", low=0)
    check_fraction(dropout, "dropout", interval="[0, 1)")
    check_int(input_len, "input_len", low=1)
    check_int(num_classes, "num_classes", low=1)
    from labkit._tf import load

    _, keras = load()
    reg = keras.regularizers.L2(l2) if l2 else None
    layers = [keras.layers.Input((input_len,))]
    for width in hidden:
        layers.append(keras.layers.Dense(width, kernel_regularizer=reg, use_bias=not batch_norm))
        if batch_norm:
            layers.append(keras.layers.BatchNormalization())
        layers.append(keras.layers.ReLU())
        if dropout:
            layers.append(keras.layers.Dropout(dropout))
    layers.append(keras.layers.Dense(num_classes, kernel_regularizer=reg))
    return keras.Sequential(layers, name=name)


def build_cnn(channels: int = 25, *, input_len: int = 40, num_classes: int = 10,
              name: str | None = None):
    """The small 1-D CNN of the MNIST-1D paper: three strided convolutions, then logits.

    Conv1D(channels, 5, stride 2) → Conv1D(channels, 3, stride 2) → Conv1D(channels, 3,
    stride 2), ReLU after each, flatten, Dense(num_classes).

    Example
    -------
    >>> build_cnn().count_params()
    5210
    """
    for label, value in (("channels", channels), ("input_len", input_len),
                         ("num_classes", num_classes)):
        check_int(value, label, low=1)
    from labkit._tf import load

    _, keras = load()
    conv = keras.layers.Conv1D
    return keras.Sequential([
        keras.layers.Input((input_len,)),
        keras.layers.Reshape((input_len, 1)),
        conv(channels, 5, strides=2, padding="same", activation="relu"),
        conv(channels, 3, strides=2, padding="same", activation="relu"),
        conv(channels, 3, strides=2, padding="same", activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(num_classes),
    ], name=name)


def random_shift(x, max_shift: int):
    """Shift each signal of a batch ``(n, length)`` by its own random ``-max_shift …
    max_shift`` samples, filling with zeros (the data augmentation of notebook 01)."""
    from labkit._tf import load

    tf, _ = load()
    length = tf.shape(x)[1]
    shifts = tf.random.uniform([tf.shape(x)[0], 1], -max_shift, max_shift + 1, dtype=tf.int32)
    source = tf.range(length)[None, :] - shifts
    inside = (source >= 0) & (source < length)
    moved = tf.gather(x, tf.clip_by_value(source, 0, length - 1), batch_dims=1)
    return tf.where(inside, moved, tf.zeros_like(moved))


@dataclass
class Run:
    """One training run: its name, size, per-epoch history and final metrics.

    ``history`` has ``loss``, ``accuracy``, ``val_loss`` and ``val_accuracy``, one value
    per epoch run. ``final`` has ``{train,val,test}_{loss,accuracy}`` of the weights kept
    at the end (the restored ones when early stopping restores the best epoch).
    """

    name: str
    params: int
    history: dict[str, list[float]]
    final: dict[str, float]
    seconds: float
    settings: dict[str, Any] = field(default_factory=dict)
    model: Any = field(default=None, repr=False, compare=False)

    @property
    def epochs(self) -> int:
        """Epochs actually run (fewer than asked when early stopping ended the run)."""
        return len(self.history["loss"])

    @property
    def train_accuracy(self) -> float:
        return self.final["train_accuracy"]

    @property
    def val_accuracy(self) -> float:
        return self.final["val_accuracy"]

    @property
    def test_accuracy(self) -> float:
        return self.final["test_accuracy"]

    @property
    def gap(self) -> float:
        """Train accuracy minus validation accuracy of the final weights (a fraction)."""
        return self.final["train_accuracy"] - self.final["val_accuracy"]

    @property
    def loss_gap(self) -> float:
        """Validation loss minus train loss of the final weights (nats)."""
        return self.final["val_loss"] - self.final["train_loss"]

    def __repr__(self) -> str:
        return (f"<Run {self.name}: {self.params:,} params, {self.epochs} epochs, train "
                f"{self.train_accuracy:.1%}, val {self.val_accuracy:.1%}, gap {self.gap:+.1%}, "
                f"{self.seconds:.1f} s>")


def _optimizer(keras, name: str, learning_rate: float):
    return {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD}[name](learning_rate)


def train(build_model: Callable[[], Any], data: Dataset, *, name: str = "run", epochs: int = 40,
          batch_size: int = 128, optimizer: str = "adam", learning_rate: float = 3e-3,
          max_shift: int = 0, callbacks: Iterable[Any] = (), seed: int = 0) -> Run:
    """Build a fresh model and train it on ``data``; return the :class:`Run`.

    Seeds everything with ``seed`` first, so a run repeats exactly on one machine. Each
    epoch runs as one TensorFlow graph (much faster than ``model.fit`` for tiny models).
    After each epoch the loss and accuracy are measured on the *whole* training and
    validation sets in inference mode (no dropout, no augmentation, no L2 term), so train
    and validation numbers are directly comparable. Keras callbacks such as
    ``EarlyStopping`` receive these logs and may stop the run.

    Parameters
    ----------
    build_model : callable
        Returns a new, uncompiled Keras model that outputs logits.
    data : Dataset
        Trains on ``x_train``, validates on ``x_val`` each epoch, tests on ``x_test`` at the end.
    epochs, batch_size : int
        Passes over the training data, and samples per gradient step.
    optimizer : {"adam", "sgd"}
        Adam, or plain SGD (no momentum).
    learning_rate : float
        Step size of the optimizer.
    max_shift : int
        Data augmentation: shift each training signal by up to this many samples.
    callbacks : iterable of keras.callbacks.Callback
        Called with ``on_train_begin``, ``on_epoch_end(epoch, logs)``, ``on_train_end``.
    seed : int
        Seeds weights, shuffling, dropout and augmentation.

    Example
    -------
    >>> from labkit.data import load_mnist1d
    >>> run = train(lambda: build_mlp(()), load_mnist1d(), epochs=2)
    >>> run.epochs, sorted(run.history)
    (2, ['accuracy', 'loss', 'val_accuracy', 'val_loss'])
    """
    if not callable(build_model):
        raise TypeError(f"build_model must be a function that returns a new model, e.g. "
                        f"lambda: build_mlp((64,)), got {type(build_model).__name__}")
    _check_dataset(data)
    epochs = check_int(epochs, "epochs", low=1)
    batch_size = check_int(batch_size, "batch_size", low=1)
    max_shift = check_int(max_shift, "max_shift", low=0)
    check_real(learning_rate, "learning_rate", low=0, include="high", hint="e.g. 3e-3 for Adam")
    check_choice(optimizer, "optimizer", ("adam", "sgd"))
    seed = check_int(seed, "seed", low=0)
    from labkit._tf import load

    tf, keras = load()
    keras.utils.set_random_seed(seed)
    model = build_model()
    opt = _optimizer(keras, optimizer, learning_rate)
    opt.build(model.trainable_variables)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    x, y = tf.constant(data.x_train), tf.constant(data.y_train)
    x_val, y_val = tf.constant(data.x_val), tf.constant(data.y_val)
    n = int(x.shape[0])
    steps = -(-n // batch_size)

    def measure(inputs, labels):
        logits = model(inputs, training=False)
        hits = tf.cast(tf.equal(tf.argmax(logits, 1), labels), tf.float32)
        return loss_fn(labels, logits), tf.reduce_mean(hits)

    @tf.function
    def one_epoch():
        order = tf.random.shuffle(tf.range(n))
        for step in tf.range(steps):
            batch = order[step * batch_size:(step + 1) * batch_size]
            xb, yb = tf.gather(x, batch), tf.gather(y, batch)
            if max_shift:
                xb = random_shift(xb, max_shift)
            with tf.GradientTape() as tape:
                loss = loss_fn(yb, model(xb, training=True))
                if model.losses:
                    loss += tf.add_n(model.losses)
            grads = tape.gradient(loss, model.trainable_variables)
            opt.apply_gradients(zip(grads, model.trainable_variables))
        return measure(x, y) + measure(x_val, y_val)

    history: dict[str, list[float]] = {"loss": [], "accuracy": [], "val_loss": [],
                                       "val_accuracy": []}
    hooks = keras.callbacks.CallbackList(list(callbacks), model=model)
    model.stop_training = False
    start = time.perf_counter()
    hooks.on_train_begin()
    for epoch in range(epochs):
        logs = {key: float(value) for key, value in zip(history, one_epoch())}
        for key, value in logs.items():
            history[key].append(value)
        hooks.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    hooks.on_train_end()
    seconds = time.perf_counter() - start
    final = {}
    for split in ("train", "val", "test"):
        loss, acc = measure(tf.constant(getattr(data, "x_" + split)),
                            tf.constant(getattr(data, "y_" + split)))
        final[split + "_loss"], final[split + "_accuracy"] = float(loss), float(acc)
    settings = {"epochs": epochs, "batch_size": batch_size, "optimizer": optimizer,
                "learning_rate": learning_rate, "max_shift": max_shift,
                "train_samples": n, "seed": seed}
    return Run(name, int(model.count_params()), history, final, seconds, settings, model)


def subset(data: Dataset, fraction: float, *, seed: int = 0) -> Dataset:
    """``data`` with a random ``fraction`` of its training set (stratified by class);
    validation and test sets unchanged.

    Example
    -------
    >>> from labkit.data import load_mnist1d
    >>> subset(load_mnist1d(), 0.1).x_train.shape
    (350, 40)
    """
    _check_dataset(data)
    fraction = check_fraction(fraction, "fraction", interval="(0, 1]",
                              hint="a model needs some training data")
    rng = np.random.default_rng(check_int(seed, "seed", low=0))
    keep = []
    for label in np.unique(data.y_train):
        idx = np.flatnonzero(data.y_train == label)
        keep.append(rng.choice(idx, size=max(1, round(fraction * len(idx))), replace=False))
    keep = rng.permutation(np.concatenate(keep))
    return replace(data, x_train=data.x_train[keep], y_train=data.y_train[keep])


# ----------------------------------------------------------------------------------------
# Figures and the run explorer
# ----------------------------------------------------------------------------------------

_METRICS = {"loss": ("loss", "val_loss", "cross-entropy loss (nats)", 1.0),
            "accuracy": ("accuracy", "val_accuracy", "accuracy (%)", 100.0)}


def plot_run(ax, run: Run, metric: str = "loss", *, label_prefix: str = "",
             styles: tuple[str, str] = ("-", "-")) -> None:
    """Draw one run's train and validation curves of ``metric`` on ``ax``.

    A dotted vertical line marks the epoch of the lowest validation loss.
    """
    check_choice(metric, "metric", tuple(_METRICS))
    train_key, val_key, ylabel, scale = _METRICS[metric]
    epochs = np.arange(1, run.epochs + 1)
    line, = ax.plot(epochs, np.asarray(run.history[train_key]) * scale, styles[0],
                    label=f"{label_prefix}train")
    ax.plot(epochs, np.asarray(run.history[val_key]) * scale, styles[1],
            label=f"{label_prefix}validation", color=None if label_prefix else "C1")
    best = int(np.argmin(run.history["val_loss"])) + 1
    ax.axvline(best, color=line.get_color() if label_prefix else "0.5", ls=":", lw=1)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)


def plot_learning_curves(runs: Sequence[Run], *, metric: str = "loss", ncols: int = 4,
                         title: str | None = None):
    """Small multiples: one panel per run with its train and validation curves.

    Returns the matplotlib Figure (call ``plt.show()`` in a notebook).
    """
    import matplotlib.pyplot as plt

    runs = list(runs)
    if not runs:
        raise ValueError("runs is empty; pass at least one Run from fitting.train")
    ncols = min(ncols, len(runs))
    nrows = -(-len(runs) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.4 * ncols, 2.9 * nrows), sharey=True,
                             squeeze=False)
    for ax, run in zip(axes.flat, runs):
        plot_run(ax, run, metric)
        verdict = diagnose_fit(run.history["loss"], run.history["val_loss"]) if run.epochs > 1 else ""
        ax.set_title(f"{run.name}\n{run.params:,} params · {verdict}", fontsize=9)
    for ax in axes[:, 1:].flat:
        ax.set_ylabel("")
    for ax in axes.flat[len(runs):]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A Markdown table (for ``display(Markdown(...))``); floats are shown as given.

    Example
    -------
    >>> print(markdown_table(["model", "params"], [["CNN", "5,210"]]))
    | model | params |
    |---|---|
    | CNN | 5,210 |
    """
    if isinstance(header, str) or not isinstance(header, Sequence) or not header:
        raise TypeError(f"header must be a non-empty list of column names, got {header!r}")
    if isinstance(rows, (str, bytes)) or not isinstance(rows, Iterable):
        raise TypeError(f"rows must be an iterable of rows (lists of cells), got "
                        f"{type(rows).__name__}")
    lines = ["| " + " | ".join(str(h) for h in header) + " |",
             "|" + "---|" * len(header)]
    for i, row in enumerate(rows):
        if isinstance(row, str) or not isinstance(row, Iterable):
            raise TypeError(f"rows[{i}] must be a list of cells, got {row!r}")
        row = list(row)
        if len(row) != len(header):
            raise ValueError(f"rows[{i}] = {row!r} has {len(row)} cells; the header has "
                             f"{len(header)}")
        lines.append("| " + " | ".join(str(cell) for cell in row) + " |")
    return "\n".join(lines)


def show_run_explorer(runs: Mapping[str, Run], *, interactive: bool | None = None) -> None:
    """Display a widget to pick a run (and another to compare) and see its curves.

    Without ipywidgets or outside a Jupyter kernel (or with ``interactive=False``) it
    draws every run's loss curves as a static figure instead, so it also runs headless.
    """
    import matplotlib.pyplot as plt
    from IPython.display import display

    if not runs:
        raise ValueError("runs is empty; pass a dict of name -> Run")
    if interactive is None:
        from labkit.widgets import widgets_available

        interactive = widgets_available()
    if not interactive:
        plot_learning_curves(list(runs.values()), title="All runs of this notebook")
        plt.show()
        return
    import ipywidgets as widgets

    names = list(runs)
    first = widgets.Dropdown(options=names, value=names[0], description="run")
    second = widgets.Dropdown(options=["(none)", *names], value="(none)",
                              description="compare with")
    out = widgets.Output()

    def draw(_: Any = None) -> None:
        chosen = [runs[first.value]] + ([] if second.value == "(none)" else [runs[second.value]])
        with out:
            out.clear_output(wait=True)
            fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
            for index, run in enumerate(chosen):
                prefix = f"{run.name}: " if len(chosen) > 1 else ""
                style = ("-", "--") if index == 0 else ("-.", ":")
                for ax, metric in zip(axes, ("loss", "accuracy")):
                    plot_run(ax, run, metric, label_prefix=prefix, styles=style)
            for ax, metric in zip(axes, ("loss", "accuracy")):
                ax.set_title(f"{metric} per epoch")
                ax.legend(fontsize=8)
            fig.tight_layout()
            plt.show()
            for run in chosen:
                verdict = diagnose_fit(run.history["loss"], run.history["val_loss"])
                print(f"{run.name}: {run.params:,} params, {run.epochs} epochs, final train "
                      f"{run.train_accuracy:.1%} / val {run.val_accuracy:.1%} / test "
                      f"{run.test_accuracy:.1%}; diagnosis: {verdict}")

    first.observe(draw, names="value")
    second.observe(draw, names="value")
    draw()
    display(widgets.VBox([widgets.HBox([first, second]), out]))
