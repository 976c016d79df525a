"""Weight sharing by hand: k-means on a tensor's weights, and the bits an index needs."""

from __future__ import annotations

from typing import Any

import numpy as np

from labkit.validate import check_array, check_int


def _weights(w: Any, name: str = "w") -> np.ndarray:
    arr = check_array(w, name, hint="pass a layer's weights, e.g. layer.get_weights()[0]")
    return arr.astype(np.float64)


def kmeans_codebook(w: Any, k: int, iters: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Share ``k`` values among all the weights of ``w``: Lloyd's k-means in one dimension.

    The rules (Han et al., Deep Compression, 2016, use the same linear initialisation):

    1. flatten ``w``; start from ``k`` centroids spaced linearly from ``w.min()`` to
       ``w.max()`` (``np.linspace``);
    2. repeat ``iters`` times: assign each weight to its nearest centroid (the lower index
       on a tie, as ``np.argmin`` does), then move every centroid to the mean of its
       weights — a centroid that got no weight stays where it is;
    3. assign each weight to its nearest centroid of the final codebook.

    Parameters
    ----------
    w : array_like of float, any shape
        The weights; not changed.
    k : int, >= 1
        Number of shared values (clusters).
    iters : int, >= 0, default 20
        Update steps. ``iters=0`` returns the linear initialisation itself.

    Returns
    -------
    (codebook, indices)
        ``codebook``: float64 ``(k,)``; ``indices``: int64 of ``w``'s shape, each in
        ``[0, k)``, so that ``codebook[indices]`` is ``w`` with shared weights.

    Example
    -------
    >>> kmeans_codebook([0.0, 1.0, 2.0, 10.0], 2, iters=0)[0]  # linspace(0, 10, 2)
    array([ 0., 10.])
    >>> kmeans_codebook([0.0, 1.0, 2.0, 10.0], 2, iters=1)[0]
    array([ 1., 10.])
    """
    arr = _weights(w)
    k = check_int(k, "k", low=1, hint="the number of shared values, e.g. 16 for 4-bit indices")
    iters = check_int(iters, "iters", low=0)
    flat = arr.ravel()
    codebook = np.linspace(flat.min(), flat.max(), k)
    for _ in range(iters):
        assign = _nearest(flat, codebook)
        sums = np.bincount(assign, weights=flat, minlength=k)
        counts = np.bincount(assign, minlength=k)
        filled = counts > 0
        codebook[filled] = sums[filled] / counts[filled]
    return codebook, _nearest(flat, codebook).reshape(arr.shape)


def _nearest(flat: np.ndarray, codebook: np.ndarray) -> np.ndarray:
    """Index of the nearest centroid of each value (lower index on ties), in chunks."""
    out = np.empty(flat.size, dtype=np.int64)
    step = max(1, 2**22 // max(1, codebook.size))
    for start in range(0, flat.size, step):
        part = flat[start:start + step]
        out[start:start + step] = np.argmin(np.abs(part[:, None] - codebook[None, :]), axis=1)
    return out


def index_bits(k: int) -> int:
    """Bits an index into a codebook of ``k`` entries needs: ``ceil(log2(k))`` (0 for k = 1).

    Example
    -------
    >>> [index_bits(k) for k in (1, 2, 16, 17)]
    [0, 1, 4, 5]
    """
    k = check_int(k, "k", low=1)
    return (k - 1).bit_length()
