"""Low-rank factorization by truncated SVD: a matrix as two thinner ones."""

from __future__ import annotations

from typing import Any

import numpy as np

from labkit.validate import check_array, check_int


def low_rank(w: Any, rank: int) -> tuple[np.ndarray, np.ndarray]:
    """The best rank-``rank`` factors of a matrix: ``a @ b`` is its truncated SVD.

    With ``w = U diag(S) V^T``, keep the ``rank`` largest singular values:
    ``a = U[:, :r] * S[:r]`` (shape ``(m, r)``) and ``b = V^T[:r]`` (shape ``(r, n)``).
    ``a @ b`` is the rank-``r`` matrix closest to ``w`` in the Frobenius (and spectral)
    norm (Eckart-Young); storing ``a`` and ``b`` takes ``r * (m + n)`` numbers instead of
    ``m * n``.

    Example
    -------
    >>> a, b = low_rank(np.outer([1.0, 2.0], [3.0, 4.0]), 1)
    >>> (a @ b).round(6)
    array([[3., 4.],
           [6., 8.]])
    """
    arr = check_array(w, "w", ndim=2, hint="reshape a conv kernel to (kh*kw*c_in, c_out)"
                      ).astype(np.float64)
    rank = check_int(rank, "rank", low=1, high=min(arr.shape),
                     hint=f"a {arr.shape[0]}×{arr.shape[1]} matrix has rank at most "
                          f"{min(arr.shape)}")
    u, s, vt = np.linalg.svd(arr, full_matrices=False)
    return u[:, :rank] * s[:rank], vt[:rank].copy()


def low_rank_params(shape: tuple[int, int], rank: int) -> int:
    """Numbers stored by rank-``rank`` factors of an ``m × n`` matrix: ``rank * (m + n)``."""
    if not isinstance(shape, (tuple, list)) or len(shape) != 2:
        raise TypeError(f"shape must be a matrix's shape (m, n), e.g. (256, 10), got {shape!r}")
    m, n = (check_int(d, "shape", low=1) for d in shape)
    return check_int(rank, "rank", low=1, high=min(m, n)) * (m + n)
