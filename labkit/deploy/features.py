"""Windows, fresh recordings and spectral features of accelerometer data (notebook 09).

- :func:`sliding_windows` / :func:`window_starts`: overlapping windows with a stride;
- :func:`fresh_recordings` and :func:`windows_of`: new recordings of the dataset's people
  (held-out data that was never shipped), cut into windows;
- :func:`spectral_features` (exercise ``09.spectral_features``), :func:`spectral_features_batch`,
  :func:`feature_names`: per-axis statistics and FFT band powers, like Edge Impulse's spectral
  analysis block.

Pure numpy.

Example
-------
>>> window = np.zeros((125, 3)); window[:, 2] = 9.81
>>> np.round(spectral_features(window, 2)[-4:], 3)  # z: gravity only, no motion
array([9.81, 0.  , 0.  , 0.  ])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from labkit import gestures
from labkit.gestures.simulate import _person, _simulate
from labkit.validate import check_array, check_int

SAMPLE_RATE_HZ = gestures.SAMPLE_RATE_HZ
CLASSES = gestures.CLASSES


# --------------------------------------------------------------------------------------
# Windows and fresh recordings
# --------------------------------------------------------------------------------------

def window_starts(n_samples: int, window_len: int, stride: int) -> np.ndarray:
    """First sample of every complete window: ``0, stride, 2·stride, …`` (int64).

    Example
    -------
    >>> window_starts(10, 4, 3)
    array([0, 3, 6])
    """
    n_samples = check_int(n_samples, "n_samples", low=1)
    window_len = check_int(window_len, "window_len", low=1, high=n_samples,
                           hint="a window cannot be longer than the recording")
    stride = check_int(stride, "stride", low=1)
    return np.arange(0, n_samples - window_len + 1, stride, dtype=np.int64)


def sliding_windows(values: Any, window_len: int, stride: int) -> np.ndarray:
    """Overlapping windows of a recording, ``stride`` samples apart.

    Parameters
    ----------
    values : array_like, shape ``(n_samples, n_axes)``
        One recording, time along axis 0.
    window_len, stride : int
        In samples (62.5 Hz: a 2 s window is 125 samples).

    Returns
    -------
    numpy.ndarray of float32, shape ``(n_windows, window_len, n_axes)``
        ``(n_samples - window_len) // stride + 1`` windows.

    Example
    -------
    >>> sliding_windows(np.arange(20.0).reshape(10, 2), 4, 3)[:, 0, 0]
    array([ 0.,  6., 12.], dtype=float32)
    """
    values = check_array(values, "values", ndim=2, hint="one recording, (n_samples, n_axes)")
    starts = window_starts(len(values), window_len, stride)
    return np.stack([values[s:s + window_len] for s in starts]).astype(np.float32)


def fresh_recordings(repetitions: Sequence[int], *, seed: int = gestures.DEFAULT_SEED,
                     subjects: int = 8) -> list[gestures.Recording]:
    """New recordings of the dataset's people: repetition numbers the shipped files lack.

    The shipped set holds repetitions 1–5 of every person and class; repetition ``r`` of
    person ``s`` is simulated exactly as :func:`labkit.gestures.generate_recordings` would
    (same people, same random streams), so repetitions 6 and up are held-out data of the
    same distribution.

    Example
    -------
    >>> recs = fresh_recordings([6])
    >>> len(recs), recs[0].name
    (32, 'idle.s01r06')
    """
    seed = check_int(seed, "seed", low=0)
    subjects = check_int(subjects, "subjects", low=1, high=99)
    reps = [check_int(r, "repetitions[i]", low=1, high=99) for r in repetitions]
    people = {s: _person(seed, s) for s in range(1, subjects + 1)}
    found = []
    for rep in reps:
        for subject in range(1, subjects + 1):
            for c, label in enumerate(CLASSES):
                rng = np.random.default_rng([seed, 1 + c, subject, rep])
                found.append(gestures.Recording(label, subject, f"s{subject:02d}r{rep:02d}",
                                                _simulate(label, people[subject], rng)))
    return found


def windows_of(recordings: Sequence[gestures.Recording], window_len: int, stride: int
               ) -> tuple[np.ndarray, np.ndarray]:
    """All windows of ``recordings`` and their class indices: ``(x, y)``."""
    xs = [sliding_windows(r.values, window_len, stride) for r in recordings]
    ys = [np.full(len(x), CLASSES.index(r.label), dtype=np.int64) for r, x in zip(recordings, xs)]
    return np.concatenate(xs), np.concatenate(ys)


# --------------------------------------------------------------------------------------
# Spectral features (exercise 09.spectral_features)
# --------------------------------------------------------------------------------------

def _spectral(windows: np.ndarray, n_bands: int) -> np.ndarray:
    """(n, L, C) windows -> (n, C * (2 + n_bands)) features; the one implementation."""
    length = windows.shape[1]
    mean = windows.mean(axis=1, keepdims=True)
    detrended = windows - mean
    rms = np.sqrt(np.mean(detrended ** 2, axis=1))
    power = np.abs(np.fft.rfft(detrended, axis=1)) ** 2 / length  # (n, L//2 + 1, C)
    groups = np.array_split(np.arange(1, length // 2 + 1), n_bands)
    bands = np.stack([power[:, g, :].sum(axis=1) for g in groups], axis=2)  # (n, C, n_bands)
    per_axis = np.concatenate([mean[:, 0, :, None], rms[:, :, None], bands], axis=2)
    return per_axis.reshape(len(windows), -1)


def _check_bands(n_bands: Any, length: int) -> int:
    return check_int(n_bands, "n_bands", low=1, high=max(1, length // 2),
                     hint=f"a window of {length} samples has {length // 2} frequency bins "
                          "(the bins 1 .. L//2 of its real FFT)")


def spectral_features(window: Any, n_bands: int) -> np.ndarray:
    """Per-axis statistics and FFT band powers of one window, like Edge Impulse's spectral block.

    For each axis ``a`` (column of ``window``), in order:

    1. ``mean`` of the column (gravity and the device's tilt show up here);
    2. ``rms`` of the column minus its mean: ``sqrt(mean(d ** 2))``;
    3. ``n_bands`` band powers: ``P = |rfft(d)| ** 2 / L`` (``L`` samples) over the bins
       ``1 .. L // 2`` (bin 0, the mean, is left out), cut into ``n_bands`` contiguous groups
       as ``np.array_split`` cuts them; each band is the sum of its group.

    The result is axis-major: ``[mean_x, rms_x, band_x_0, …, mean_y, …]``.

    Parameters
    ----------
    window : array_like, shape ``(L, n_axes)``
        Time along axis 0; ``L >= 2``.
    n_bands : int
        1 to ``L // 2``.

    Returns
    -------
    numpy.ndarray of float64, shape ``(n_axes * (2 + n_bands),)``

    Example
    -------
    >>> t = np.arange(64) / 64
    >>> window = np.stack([np.sin(2 * np.pi * 4 * t), np.full(64, 9.81)], axis=1)
    >>> np.round(spectral_features(window, 4), 3)  # the 4-cycle sine lands in band 0
    array([ 0.   ,  0.707, 16.   ,  0.   ,  0.   ,  0.   ,  9.81 ,  0.   ,
            0.   ,  0.   ,  0.   ,  0.   ])
    """
    window = check_array(window, "window", ndim=2,
                         hint="one window of shape (L, n_axes), time along axis 0")
    if len(window) < 2:
        raise ValueError(f"window must hold at least 2 samples (rows), got shape {window.shape}")
    n_bands = _check_bands(n_bands, len(window))
    return _spectral(window[None].astype(np.float64), n_bands)[0]


def spectral_features_batch(windows: Any, n_bands: int) -> np.ndarray:
    """:func:`spectral_features` of every window of ``windows`` ``(n, L, n_axes)``: ``(n, F)``."""
    windows = check_array(windows, "windows", ndim=3, hint="windows of shape (n, L, n_axes)")
    if windows.shape[1] < 2:
        raise ValueError(f"windows must hold at least 2 samples each, got shape {windows.shape}")
    return _spectral(windows.astype(np.float64), _check_bands(n_bands, windows.shape[1]))


def feature_names(n_bands: int, axes: Sequence[str] = ("x", "y", "z")) -> list[str]:
    """Names of :func:`spectral_features`' outputs, e.g. ``"x band 0"``.

    Example
    -------
    >>> feature_names(2, ("x",))
    ['x mean', 'x rms', 'x band 0', 'x band 1']
    """
    n_bands = check_int(n_bands, "n_bands", low=1)
    return [f"{a} {f}" for a in axes for f in ("mean", "rms", *(f"band {b}" for b in
                                                                  range(n_bands)))]


# --------------------------------------------------------------------------------------
