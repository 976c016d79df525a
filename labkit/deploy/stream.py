"""Continuous inference: slide a model over a recording in TFLite Micro and smooth (notebook 09).

Example
-------
>>> smooth(np.array([[1.0, 0.0], [0.0, 1.0]]), 2)
array([[1. , 0. ],
       [0.5, 0.5]])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from labkit.deploy.features import SAMPLE_RATE_HZ, sliding_windows, window_starts
from labkit.validate import check_array, check_int, check_model_bytes

# Continuous inference
# --------------------------------------------------------------------------------------

def smooth(probabilities: Any, k: int) -> np.ndarray:
    """Causal moving average: row ``t`` is the mean of rows ``t-k+1 .. t`` (fewer at the start).

    What a device can do as windows arrive: it never waits for future windows.

    Example
    -------
    >>> smooth(np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]), 2)
    array([[1. , 0. ],
           [0.5, 0.5],
           [0. , 1. ]])
    """
    p = check_array(probabilities, "probabilities", ndim=2, kinds="f",
                    hint="class probabilities of shape (n_windows, n_classes)")
    k = check_int(k, "k", low=1)
    cumulative = np.cumsum(np.vstack([np.zeros((1, p.shape[1])), p]), axis=0)
    upper = np.arange(1, len(p) + 1)
    lower = np.maximum(0, upper - k)
    return (cumulative[upper] - cumulative[lower]) / (upper - lower)[:, None]


@dataclass(frozen=True)
class Stream:
    """Predictions over a recording: window end times (s), raw and smoothed probabilities."""

    times_s: np.ndarray
    raw: np.ndarray
    smoothed: np.ndarray

    @property
    def raw_classes(self) -> np.ndarray:
        return np.argmax(self.raw, axis=1)

    @property
    def smoothed_classes(self) -> np.ndarray:
        return np.argmax(self.smoothed, axis=1)

    def __repr__(self) -> str:
        return f"Stream({len(self.times_s)} windows up to {self.times_s[-1]:.2f} s)"


def stream_predictions(model_bytes: bytes, values: Any, *, stride: int, k: int = 3) -> Stream:
    """Slide the model over a recording in TFLite Micro, as a device would, and smooth.

    Windows of the model's input length, ``stride`` samples apart; each gets the model's
    class probabilities (:func:`labkit.runtime.run_micro`); :func:`smooth` averages the
    last ``k``.
    """
    from labkit.runtime import describe, run_micro

    model_bytes = check_model_bytes(model_bytes)
    window_len = int(describe(model_bytes).inputs[0].shape[1])
    windows = sliding_windows(values, window_len, stride)
    raw = run_micro(model_bytes, windows).reshape(len(windows), -1)
    ends = (window_starts(len(np.asarray(values)), window_len, stride) + window_len) / SAMPLE_RATE_HZ
    return Stream(ends, raw, smooth(raw.astype(np.float64), k))
