"""Training and measuring Keras classifiers: the shared layer under notebooks 01–09.

- :func:`train`: a small, fast training loop (each epoch one TensorFlow graph) that
  returns a :class:`Run` with its per-epoch history (notebook 01 and its exercises);
  :func:`subset` and :func:`random_shift` shape its data;
- :func:`compile_inplace`, :func:`clone`, :func:`accuracy`: compile the course's way, copy
  a model with its weights, and measure a Keras model's accuracy.

TensorFlow is imported on first call (through :mod:`labkit._tf`).

Example
-------
>>> from labkit.data import load_mnist1d
>>> from labkit.models import build_mlp
>>> run = train(lambda: build_mlp(()), load_mnist1d(), epochs=2)
>>> run.epochs, sorted(run.history)
(2, ['accuracy', 'loss', 'val_accuracy', 'val_loss'])
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from labkit.data import Dataset
from labkit.validate import check_choice, check_fraction, check_int, check_real


def _check_dataset(data: Any) -> None:
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a labkit.data.Dataset (e.g. load_mnist1d()), got "
                        f"{type(data).__name__}")


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
    >>> from labkit.models import build_mlp
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
    measure, one_epoch = _epoch_functions(tf, keras, model, opt, data, batch_size, max_shift)
    start = time.perf_counter()
    history = _fit_epochs(keras, model, one_epoch, epochs, callbacks)
    seconds = time.perf_counter() - start
    final = {}
    for split in ("train", "val", "test"):
        loss, acc = measure(tf.constant(getattr(data, "x_" + split)),
                            tf.constant(getattr(data, "y_" + split)))
        final[split + "_loss"], final[split + "_accuracy"] = float(loss), float(acc)
    n = len(data.x_train)
    settings = {"epochs": epochs, "batch_size": batch_size, "optimizer": optimizer,
                "learning_rate": learning_rate, "max_shift": max_shift,
                "train_samples": n, "seed": seed}
    return Run(name, int(model.count_params()), history, final, seconds, settings, model)


def _epoch_functions(tf: Any, keras: Any, model: Any, opt: Any, data: Dataset, batch_size: int,
                     max_shift: int) -> tuple[Callable[..., Any], Callable[[], Any]]:
    """``measure(x, y) -> (loss, accuracy)`` in inference mode, and ``one_epoch()``: one
    shuffled pass as a single TensorFlow graph, returning the four epoch metrics."""
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

    return measure, one_epoch


def _fit_epochs(keras: Any, model: Any, one_epoch: Callable[[], Any], epochs: int,
                callbacks: Iterable[Any]) -> dict[str, list[float]]:
    """Run up to ``epochs`` epochs, telling ``callbacks``; the history of the four metrics."""
    history: dict[str, list[float]] = {"loss": [], "accuracy": [], "val_loss": [],
                                       "val_accuracy": []}
    hooks = keras.callbacks.CallbackList(list(callbacks), model=model)
    model.stop_training = False
    hooks.on_train_begin()
    for epoch in range(epochs):
        logs = {key: float(value) for key, value in zip(history, one_epoch())}
        for key, value in logs.items():
            history[key].append(value)
        hooks.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    hooks.on_train_end()
    return history


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


def accuracy(model: Any, x: Any, y: Any, *, batch_size: int = 512) -> float:
    """Accuracy (a fraction) of a tf_keras classifier: argmax of its output vs labels ``y``."""
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y)
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x and y must be non-empty and of equal length, got {len(x)} and "
                         f"{len(y)}")
    hits = 0
    for start in range(0, len(x), batch_size):
        out = np.asarray(model.predict_on_batch(x[start:start + batch_size]))
        hits += int(np.count_nonzero(np.argmax(out, axis=-1) == y[start:start + batch_size]))
    return hits / len(x)


def compile_inplace(model: Any, *, learning_rate: float = 1e-3, from_logits: bool = False) -> None:
    """Compile a classifier the course's way: Adam, sparse categorical cross-entropy, accuracy."""
    from labkit._tf import load

    _, keras = load()
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss, metrics=["accuracy"])


def clone(model: Any, *, learning_rate: float = 1e-3) -> Any:
    """A compiled copy of ``model`` with the same weights (changing it leaves ``model`` alone)."""
    from labkit._tf import load

    _, keras = load()
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    compile_inplace(copy, learning_rate=learning_rate)
    return copy
