"""Pruning by hand in numpy: magnitude masks, a global threshold, 2:4 sparsity, filter ranking."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from labkit.validate import check_array, check_int, check_real, check_sparsity

PRUNABLE = ("Conv2D", "Dense")  # layer types whose kernels are pruned here (as tfmot does)


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
