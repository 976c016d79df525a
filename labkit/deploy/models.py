"""The gesture models of notebook 09: a 1-D CNN, a feature MLP, structured pruning, the answer.

TensorFlow is imported on first call.

- :func:`build_gesture_cnn` and the zoo recipe :data:`GESTURE_CNN`;
- :func:`build_feature_mlp`: a dense net on :func:`~labkit.deploy.features.spectral_features`;
- :func:`slim_gesture_cnn`: structured pruning with :mod:`labkit.pruning`'s filter ranking;
- :func:`deployable_model`: the reference answer of the budget challenge (``09.deployable``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labkit.models import _gesture_cnn, build_gesture_cnn  # noqa: F401 (build_gesture_cnn: re-exported)
from labkit.validate import check_array, check_fraction, check_int
from labkit.zoo import Recipe

# Models
# --------------------------------------------------------------------------------------





GESTURE_CNN = Recipe("gesture_cnn", dataset="gestures", epochs=30, batch_size=32,
                     builder_kwargs={"width": 16})
"""The gesture CNN of notebook 09: 2 s windows, width 16, 30 epochs (about 8 k parameters)."""


def build_feature_mlp(n_features: int, num_classes: int = 4, *, mean: Any, std: Any,
                      hidden: int = 32, learning_rate: float = 3e-3, seed: int = 0) -> Any:
    """A small dense network on spectral features, standardized inside the model.

    ``(features − mean) / std → dense(hidden, relu) → dense(num_classes, softmax)``;
    ``mean`` and ``std`` (shape ``(n_features,)``) come from the training features.
    """
    from labkit._tf import load

    n_features = check_int(n_features, "n_features", low=1)
    mean = check_array(mean, "mean", shape=(n_features,))
    std = check_array(std, "std", shape=(n_features,))
    _, keras = load()
    layers = keras.layers
    keras.utils.set_random_seed(check_int(seed, "seed", low=0))
    model = keras.Sequential([
        keras.Input((n_features,), name="features"),
        layers.Normalization(mean=mean, variance=np.maximum(std, 1e-6) ** 2, name="standardize"),
        layers.Dense(check_int(hidden, "hidden", low=1), activation="relu", name="hidden"),
        layers.Dense(check_int(num_classes, "num_classes", low=2), activation="softmax",
                     name="dense"),
    ], name="feature_mlp")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _conv_names(model: Any) -> list[str]:
    names = [layer.name for layer in model.layers if type(layer).__name__ == "Conv1D"]
    if not names or "dense" not in [layer.name for layer in model.layers]:
        raise ValueError("model must be a gesture CNN from build_gesture_cnn (Conv1D layers "
                         "conv1.. and a 'dense' output layer)")
    return names


def slim_gesture_cnn(model: Any, keep_fraction: float, *, learning_rate: float = 1e-3) -> Any:
    """Structured pruning: a new, narrower gesture CNN holding each conv layer's strongest filters.

    Each Conv1D keeps ``round(keep_fraction · filters)`` filters (at least one), ranked by
    L1 norm with :func:`labkit.pruning.rank_filters_l1`; :func:`labkit.pruning.prune_filters`
    removes them with the next layer's matching inputs (a Conv1D kernel ``(k, c_in, c_out)``
    is a Conv2D kernel ``(k, 1, c_in, c_out)``). The result computes what ``model`` computes
    with the other filters' outputs set to zero: fine-tune it to recover. ``model`` is not
    changed.

    Returns
    -------
    tf_keras.Model
        Compiled with Adam(``learning_rate``).
    """
    from labkit import pruning

    keep_fraction = check_fraction(keep_fraction, "keep_fraction", interval="(0, 1]")
    convs = _conv_names(model)
    kernels = [model.get_layer(n).get_weights() for n in convs]
    dense_kernel, dense_bias = model.get_layer("dense").get_weights()
    kept, previous = [], None
    for kernel, _ in kernels:
        k = kernel if previous is None else kernel[:, previous, :]
        count = max(1, int(round(keep_fraction * k.shape[-1])))
        keep = np.sort(pruning.rank_filters_l1(k[:, None])[-count:])
        kept.append(keep)
        previous = keep
    first = model.get_layer(convs[0])
    slim = _gesture_cnn(tuple(model.input_shape[1:]), dense_kernel.shape[1],
                        [len(k) for k in kept], first.kernel_size[0], learning_rate, seed=0)
    previous = None
    for name, (kernel, bias), keep, nxt in zip(convs, kernels, kept, [*kernels[1:], None]):
        k = kernel if previous is None else kernel[:, previous, :]
        following = dense_kernel[None, None] if nxt is None else nxt[0][:, None]
        k4, b, _ = pruning.prune_filters(k[:, None], bias, following, keep)
        slim.get_layer(name).set_weights([k4[:, 0], b])
        previous = keep
    slim.get_layer("dense").set_weights([dense_kernel[previous], dense_bias])
    return slim


def deployable_model(*, keep_fraction: float = 0.5, fine_tune_epochs: int = 20,
                     seed: int = 0) -> bytes:
    """The reference answer of notebook 09's budget challenge: an int8 ``.tflite`` model.

    :data:`GESTURE_CNN` from the zoo, slimmed to ``keep_fraction`` of its filters
    (:func:`slim_gesture_cnn`), fine-tuned for ``fine_tune_epochs`` on the training windows,
    converted to full int8 (:func:`labkit.convert.convert_int8`), calibrated on 256 training
    windows drawn at random: the training windows come sorted by class, and the first 256
    are nearly all ``idle``, whose small activations would set ranges that clip every gesture.
    """
    from labkit import convert, zoo
    from labkit._tf import load
    from labkit.data import load_gestures

    _, keras = load()
    data = load_gestures()
    slim = slim_gesture_cnn(zoo.trained(GESTURE_CNN).model, keep_fraction)
    seed = check_int(seed, "seed", low=0)
    keras.utils.set_random_seed(seed)
    slim.fit(data.x_train, data.y_train, epochs=check_int(fine_tune_epochs, "fine_tune_epochs",
                                                           low=1),
             batch_size=32, shuffle=True, verbose=0)
    calibration = np.random.default_rng(seed).permutation(len(data.x_train))[:256]
    return convert.convert_int8(slim, data.x_train[calibration])


# --------------------------------------------------------------------------------------
