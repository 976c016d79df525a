"""Keras glue: copying models, tfmot clustering, shared weights, per-layer pruning plans."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from labkit.compression.sharing import kmeans_codebook
from labkit.training import clone, compile_inplace
from labkit.validate import check_int, check_keras_model, check_sparsity


def _keras() -> Any:
    from labkit._tf import load

    return load()[1]


def _compile(model: Any, learning_rate: float = 1e-3) -> Any:
    compile_inplace(model, learning_rate=learning_rate)
    return model


def copy_model(model: Any) -> Any:
    """A compiled copy of ``model`` with the same weights (changing it leaves ``model`` alone)."""
    check_keras_model(model, built=True)
    return clone(model)


def kernel_layers(model: Any) -> list[str]:
    """Names of the Conv2D and Dense layers, whose kernels are shared, pruned or clustered."""
    check_keras_model(model, built=True)
    return [layer.name for layer in model.layers if type(layer).__name__ in ("Conv2D", "Dense")]


def _chosen(model: Any, layers: Any) -> list[str]:
    names = kernel_layers(model)
    chosen = names if layers is None else list(layers)
    unknown = [n for n in chosen if n not in names]
    if unknown:
        raise ValueError(f"layers {unknown} are not Conv2D or Dense layers of the model; "
                         f"choose from {names}")
    return chosen


def shared_weights_model(model: Any, k: int, *, iters: int = 20, layers: Any = None) -> Any:
    """A copy of ``model`` whose kernels hold only ``k`` values each (:func:`kmeans_codebook`
    on every chosen kernel, by hand, no fine-tuning). Biases are left as they are."""
    chosen = _chosen(model, layers)
    shared = copy_model(model)
    for name in chosen:
        layer = shared.get_layer(name)
        codebook, indices = kmeans_codebook(layer.kernel.numpy(), k, iters)
        layer.kernel.assign(codebook[indices].astype(np.float32))
    return shared


def unique_weights(model: Any) -> dict[str, int]:
    """Distinct values in each Conv2D/Dense kernel: ``{layer name: count}``."""
    return {name: int(np.unique(model.get_layer(name).kernel.numpy()).size)
            for name in kernel_layers(model)}


def cluster_model(model: Any, number_of_clusters: int, *, preserve_sparsity: bool = False,
                  layers: Any = None) -> Any:
    """tfmot's ``cluster_weights`` on a **copy** of ``model``: the wrapped model to fine-tune.

    ``cluster_weights`` changes the model it is given (its layers end up inside the
    wrappers), so it gets a copy. Centroids start at k-means++ positions
    (``CentroidInitialization.KMEANS_PLUS_PLUS``); with ``preserve_sparsity`` zeros stay
    zero (sparsity-preserving clustering, for a pruned model). ``layers`` defaults to every
    Conv2D and Dense layer. Fine-tune the result, then ``strip_clustering`` it (or use
    :func:`cluster_and_fine_tune`, which does all of it).
    """
    number_of_clusters = check_int(number_of_clusters, "number_of_clusters", low=2)
    chosen = set(_chosen(model, layers))
    keras = _keras()
    from labkit._tf import load_tfmot, quiet_native_stderr

    clustering = load_tfmot().clustering.keras
    params = {"number_of_clusters": number_of_clusters,
              "cluster_centroids_init": clustering.CentroidInitialization.KMEANS_PLUS_PLUS,
              "preserve_sparsity": bool(preserve_sparsity)}
    base = copy_model(model)
    with quiet_native_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wrapped = keras.models.clone_model(
            base, clone_function=lambda layer: (clustering.cluster_weights(layer, **params)
                                                if layer.name in chosen else layer))
    return wrapped


def cluster_and_fine_tune(model: Any, x: Any, y: Any, number_of_clusters: int, *,
                          epochs: int = 2, batch_size: int = 32, learning_rate: float = 3e-4,
                          preserve_sparsity: bool = False, layers: Any = None,
                          seed: int = 0) -> Any:
    """Cluster a copy of ``model`` (:func:`cluster_model`), fine-tune it on ``x, y`` (the
    centroids are trained, the assignments stay), and return it ``strip_clustering``-ed:
    plain layers whose kernels hold ``number_of_clusters`` distinct values. Compiled."""
    epochs = check_int(epochs, "epochs", low=0)
    keras = _keras()
    from labkit._tf import load_tfmot, quiet_native_stderr

    wrapped = cluster_model(model, number_of_clusters, preserve_sparsity=preserve_sparsity,
                            layers=layers)
    keras.utils.set_random_seed(check_int(seed, "seed", low=0))
    _compile(wrapped, learning_rate)
    with quiet_native_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if epochs:
            wrapped.fit(np.asarray(x, dtype=np.float32), np.asarray(y), epochs=epochs,
                        batch_size=batch_size, shuffle=True, verbose=0)
        stripped = load_tfmot().clustering.keras.strip_clustering(wrapped)
    return _compile(stripped)


def prune_plan_and_fine_tune(model: Any, x: Any, y: Any, plan: Mapping[str, float], *,
                             epochs: int = 2, pruning_epochs: int = 1, frequency: int = 10,
                             batch_size: int = 32, learning_rate: float = 1e-3,
                             seed: int = 0) -> Any:
    """Prune a copy of ``model`` with tfmot, each layer to its own sparsity, while fine-tuning.

    Every layer named in ``plan`` is wrapped by ``prune_low_magnitude`` with a polynomial
    schedule from 0 to ``plan[name]`` over the first ``pruning_epochs`` epochs (masks every
    ``frequency`` steps, see :func:`labkit.pruning.polynomial_schedule`); then
    ``strip_pruning``. Layers left out of the plan stay dense. Returns the compiled model.
    """
    from labkit import pruning as lp
    from labkit._tf import load_tfmot, quiet_native_stderr

    if not isinstance(plan, Mapping) or not plan:
        raise TypeError(f"plan must be a non-empty dict of layer name -> sparsity, e.g. "
                        f"{{'dense': 0.9}}, got {plan!r}")
    _chosen(model, plan)
    plan = {name: check_sparsity(s, f"plan[{name!r}]") for name, s in plan.items()}
    epochs = check_int(epochs, "epochs", low=1)
    pruning_epochs = check_int(pruning_epochs, "pruning_epochs", low=1, high=epochs)
    end_step = pruning_epochs * lp.steps_per_epoch(len(x), batch_size)
    sparsity = load_tfmot().sparsity.keras
    schedules = {name: lp.polynomial_schedule(s, end_step=end_step, frequency=frequency)
                 for name, s in plan.items()}
    keras = _keras()
    base = copy_model(model)
    with quiet_native_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wrapped = keras.models.clone_model(base, clone_function=lambda layer: (
            sparsity.prune_low_magnitude(layer, pruning_schedule=schedules[layer.name])
            if layer.name in schedules else layer))
        keras.utils.set_random_seed(check_int(seed, "seed", low=0))
        _compile(wrapped, learning_rate)
        wrapped.fit(np.asarray(x, dtype=np.float32), np.asarray(y), epochs=epochs,
                    batch_size=batch_size, shuffle=True, verbose=0,
                    callbacks=[sparsity.UpdatePruningStep()])
        stripped = sparsity.strip_pruning(wrapped)
    return _compile(stripped)
