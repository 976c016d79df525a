"""Pruning: magnitude pruning by hand, tfmot schedules, 2:4 sparsity, filter removal (notebook 03).

Pure numpy (no TensorFlow), the math of notebook 03's exercises:

- :func:`check_sparsity` (from :mod:`labkit.validate`): the one check of a ``sparsity``
  argument (a fraction in [0, 1));
- unstructured: :func:`magnitude_prune` (one tensor), :func:`global_threshold` (one threshold
  for many tensors), :func:`threshold_prune`, :func:`zero_fraction`;
- 2:4 (N:M) sparsity: :func:`is_m_by_n_sparse`;
- structured: :func:`rank_filters_l1`, :func:`prune_filters` (a conv layer and the next one),
  :func:`kernel_image` (a kernel laid out as a picture).

TensorFlow glue (imported on first call) for the course's tf_keras models:

- one-shot pruning without fine-tuning: :func:`prune_model`, :func:`accuracy_vs_sparsity`,
  :func:`outcomes_vs_sparsity` (which samples are right, for intervals and paired tests),
  :func:`sensitivity_scan`, :func:`sparsity_plan`, :func:`kernel_sparsity`;
- tfmot: :func:`prune_with_tfmot` (exercise 03: the wrapped model, ready to fine-tune),
  :func:`polynomial_schedule`, :func:`schedule_trace`, :func:`prune_and_fine_tune`
  (``prune_low_magnitude`` + ``UpdatePruningStep`` + ``strip_pruning``, masks updated every
  ``frequency`` steps) and :func:`prune_m_by_n_and_fine_tune` (``sparsity_m_by_n=(2, 4)``);
- filters: :func:`filters_to_keep` and :func:`remove_filters`, which builds a smaller model;
- measuring: :func:`tflite_weight_sparsity` (zeros in a ``.tflite``),
  :func:`convert_sparse_encoding` (the converter's experimental sparse weight format, from
  :mod:`labkit.convert`, re-exported here);
- exploring: :func:`sparsity_explorer` (ipywidgets) and :func:`plot_masked_kernels` (static).

Sparsity is always the fraction of weights that are zero, in [0, 1), never a percentage.

Example
-------
>>> w = np.array([[0.5, -0.1], [0.05, -2.0]])
>>> w_pruned, mask = magnitude_prune(w, 0.5)
>>> w_pruned
array([[ 0.5,  0. ],
       [ 0. , -2. ]])
>>> mask
array([[1., 0.],
       [0., 1.]])
>>> global_threshold([w, np.array([3.0, 0.2])], 0.5)
0.2
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from labkit.convert import convert_sparse_encoding
from labkit.training import accuracy, clone
from labkit.validate import (
    check_array,
    check_fraction,
    check_int,
    check_keras_model,
    check_real,
    check_sparsity,
)

PRUNABLE = ("Conv2D", "Dense")  # layer types whose kernels are pruned here (as tfmot does)

# --------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------


def _check_weights(w: Any, name: str = "w") -> np.ndarray:
    arr = check_array(w, name, hint="pass a layer's weights, e.g. layer.get_weights()[0]")
    return arr if arr.dtype.kind == "f" else arr.astype(np.float64)


def _check_sparsities(sparsities: Any) -> list[float]:
    if isinstance(sparsities, str) or not isinstance(sparsities, (Sequence, np.ndarray)):
        raise TypeError(f"sparsities must be a list of fractions in [0, 1), e.g. [0.0, 0.5, 0.9], "
                        f"got {type(sparsities).__name__}")
    return [check_sparsity(s, f"sparsities[{i}]") for i, s in enumerate(sparsities)]


def _check_kernel(kernel: Any, name: str = "kernel") -> np.ndarray:
    arr = _check_weights(kernel, name)
    if arr.ndim != 4:
        raise ValueError(f"{name} must be a Conv2D kernel of shape (kh, kw, c_in, c_out), got "
                         f"shape {arr.shape}; read it with layer.get_weights()[0]")
    return arr


def _check_keep(keep: Any, num_filters: int) -> np.ndarray:
    idx = check_array(keep, "keep", ndim=1, kinds="iu",
                      hint="pass the integer indices of the filters to keep")
    if idx.min() < 0 or idx.max() >= num_filters:
        raise ValueError(f"keep holds indices outside 0..{num_filters - 1} (this layer has "
                         f"{num_filters} filters): {idx.tolist()}")
    if len(np.unique(idx)) != len(idx):
        raise ValueError(f"keep holds repeated indices: {idx.tolist()}; each filter once")
    return idx.astype(np.int64)


# --------------------------------------------------------------------------------------
# Unstructured (magnitude) pruning
# --------------------------------------------------------------------------------------


def magnitude_prune(w: Any, sparsity: float) -> tuple[np.ndarray, np.ndarray]:
    """Zero the ``round(sparsity * w.size)`` weights of smallest magnitude ``|w|``.

    Parameters
    ----------
    w : array_like of float, any shape
        The weights (e.g. a Conv2D kernel). Not changed.
    sparsity : float in [0, 1)
        Fraction of weights to remove; the count is rounded with Python's ``round``.

    Returns
    -------
    (w_pruned, mask)
        Two arrays of ``w``'s shape and float dtype: ``mask`` is 1 where a weight is kept
        and 0 where it is pruned; ``w_pruned`` is ``w`` with the pruned weights set to 0.
        Among weights of equal magnitude the one that comes first in ``w.ravel()`` order is
        pruned first.

    Raises
    ------
    TypeError, ValueError
        If ``w`` is not a non-empty finite numeric array or ``sparsity`` is not in [0, 1).

    Example
    -------
    >>> magnitude_prune([3.0, -1.0, 2.0, 0.5], 0.5)[0]
    array([3., 0., 2., 0.])
    """
    arr = _check_weights(w)
    k = int(round(check_sparsity(sparsity) * arr.size))
    order = np.argsort(np.abs(arr).ravel(), kind="stable")
    mask = np.ones(arr.size, dtype=arr.dtype)
    mask[order[:k]] = 0
    mask = mask.reshape(arr.shape)
    return np.where(mask > 0, arr, 0).astype(arr.dtype), mask


def global_threshold(weights: Sequence[Any], sparsity: float) -> float:
    """One magnitude threshold for many tensors: a ``sparsity`` fraction of all weights has
    ``|w| <= threshold``.

    With ``N`` weights in all and ``k = round(sparsity * N)``, the threshold is the k-th
    smallest magnitude (0.0 when ``k = 0``). Ties at the threshold make the fraction larger.

    Parameters
    ----------
    weights : sequence of array_like
        E.g. the kernels of every prunable layer; shapes may differ.
    sparsity : float in [0, 1)

    Returns
    -------
    float

    Raises
    ------
    TypeError, ValueError
        If ``weights`` is not a non-empty list of arrays or ``sparsity`` is not in [0, 1).

    Example
    -------
    >>> global_threshold([np.array([0.1, -0.4]), np.array([[0.3], [-0.2]])], 0.5)
    0.2
    """
    if isinstance(weights, np.ndarray) or not isinstance(weights, (list, tuple)) or not weights:
        raise TypeError("weights must be a non-empty list of arrays (one per layer), got "
                        f"{type(weights).__name__}; wrap a single array as [w]")
    magnitudes = np.concatenate([np.abs(_check_weights(w, f"weights[{i}]")).ravel()
                                 for i, w in enumerate(weights)])
    k = int(round(check_sparsity(sparsity) * magnitudes.size))
    if k == 0:
        return 0.0
    return float(np.partition(magnitudes, k - 1)[k - 1])


def threshold_prune(w: Any, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Zero every weight with ``|w| <= threshold``; return ``(w_pruned, mask)`` as
    :func:`magnitude_prune` does.

    Example
    -------
    >>> threshold_prune([0.3, -0.1, 0.2], 0.2)[1]
    array([1., 0., 0.])
    """
    arr = _check_weights(w)
    threshold = check_real(threshold, "threshold", low=0, hint="a magnitude |w| is never negative")
    mask = (np.abs(arr) > threshold).astype(arr.dtype)
    return np.where(mask > 0, arr, 0).astype(arr.dtype), mask


def zero_fraction(w: Any) -> float:
    """The sparsity a tensor has: the fraction of its values that are exactly zero.

    Example
    -------
    >>> zero_fraction([[0.0, 1.0], [0.0, 0.0]])
    0.75
    """
    arr = _check_weights(w)
    return float(np.count_nonzero(arr == 0) / arr.size)


def is_m_by_n_sparse(kernel: Any, m: int = 2, n: int = 4) -> bool:
    """Whether every block of ``n`` consecutive input-channel weights holds ``>= m`` zeros.

    The blocks run along the input-channel axis (axis -2 of a Conv2D kernel
    ``(kh, kw, c_in, c_out)`` or a Dense kernel ``(in, out)``), which is the last axis in
    LiteRT's weight layout and the axis tfmot's ``sparsity_m_by_n`` and NVIDIA's 2:4
    sparse tensor cores use. A channel count that is not a multiple of ``n`` is padded
    with zeros, as tfmot does.

    Example
    -------
    >>> is_m_by_n_sparse(np.array([[0.0], [1.0], [0.0], [2.0]]))
    True
    >>> is_m_by_n_sparse(np.array([[3.0], [1.0], [0.0], [2.0]]))
    False
    """
    arr = _check_weights(kernel, "kernel")
    if arr.ndim not in (2, 4):
        raise ValueError(f"kernel must be a Dense (in, out) or Conv2D (kh, kw, c_in, c_out) "
                         f"kernel, got shape {arr.shape}")
    m, n = check_int(m, "m", low=1), check_int(n, "n", low=2)
    if not m < n:
        raise ValueError(f"m and n must be ints with 0 < m < n (e.g. 2 and 4), got {m!r}, {n!r}")
    rows = np.moveaxis(arr, -2, -1).reshape(-1, arr.shape[-2])
    pad = (-rows.shape[1]) % n
    blocks = np.pad(rows, ((0, 0), (0, pad))).reshape(-1, n)
    return bool(np.all(np.count_nonzero(blocks == 0, axis=1) >= m))


# --------------------------------------------------------------------------------------
# Structured (filter) pruning
# --------------------------------------------------------------------------------------


def rank_filters_l1(kernel: Any) -> np.ndarray:
    """Output filters of a Conv2D kernel, from the smallest L1 norm to the largest.

    The L1 norm of filter ``j`` is ``sum(|kernel[:, :, :, j]|)``; equal norms keep index order.

    Parameters
    ----------
    kernel : array_like, shape ``(kh, kw, c_in, c_out)``

    Returns
    -------
    numpy.ndarray of int64, shape ``(c_out,)``
        Filter indices; the first is the weakest filter.

    Example
    -------
    >>> kernel = np.zeros((1, 1, 2, 3))
    >>> kernel[..., 0], kernel[..., 1], kernel[..., 2] = 1.0, -0.1, 0.5
    >>> rank_filters_l1(kernel)
    array([1, 2, 0])
    """
    norms = np.abs(_check_kernel(kernel)).sum(axis=(0, 1, 2))
    return np.argsort(norms, kind="stable").astype(np.int64)


def prune_filters(kernel: Any, bias: Any, next_kernel: Any, keep: Any
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep only the filters ``keep`` of a conv layer and the matching inputs of the next one.

    Filter ``j`` of this layer makes output channel ``j``, which the next conv layer reads
    as its input channel ``j``; removing one without the other breaks the shapes.

    Parameters
    ----------
    kernel : array_like, shape ``(kh, kw, c_in, c_out)``
    bias : array_like, shape ``(c_out,)``
    next_kernel : array_like, shape ``(kh2, kw2, c_out, c_out2)``
    keep : 1-D integer array
        Indices of the filters to keep, each once; their order is the new channel order.

    Returns
    -------
    (kernel, bias, next_kernel)
        New arrays of shapes ``(kh, kw, c_in, len(keep))``, ``(len(keep),)`` and
        ``(kh2, kw2, len(keep), c_out2)``.

    Raises
    ------
    ValueError
        If the shapes do not chain, or ``keep`` is empty, out of range or has repeats.

    Example
    -------
    >>> k, b, nk = prune_filters(np.ones((3, 3, 1, 4)), np.zeros(4), np.ones((3, 3, 4, 8)),
    ...                          [0, 2])
    >>> k.shape, b.shape, nk.shape
    ((3, 3, 1, 2), (2,), (3, 3, 2, 8))
    """
    kernel = _check_kernel(kernel)
    next_kernel = _check_kernel(next_kernel, "next_kernel")
    bias = _check_weights(bias, "bias")
    c_out = kernel.shape[-1]
    if bias.shape != (c_out,):
        raise ValueError(f"bias must have shape ({c_out},) to match the kernel's {c_out} "
                         f"filters, got {bias.shape}")
    if next_kernel.shape[2] != c_out:
        raise ValueError(f"next_kernel reads {next_kernel.shape[2]} input channels but kernel "
                         f"makes {c_out}; pass the kernel of the conv layer that follows")
    idx = _check_keep(keep, c_out)
    return kernel[..., idx].copy(), bias[idx].copy(), next_kernel[:, :, idx, :].copy()


def kernel_image(kernel: Any) -> np.ndarray:
    """A kernel laid out as one 2-D picture: a Conv2D kernel ``(kh, kw, c_in, c_out)``
    becomes ``(c_in * kh, c_out * kw)`` tiles (one 3×3 tile per input/output pair); a
    Dense kernel ``(in, out)`` is returned as it is.

    Example
    -------
    >>> kernel_image(np.zeros((3, 3, 2, 4))).shape
    (6, 12)
    """
    arr = _check_weights(kernel, "kernel")
    if arr.ndim == 2:
        return arr
    if arr.ndim != 4:
        raise ValueError(f"kernel must be 2-D or 4-D, got shape {arr.shape}")
    kh, kw, c_in, c_out = arr.shape
    return arr.transpose(2, 0, 3, 1).reshape(c_in * kh, c_out * kw)


# --------------------------------------------------------------------------------------
# Keras models: one-shot pruning, sensitivity (TensorFlow imported on first call)
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# tfmot: pruning schedules and fine-tuning
# --------------------------------------------------------------------------------------




def polynomial_schedule(final_sparsity: float, *, end_step: int, frequency: int = 10,
                        begin_step: int = 0, initial_sparsity: float = 0.0) -> Any:
    """tfmot's ``PolynomialDecay``, with ``end_step`` moved down to a mask-update step.

    The masks change only every ``frequency`` steps from ``begin_step``; when ``end_step`` is
    not such a step, the last update happens before it and the final sparsity is never
    reached, so ``end_step`` is rounded down to ``begin_step + j * frequency``.

    Raises
    ------
    ValueError
        If no mask update after ``begin_step`` fits before ``end_step`` (lower ``frequency``:
        tfmot's default of 100 prunes nothing in a 90-step fine-tune).
    """
    final = check_sparsity(final_sparsity, "final_sparsity")
    initial = check_sparsity(initial_sparsity, "initial_sparsity")
    frequency = check_int(frequency, "frequency", low=1)
    begin_step = check_int(begin_step, "begin_step", low=0)
    end_step = check_int(end_step, "end_step", low=begin_step + 1)
    updates = (end_step - begin_step) // frequency
    if updates < 1:
        raise ValueError(f"frequency={frequency} leaves no mask update between begin_step="
                         f"{begin_step} and end_step={end_step}; use a frequency below "
                         f"{end_step - begin_step}")
    from labkit._tf import load_tfmot

    return load_tfmot().sparsity.keras.PolynomialDecay(
        initial_sparsity=initial, final_sparsity=final, begin_step=begin_step,
        end_step=begin_step + updates * frequency, frequency=frequency)


def schedule_trace(schedule: Any, num_steps: int) -> np.ndarray:
    """The sparsity the masks have after each of ``num_steps`` training steps.

    Calls the tfmot schedule as the pruning wrapper does: the masks change only at steps
    where the schedule says so, and keep their sparsity in between.
    """
    num_steps = check_int(num_steps, "num_steps", low=1)
    from labkit._tf import load

    tf, _ = load()
    current, trace = 0.0, np.zeros(num_steps)
    for step in range(num_steps):
        update, target = schedule(tf.constant(step, dtype=tf.int64))
        if bool(update):
            current = float(target)
        trace[step] = current
    return trace


PRUNING_FREQUENCY = 10  # mask updates every 10 steps: tfmot's default (100) is too rare here


def prune_with_tfmot(model: Any, target_sparsity: float, end_step: int) -> Any:
    """Wrap a copy of ``model`` for pruning with tfmot, ready to fine-tune (exercise 03).

    Every Conv2D and Dense layer except the first of them (``conv1``: few weights, and
    the raw input flows through it) is wrapped with ``prune_low_magnitude`` and a
    ``PolynomialDecay`` schedule from sparsity 0 at step 0 to ``target_sparsity`` at
    ``end_step``, with masks updated every :data:`PRUNING_FREQUENCY` steps. The result is
    *not* trained and *not* stripped: fit it with the ``UpdatePruningStep`` callback for at
    least ``end_step`` steps, then ``strip_pruning``.

    Parameters
    ----------
    model : tf_keras.Model
        A trained model; it is not changed (the wrapped copy starts from its weights).
    target_sparsity : float in [0, 1)
        Sparsity of each wrapped kernel once ``end_step`` steps have run.
    end_step : int
        The step at which the schedule reaches ``target_sparsity``: a multiple of
        :data:`PRUNING_FREQUENCY`, so that a mask update falls on it.

    Returns
    -------
    tf_keras.Model
        The wrapped copy (uncompiled).

    Raises
    ------
    ValueError
        If ``target_sparsity`` is not in [0, 1) or ``end_step`` is not a positive multiple
        of :data:`PRUNING_FREQUENCY`.
    """
    keras = _check_model(model)
    target_sparsity = check_sparsity(target_sparsity, "target_sparsity")
    end_step = check_int(end_step, "end_step", low=PRUNING_FREQUENCY)
    if end_step % PRUNING_FREQUENCY:
        raise ValueError(f"end_step must be a multiple of {PRUNING_FREQUENCY} (the mask update "
                         f"frequency), so that the last update reaches the target; got {end_step}")
    from labkit._tf import load_tfmot, quiet_native_stderr

    sparsity = load_tfmot().sparsity.keras
    schedule = sparsity.PolynomialDecay(initial_sparsity=0.0, final_sparsity=target_sparsity,
                                        begin_step=0, end_step=end_step,
                                        frequency=PRUNING_FREQUENCY)
    wrapped_names = set(prunable_layers(model)[1:])
    base = clone(model)
    with quiet_native_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return keras.models.clone_model(
            base, clone_function=lambda layer: (sparsity.prune_low_magnitude(
                layer, pruning_schedule=schedule) if layer.name in wrapped_names else layer))


def _fine_tune_wrapped(model: Any, x: Any, y: Any, wrap: Mapping[str, Any], *,
                       layers: Iterable[str] | None, epochs: int, batch_size: int,
                       learning_rate: float, seed: int) -> Any:
    from labkit._tf import load_tfmot, quiet_native_stderr

    keras = _check_model(model)
    names = set(_layer_names(model, layers))
    epochs = check_int(epochs, "epochs", low=1)
    tfmot = load_tfmot()
    sparsity = tfmot.sparsity.keras
    base = clone(model)
    with quiet_native_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wrapped = keras.models.clone_model(
            base, clone_function=lambda layer: (sparsity.prune_low_magnitude(layer, **wrap)
                                                if layer.name in names else layer))
        keras.utils.set_random_seed(seed)
        wrapped.compile(optimizer=keras.optimizers.Adam(learning_rate),
                        loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        wrapped.fit(np.asarray(x, dtype=np.float32), np.asarray(y), epochs=epochs,
                    batch_size=batch_size, verbose=0, shuffle=True,
                    callbacks=[sparsity.UpdatePruningStep()])
        stripped = sparsity.strip_pruning(wrapped)
    stripped.compile(optimizer=keras.optimizers.Adam(learning_rate),
                     loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return stripped


def steps_per_epoch(num_samples: int, batch_size: int) -> int:
    """Training steps (batches) in one epoch: ``ceil(num_samples / batch_size)``."""
    num_samples = check_int(num_samples, "num_samples", low=1)
    return -(-num_samples // check_int(batch_size, "batch_size", low=1))


def prune_and_fine_tune(model: Any, x: Any, y: Any, final_sparsity: float, *,
                        epochs: int = 3, pruning_epochs: int = 2, frequency: int = 10,
                        batch_size: int = 32, learning_rate: float = 1e-3,
                        layers: Iterable[str] | None = None, seed: int = 0) -> Any:
    """Prune a copy of ``model`` with tfmot while fine-tuning; return it stripped.

    Wraps the chosen layers with ``prune_low_magnitude`` and a :func:`polynomial_schedule`
    that rises from 0 to ``final_sparsity`` over the first ``pruning_epochs`` epochs, with
    masks updated every ``frequency`` steps; trains ``epochs`` epochs with the
    ``UpdatePruningStep`` callback (the rest recovers at the final sparsity); then
    ``strip_pruning`` leaves plain layers whose kernels hold the zeros.

    Parameters
    ----------
    model : tf_keras.Model
        A trained model; it is not changed.
    x, y : arrays
        Training data and integer labels.
    final_sparsity : float in [0, 1)
        Sparsity of each pruned kernel at the end.
    epochs, pruning_epochs, frequency, batch_size, learning_rate, seed
        The fine-tune; ``pruning_epochs <= epochs``.
    layers : names, optional
        Layers to prune; default every Conv2D and Dense layer.

    Returns
    -------
    tf_keras.Model
        Compiled; check the result with :func:`kernel_sparsity`.
    """
    final_sparsity = check_sparsity(final_sparsity, "final_sparsity")
    epochs = check_int(epochs, "epochs", low=1)
    pruning_epochs = check_int(pruning_epochs, "pruning_epochs", low=1)
    if pruning_epochs > epochs:
        raise ValueError(f"pruning_epochs ({pruning_epochs}) must be <= epochs ({epochs})")
    end_step = pruning_epochs * steps_per_epoch(len(x), batch_size)
    schedule = polynomial_schedule(final_sparsity, end_step=end_step, frequency=frequency)
    return _fine_tune_wrapped(model, x, y, {"pruning_schedule": schedule}, layers=layers,
                              epochs=epochs, batch_size=batch_size,
                              learning_rate=learning_rate, seed=seed)


def prune_m_by_n_and_fine_tune(model: Any, x: Any, y: Any, *, m_by_n: tuple[int, int] = (2, 4),
                               epochs: int = 2, batch_size: int = 32,
                               learning_rate: float = 1e-3, layers: Iterable[str] | None = None,
                               seed: int = 0) -> Any:
    """Structured N:M sparsity with tfmot (``sparsity_m_by_n``): ``m`` zeros in every block
    of ``n`` consecutive input-channel weights, then fine-tuning; returns the stripped model.

    tfmot sets the N:M masks once, at step 1, and keeps them; the fine-tune lets the kept
    weights make up for the removed ones. Verify the pattern with :func:`is_m_by_n_sparse`.
    See :func:`prune_and_fine_tune` for the other arguments.
    """
    if isinstance(m_by_n, str) or not isinstance(m_by_n, Sequence) or len(m_by_n) != 2:
        raise TypeError(f"m_by_n must be two ints (m, n), e.g. (2, 4); got {m_by_n!r}")
    m, n = check_int(m_by_n[0], "m_by_n[0]", low=1), check_int(m_by_n[1], "m_by_n[1]", low=2)
    if not m < n:
        raise ValueError(f"m_by_n must be two ints (m, n) with 0 < m < n, e.g. (2, 4); got "
                         f"{m_by_n!r}")
    return _fine_tune_wrapped(model, x, y, {"sparsity_m_by_n": (int(m), int(n))}, layers=layers,
                              epochs=epochs, batch_size=batch_size,
                              learning_rate=learning_rate, seed=seed)


# --------------------------------------------------------------------------------------
# Removing filters: a smaller dense model
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# Measuring and exploring
# --------------------------------------------------------------------------------------


def tflite_weight_sparsity(model_bytes: bytes) -> dict[str, float]:
    """Zero fraction of every weight tensor stored in a ``.tflite`` file, by role.

    Shows whether the zeros survived conversion: float32 zeros stay 0.0, and int8 weights,
    quantized symmetrically (zero point 0), store them as the code 0.

    Returns
    -------
    {"CONV_2D #1 weights": 0.9, ...}
    """
    from labkit.runtime import describe, read_constant

    return {info.role: zero_fraction(read_constant(model_bytes, info))
            for info in describe(model_bytes).constants if info.role.endswith(" weights")}






def plot_masked_kernels(kernel: Any, sparsities: Sequence[float], accuracies: Sequence[float],
                        *, show: Sequence[float], layer: str = "kernel",
                        crop: tuple[int, int] | None = None,
                        accuracy_of: str = "every layer pruned to that sparsity") -> Any:
    """Static panels: the kernel magnitude-pruned at each sparsity in ``show`` (pruned weights
    white), titled with the accuracy at that sparsity from the precomputed curve.

    ``crop=(inputs, filters)`` draws only the first input channels and filters of a Conv2D
    kernel, large enough to see each ``kh × kw`` tile, outlined; the mask is still the one
    of the whole kernel.
    """
    import matplotlib.pyplot as plt

    lookup = dict(zip([round(s, 6) for s in _check_sparsities(sparsities)], accuracies))
    fig, axes = plt.subplots(1, len(show), figsize=(3.3 * len(show) + 1.0, 3.4), squeeze=False,
                             layout="constrained")
    for ax, s in zip(axes[0], show):
        image = _draw_masked(ax, kernel, s, lookup.get(round(s, 6)), crop)
    fig.colorbar(image, ax=axes[0].tolist(), label="|weight|", shrink=0.9)
    part = f" (first {crop[0]} input channels × first {crop[1]} filters)" if crop else ""
    fig.suptitle(f"{layer}{part}: |weight| after magnitude pruning (white = pruned); accuracy "
                 f"with {accuracy_of}")
    return fig


def _draw_masked(ax: Any, kernel: Any, sparsity: float, accuracy: float | None,
                 crop: tuple[int, int] | None = None) -> Any:
    pruned, mask = magnitude_prune(kernel, sparsity)
    if crop is not None and np.ndim(kernel) == 4:
        n_in, n_out = crop
        kernel, pruned, mask = (a[:, :, :n_in, :n_out] for a in (np.asarray(kernel), pruned, mask))
    image = np.where(kernel_image(mask) > 0, np.abs(kernel_image(pruned)), np.nan)
    handle = ax.imshow(image, cmap="viridis", interpolation="nearest", aspect="auto",
                       vmin=0, vmax=float(np.abs(kernel).max()))
    acc = f", accuracy {accuracy:.1%}" if accuracy is not None else ""
    ax.set_title(f"sparsity {sparsity:.0%}{acc}", fontsize=9)
    if crop is not None and np.ndim(kernel) == 4:
        kh, kw, c_in, c_out = np.shape(kernel)
        for row in range(1, c_in):
            ax.axhline(row * kh - 0.5, color="k", lw=1)
        for col in range(1, c_out):
            ax.axvline(col * kw - 0.5, color="k", lw=1)
        ax.set_xticks(np.arange(c_out) * kw + (kw - 1) / 2, [str(j) for j in range(c_out)])
        ax.set_yticks(np.arange(c_in) * kh + (kh - 1) / 2, [str(i) for i in range(c_in)])
        ax.set_xlabel(f"filter (each tile: one {kh}×{kw} slice)")
        ax.set_ylabel("input channel")
    else:
        ax.set_xlabel("output channel × kernel column")
        ax.set_ylabel("input channel × kernel row")
    return handle


def sparsity_explorer(kernel: Any, sparsities: Sequence[float], accuracies: Sequence[float], *,
                      layer: str = "kernel", crop: tuple[int, int] | None = None,
                      accuracy_of: str = "every layer pruned to that sparsity, no fine-tuning",
                      interactive: bool | None = None) -> None:
    """A slider over the precomputed ``sparsities``: the masked kernel (``crop`` as in
    :func:`plot_masked_kernels`) and the accuracy curve.

    Headless (see :func:`labkit.widgets.explore`) it draws 50 % and the largest sparsity.
    """
    import matplotlib.pyplot as plt

    from labkit.widgets import explore

    grid = _check_sparsities(sparsities)
    acc = np.asarray(accuracies, dtype=float)

    def draw(sparsity: float) -> None:
        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
        image = _draw_masked(left, kernel, sparsity, float(acc[grid.index(sparsity)]), crop)
        fig.colorbar(image, ax=left, label="|weight|")
        left.set_title(f"{layer} at {left.get_title()} (white = pruned)", fontsize=9)
        right.plot(np.array(grid) * 100, acc * 100, marker="o", markersize=3)
        right.axvline(sparsity * 100, color="tab:red", linestyle="--")
        right.set(title=accuracy_of, xlabel="sparsity (% of weights removed)",
                  ylabel="test accuracy (%)")
        fig.tight_layout()
        plt.show()

    middle = grid[len(grid) // 2]
    explore(draw, {"sparsity": lambda w: w.SelectionSlider(
        options=[(f"{s:.0%}", s) for s in grid], value=middle, description="sparsity")},
        static=[{"sparsity": middle}, {"sparsity": grid[-1]}], interactive=interactive)


__all__ = [
    "accuracy_vs_sparsity", "check_sparsity", "convert_sparse_encoding", "filters_to_keep",
    "global_threshold", "is_m_by_n_sparse", "kernel_image", "kernel_sparsity",
    "magnitude_prune", "outcomes_vs_sparsity", "plot_masked_kernels", "polynomial_schedule",
    "prunable_layers", "prune_and_fine_tune", "prune_filters", "prune_m_by_n_and_fine_tune",
    "prune_model", "prune_with_tfmot", "PRUNING_FREQUENCY", "rank_filters_l1", "remove_filters",
    "schedule_trace", "sensitivity_scan", "sparsity_explorer", "sparsity_plan",
    "steps_per_epoch", "tflite_weight_sparsity", "threshold_prune", "total_sparsity",
    "zero_fraction",
]
