"""Model sizes and the course's model builders (notebooks 00–05).

The pure functions here need no TensorFlow; builders import it on first call.
"""

from __future__ import annotations

import numbers

from labkit.grading.core import reference_for


@reference_for("00.model_size_bytes")
def model_size_bytes(num_params: int, bits_per_weight: int) -> int:
    """Bytes needed to store ``num_params`` weights of ``bits_per_weight`` bits each.

    Weights are packed tightly and the total is rounded up to whole bytes.

    Parameters
    ----------
    num_params : int
        Number of weights, >= 0.
    bits_per_weight : int
        Bits per weight, >= 1 (32 for float32, 8 for int8, 4 for int4 ...).

    Returns
    -------
    int
        ``ceil(num_params * bits_per_weight / 8)``.

    Example
    -------
    >>> model_size_bytes(1_000, 32)
    4000
    >>> model_size_bytes(3, 4)
    2
    """
    for name, value, low in (("num_params", num_params, 0), ("bits_per_weight", bits_per_weight, 1)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if value < low:
            raise ValueError(f"{name} must be >= {low}, got {value}")
    return -(-int(num_params) * int(bits_per_weight) // 8)
