"""Keras glue for smaller students: distillation's training loop and low-rank layers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from labkit.compression.clustering import _chosen, _compile, _keras
from labkit.compression.factorization import low_rank
from labkit.validate import check_fraction, check_int, check_keras_model, check_real


def logits_model(model: Any) -> Any:
    """A copy of a Sequential classifier whose last layer outputs logits (no softmax)."""
    check_keras_model(model, built=True)
    keras = _keras()
    if not isinstance(model, keras.Sequential):
        raise TypeError(f"logits_model needs a Sequential model, got {type(model).__name__}")
    config = model.get_config()
    last = config["layers"][-1]["config"]
    if last.get("activation") not in ("softmax", "linear"):
        raise ValueError(f"the last layer's activation is {last.get('activation')!r}; expected "
                         "'softmax' (or 'linear', already logits)")
    last["activation"] = "linear"
    clone = keras.Sequential.from_config(config)
    clone.set_weights(model.get_weights())
    return clone


def distill(teacher: Any, student: Any, x: Any, y: Any, *, temperature: float = 4.0,
            alpha: float = 0.1, epochs: int = 10, batch_size: int = 32,
            learning_rate: float = 3e-3, seed: int = 0) -> Any:
    """Train a copy of ``student`` to match ``teacher``: the knowledge-distillation loop.

    The teacher's logits on ``x`` are computed once; each step minimises
    :func:`distillation_loss` (the same formula, in TensorFlow) between the student's
    logits and the teacher's on a batch, with Adam. Both models end in a softmax layer;
    the loop works on their logits (:func:`logits_model`). ``student`` is not changed.

    Returns
    -------
    tf_keras.Model
        The trained student, with its softmax output, compiled.
    """
    temperature = check_real(temperature, "temperature", low=0, include="high")
    alpha = check_fraction(alpha, "alpha", interval="[0, 1]")
    epochs = check_int(epochs, "epochs", low=1)
    batch_size = check_int(batch_size, "batch_size", low=1)
    from labkit._tf import load

    tf, keras = load()
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y)
    soft_targets = logits_model(teacher).predict(x, batch_size=512, verbose=0)
    net = logits_model(student)
    keras.utils.set_random_seed(check_int(seed, "seed", low=0))
    optimizer = keras.optimizers.Adam(learning_rate)
    t2 = tf.constant(temperature * temperature, tf.float32)

    @tf.function
    def step(xb, yb, tb):
        with tf.GradientTape() as tape:
            s = net(xb, training=True)
            hard = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=yb, logits=s)
            log_p = tf.nn.log_softmax(tb / temperature)
            log_q = tf.nn.log_softmax(s / temperature)
            soft = tf.reduce_sum(tf.exp(log_p) * (log_p - log_q), axis=-1)
            loss = tf.reduce_mean(alpha * hard + (1 - alpha) * t2 * soft)
        grads = tape.gradient(loss, net.trainable_variables)
        optimizer.apply_gradients(zip(grads, net.trainable_variables))
        return loss

    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            idx = order[start:start + batch_size]
            step(x[idx], y[idx], soft_targets[idx])
    trained = keras.models.clone_model(student)
    trained.set_weights(net.get_weights())
    return _compile(trained)


def factorize(model: Any, ranks: Mapping[str, int]) -> Any:
    """A new Sequential model with each layer in ``ranks`` replaced by two thinner ones.

    A Dense kernel ``W (n_in, n_out)`` becomes ``Dense(r, no bias) → Dense(n_out)`` with
    the factors of :func:`low_rank`; a Conv2D kernel ``(kh, kw, c_in, c_out)``, reshaped to
    ``(kh·kw·c_in, c_out)``, becomes ``Conv2D(r, kh×kw, no bias) → Conv2D(c_out, 1×1)``.
    The bias and the activation move to the second layer, so the model computes its
    original function with each kernel replaced by its best rank-``r`` approximation.
    """
    check_keras_model(model, built=True)
    keras = _keras()
    if not isinstance(model, keras.Sequential):
        raise TypeError(f"factorize needs a Sequential model, got {type(model).__name__}")
    if not isinstance(ranks, Mapping):
        raise TypeError(f"ranks must be a dict of layer name -> rank, got {type(ranks).__name__}")
    _chosen(model, ranks)
    layers, weights = [keras.Input(model.input_shape[1:])], []
    for layer in model.layers:
        config = layer.get_config()
        if layer.name not in ranks:
            layers.append(type(layer).from_config(config))
            weights.append(layer.get_weights())
            continue
        kernel, bias = layer.get_weights()
        a, b = low_rank(kernel.reshape(-1, kernel.shape[-1]), ranks[layer.name])
        r = a.shape[1]
        first = dict(config, name=f"{layer.name}_a", use_bias=False, activation="linear")
        second = dict(config, name=f"{layer.name}_b")
        if type(layer).__name__ == "Dense":
            first["units"] = r
            pair = [keras.layers.Dense.from_config(first), keras.layers.Dense.from_config(second)]
            pair_weights = [[a], [b, bias]]
        else:
            first["filters"] = r
            second.update(kernel_size=(1, 1), strides=(1, 1), padding="valid")
            pair = [keras.layers.Conv2D.from_config(first), keras.layers.Conv2D.from_config(second)]
            pair_weights = [[a.reshape(*kernel.shape[:3], r)], [b.reshape(1, 1, r, -1), bias]]
        layers += pair
        weights += pair_weights
    slim = keras.Sequential(layers, name=f"{model.name}_low_rank")
    for layer, w in zip(slim.layers, weights):
        layer.set_weights([np.asarray(v, dtype=np.float32) for v in w])
    return _compile(slim)
