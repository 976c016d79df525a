"""Keras glue: one-shot magnitude pruning of a model, accuracy vs sparsity, sensitivity scans and plans."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from labkit.pruning.masks import (
    PRUNABLE,
    _check_sparsities,
    global_threshold,
    magnitude_prune,
    threshold_prune,
    zero_fraction,
)
from labkit.training import accuracy, clone
from labkit.validate import check_array, check_fraction, check_keras_model, check_sparsity


def _keras() -> Any:
    from labkit._tf import load

    return load()[1]


def _check_model(model: Any) -> Any:
    check_keras_model(model, built=True)
    return _keras()


def prunable_layers(model: Any) -> list[str]:
    """Names of the layers whose kernels are pruned (Conv2D and Dense), in model order."""
    _check_model(model)
    return [layer.name for layer in model.layers if type(layer).__name__ in PRUNABLE]


def _layer_names(model: Any, layers: Iterable[str] | None) -> list[str]:
    names = prunable_layers(model)
    if layers is None:
        return names
    chosen = list(layers)
    unknown = [name for name in chosen if name not in names]
    if unknown:
        raise ValueError(f"layers {unknown} are not prunable layers of the model; choose from "
                         f"{names}")
    return chosen


def kernel_sparsity(model: Any) -> dict[str, float]:
    """Measured sparsity of each Conv2D/Dense kernel: ``{layer name: zero fraction}``."""
    return {name: zero_fraction(model.get_layer(name).kernel.numpy())
            for name in prunable_layers(model)}


def total_sparsity(model: Any) -> float:
    """Zero fraction over all Conv2D/Dense kernels together (biases are not counted)."""
    kernels = [model.get_layer(name).kernel.numpy() for name in prunable_layers(model)]
    return float(sum(np.count_nonzero(k == 0) for k in kernels) / sum(k.size for k in kernels))






def _pruned_kernels(model: Any, sparsity: float | Mapping[str, float], scope: str,
                    layers: list[str]) -> dict[str, np.ndarray]:
    kernels = {name: model.get_layer(name).kernel.numpy() for name in layers}
    if scope == "global":
        threshold = global_threshold(list(kernels.values()), check_sparsity(sparsity))
        return {name: threshold_prune(k, threshold)[0] for name, k in kernels.items()}
    if scope != "layer":
        raise ValueError(f"scope must be 'layer' or 'global', got {scope!r}")
    plan = sparsity if isinstance(sparsity, Mapping) else dict.fromkeys(layers, sparsity)
    return {name: magnitude_prune(k, check_sparsity(plan.get(name, 0.0), f"sparsity of {name}"))[0]
            for name, k in kernels.items()}


def _set_kernels(model: Any, kernels: Mapping[str, np.ndarray]) -> None:
    for name, kernel in kernels.items():
        model.get_layer(name).kernel.assign(kernel)


def prune_model(model: Any, sparsity: float | Mapping[str, float], *, scope: str = "layer",
                layers: Iterable[str] | None = None) -> Any:
    """A compiled copy of ``model`` with its kernels magnitude-pruned, without fine-tuning.

    Parameters
    ----------
    model : tf_keras.Model
        A trained model; it is not changed.
    sparsity : float in [0, 1), or ``{layer name: sparsity}``
        A dict is a per-layer plan (layers it leaves out stay dense); needs ``scope="layer"``.
    scope : {"layer", "global"}
        ``"layer"``: each layer loses that fraction of its own weights (its own threshold);
        ``"global"``: one threshold (:func:`global_threshold`) over all chosen layers.
    layers : names, optional
        Layers to prune; default every Conv2D and Dense layer.

    Returns
    -------
    tf_keras.Model

    Raises
    ------
    ValueError
        If a sparsity is not in [0, 1), ``scope`` is unknown, a plan is combined with
        ``scope="global"``, or ``layers`` names a layer that is not Conv2D or Dense.
    """
    if isinstance(sparsity, Mapping):
        if scope != "layer":
            raise ValueError(f"a per-layer plan (dict) needs scope='layer', got scope={scope!r}; "
                             "pass one float for a global threshold")
        layers = list(sparsity) if layers is None else layers
    names = _layer_names(model, layers)
    pruned = clone(model)
    _set_kernels(pruned, _pruned_kernels(model, sparsity, scope, names))
    return pruned


def _progress(iterable: Iterable[Any], desc: str, show: bool, total: int) -> Iterable[Any]:
    if not show:
        return iterable
    from labkit.widgets import progress

    return progress(iterable, desc=desc, total=total)


def _correct(model: Any, x: Any, y: Any, batch_size: int = 1024) -> np.ndarray:
    x, y = np.asarray(x, dtype=np.float32), np.asarray(y)
    hits = [np.argmax(np.asarray(model.predict_on_batch(x[i:i + batch_size])), axis=-1)
            == y[i:i + batch_size] for i in range(0, len(x), batch_size)]
    return np.concatenate(hits)


def outcomes_vs_sparsity(model: Any, x: Any, y: Any, sparsities: Sequence[float], *,
                         scope: str = "layer", layers: Iterable[str] | None = None,
                         progress: bool = True) -> np.ndarray:
    """Which samples ``model`` pruned one-shot (no fine-tuning) at each sparsity gets right.

    Returns a boolean array ``(len(sparsities), len(y))``: the input of
    :func:`labkit.stats.accuracy` (one row) and :func:`labkit.stats.compare` (two rows, or a
    row against the dense model's outcomes). See :func:`prune_model` for ``scope`` and
    ``layers``.
    """
    names = _layer_names(model, layers)
    sparsities = _check_sparsities(sparsities)
    work = clone(model)
    rows = []
    for s in _progress(sparsities, f"one-shot pruning ({scope})", progress, len(sparsities)):
        _set_kernels(work, _pruned_kernels(model, s, scope, names))
        rows.append(_correct(work, x, y))
    return np.asarray(rows)


def accuracy_vs_sparsity(model: Any, x: Any, y: Any, sparsities: Sequence[float], *,
                         scope: str = "layer", layers: Iterable[str] | None = None,
                         progress: bool = True) -> np.ndarray:
    """Accuracy of ``model`` pruned one-shot (no fine-tuning) at each sparsity.

    See :func:`prune_model` for ``scope`` and ``layers``. Returns a float array, one
    accuracy (fraction) per sparsity; :func:`outcomes_vs_sparsity` keeps which samples were
    right, for intervals and paired tests.
    """
    return outcomes_vs_sparsity(model, x, y, sparsities, scope=scope, layers=layers,
                                progress=progress).mean(axis=1)


def sensitivity_scan(model: Any, x: Any, y: Any, sparsities: Sequence[float], *,
                     layers: Iterable[str] | None = None, progress: bool = True
                     ) -> dict[str, np.ndarray]:
    """Prune one layer at a time (the others stay dense) and measure the accuracy.

    Returns ``{layer name: accuracies}``, one accuracy (fraction) per sparsity.
    """
    names = _layer_names(model, layers)
    sparsities = _check_sparsities(sparsities)
    work = clone(model)
    scan = {name: np.zeros(len(sparsities)) for name in names}
    steps = [(name, i, s) for name in names for i, s in enumerate(sparsities)]
    for name, i, s in _progress(steps, "sensitivity scan", progress, len(steps)):
        _set_kernels(work, _pruned_kernels(model, {name: s}, "layer", [name]))
        scan[name][i] = accuracy(work, x, y)
        _set_kernels(work, {name: model.get_layer(name).kernel.numpy()})
    return scan


def sparsity_plan(scan: Mapping[str, Sequence[float]], sparsities: Sequence[float],
                  baseline_accuracy: float, *, max_drop: float = 0.01) -> dict[str, float]:
    """Per-layer sparsity from a :func:`sensitivity_scan`: for each layer, the highest scanned
    sparsity at which pruning that layer alone cost at most ``max_drop`` accuracy (and every
    lower sparsity did too). A layer that cannot lose anything gets 0.0.

    Example
    -------
    >>> sparsity_plan({"a": [0.98, 0.98, 0.95], "b": [0.98, 0.975, 0.975]}, [0.0, 0.5, 0.9],
    ...               0.98, max_drop=0.01)
    {'a': 0.5, 'b': 0.9}
    """
    if not isinstance(scan, Mapping):
        raise TypeError(f"scan must be a dict of layer name -> accuracies (from "
                        f"sensitivity_scan), got {type(scan).__name__}")
    sparsities = _check_sparsities(sparsities)
    baseline_accuracy = check_fraction(baseline_accuracy, "baseline_accuracy", interval="[0, 1]")
    max_drop = check_fraction(max_drop, "max_drop", interval="[0, 1)")
    plan = {}
    for name, accuracies in scan.items():
        accuracies = check_array(accuracies, f"scan[{name!r}]", ndim=1)
        if len(accuracies) != len(sparsities):
            raise ValueError(f"scan[{name!r}] has {len(accuracies)} accuracies for "
                             f"{len(sparsities)} sparsities")
        chosen = 0.0
        for s, acc in sorted(zip(sparsities, accuracies)):
            if baseline_accuracy - acc > max_drop + 1e-12:
                break
            chosen = s
        plan[name] = chosen
    return plan
