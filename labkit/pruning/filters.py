"""Removing whole filters: the filters to keep, and a smaller dense model built from them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from labkit.pruning.masks import _check_keep, prune_filters, rank_filters_l1
from labkit.pruning.oneshot import _check_model, prunable_layers
from labkit.validate import check_sparsity


def filters_to_keep(model: Any, prune_fraction: float, *, layers: Iterable[str] | None = None
                    ) -> dict[str, np.ndarray]:
    """For each Conv2D layer, the indices (ascending) of its strongest filters by L1 norm,
    keeping ``round((1 - prune_fraction) * filters)`` of them (at least one).

    ``layers`` defaults to every Conv2D layer.
    """
    prune_fraction = check_sparsity(prune_fraction, "prune_fraction")
    convs = [n for n in prunable_layers(model) if type(model.get_layer(n)).__name__ == "Conv2D"]
    chosen = convs if layers is None else list(layers)
    unknown = [n for n in chosen if n not in convs]
    if unknown:
        raise ValueError(f"layers {unknown} are not Conv2D layers of the model; choose from {convs}")
    keep = {}
    for name in chosen:
        kernel = model.get_layer(name).kernel.numpy()
        count = max(1, int(round((1 - prune_fraction) * kernel.shape[-1])))
        keep[name] = np.sort(rank_filters_l1(kernel)[-count:])
    return keep


_PASS_THROUGH = ("MaxPooling2D", "AveragePooling2D", "Activation", "ReLU", "Dropout")


def _sliced_weights(model: Any, keep: Mapping[str, np.ndarray]) -> dict[str, list[np.ndarray]]:
    """Every layer's weights with the filters ``keep`` removed and the next layers' inputs
    sliced to match (see :func:`remove_filters`)."""
    weights = {layer.name: [w.copy() for w in layer.get_weights()] for layer in model.layers}
    pending = None  # (conv name, indices) waiting for the next weighted layer
    flatten_shape = None  # (h, w, c) entering Flatten while a slice is pending
    for layer in model.layers:
        kind, name = type(layer).__name__, layer.name
        if pending is not None:
            src, idx = pending
            if kind == "Conv2D":
                weights[src][0], weights[src][1], weights[name][0] = prune_filters(
                    weights[src][0], weights[src][1], weights[name][0], idx)
                pending = None
            elif kind == "Flatten":
                flatten_shape = tuple(layer.input_shape[1:])
            elif kind == "Dense" and flatten_shape is not None:  # rows are (h, w, c) flattened
                rows = weights[name][0].reshape(*flatten_shape, -1)[:, :, idx, :]
                weights[name][0] = rows.reshape(-1, rows.shape[-1])
                weights[src][0], weights[src][1] = weights[src][0][..., idx], weights[src][1][idx]
                pending = flatten_shape = None
            elif kind not in _PASS_THROUGH:
                raise ValueError(f"cannot remove filters of {src!r}: the layer after it, "
                                 f"{name!r} ({kind}), is not supported")
        if name in keep:
            pending = (name, keep[name])
    if pending is not None:
        raise ValueError(f"{pending[0]!r} is followed by no Conv2D or Flatten→Dense layer whose "
                         "inputs could shrink with it")
    return weights


def remove_filters(model: Any, keep: Mapping[str, Any]) -> Any:
    """A new, smaller Sequential model with only the filters ``keep[name]`` of each conv layer.

    Each pruned Conv2D keeps its kernel slices and biases (:func:`prune_filters`); the next
    weighted layer loses the matching input channels: a Conv2D its input-channel slices, a
    Dense after ``Flatten`` the rows that read those channels. Pooling, activation and
    dropout layers in between pass channels through. The result computes exactly what the
    original computes with those filters' outputs set to zero; fine-tune it to recover.

    Parameters
    ----------
    model : tf_keras.Sequential
        Conv2D, pooling, activation, dropout, Flatten and Dense layers (the course CNN).
        It is not changed.
    keep : {conv layer name: indices}
        E.g. from :func:`filters_to_keep`.

    Returns
    -------
    tf_keras.Sequential
        Compiled (Adam 1e-3, sparse categorical cross-entropy, accuracy).

    Raises
    ------
    TypeError
        If ``model`` is not a tf_keras Sequential model.
    ValueError
        If ``keep`` names a layer that is not a Conv2D of the model, holds bad indices, or a
        pruned layer is followed by a layer whose inputs cannot be sliced.
    """
    keras = _check_model(model)
    if not isinstance(model, keras.Sequential):
        raise TypeError(f"remove_filters needs a Sequential model, got {type(model).__name__}")
    layers = {layer.name: layer for layer in model.layers}
    checked = {}
    for name, indices in keep.items():
        if name not in layers or type(layers[name]).__name__ != "Conv2D":
            kind = type(layers[name]).__name__ if name in layers else "missing layer"
            raise ValueError(f"keep names {name!r} ({kind}); only Conv2D filters are removed")
        checked[name] = _check_keep(indices, layers[name].filters)
    weights = _sliced_weights(model, checked)
    configs = {name: layer.get_config() for name, layer in layers.items()}
    for name, indices in checked.items():
        configs[name]["filters"] = len(indices)
    slim = keras.Sequential(
        [keras.Input(model.input_shape[1:])]
        + [type(layer).from_config(configs[layer.name]) for layer in model.layers],
        name=f"{model.name}_slim")
    for layer in slim.layers:
        layer.set_weights(weights[layer.name])
    slim.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                 metrics=["accuracy"])
    return slim
