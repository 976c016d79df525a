"""Recordings cut into fixed-length windows, split by person."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from labkit.gestures.files import dataset_dir, read_recording
from labkit.gestures.simulate import CLASSES, N_SAMPLES, SAMPLE_RATE_HZ, Recording, _as_path, _check_seconds
from labkit.validate import check_int, check_split, split_counts


def _split_by_recording(recordings: list[Recording], split: tuple[float, float, float],
                        seed: int) -> tuple[list[Recording], ...]:
    """Shuffle each class's recordings with ``seed`` and cut them into train, val, test."""
    rng, parts = np.random.default_rng(seed), ([], [], [])
    for label in CLASSES:
        recs = sorted((r for r in recordings if r.label == label), key=lambda r: r.name)
        n_train, n_val, n_test = split_counts(len(recs), split)
        if min(n_train, n_val, n_test) < 1:
            raise ValueError(f"split {split} leaves no {label!r} recording in train, val or "
                             f"test ({len(recs)} recordings); use larger fractions")
        cuts = np.split(rng.permutation(len(recs)), [n_train, n_train + n_val])
        for part, idx in zip(parts, cuts, strict=True):
            part.extend(recs[i] for i in sorted(idx))
    return parts


def _windows(recs: list[Recording], length: int, stride: int):
    starts = range(0, N_SAMPLES - length + 1, stride)
    x = np.stack([r.values[s:s + length] for r in recs for s in starts]).astype(np.float32)
    y = np.array([CLASSES.index(r.label) for r in recs for _ in starts], dtype=np.int64)
    return x, y, np.array([r.name for r in recs for _ in starts])


def load_windows(*, window_s: float = 2.0, stride_s: float = 1.0,
                  split: Sequence[float] = (0.7, 0.15, 0.15), seed: int = 0,
                  folder: str | os.PathLike | None = None) -> dict:
    """Windows of the recordings, split by recording and stratified by class.

    All windows of a recording land in the same split, so no test window has a near-copy
    in training. Window and stride are rounded to whole samples; windows come in file order.

    Parameters
    ----------
    window_s : float, default 2.0
        Window length in seconds, > 0 and <= 10 (2.0 s = 125 samples).
    stride_s : float, default 1.0
        Step between window starts in seconds, > 0 and <= 10 (1.0 s rounds to 62 samples).
    split : 3 floats, default (0.7, 0.15, 0.15)
        Fractions of each class's recordings for train, val and test; each > 0, sum 1.
    seed : int, default 0
        Chooses which recordings go where; the same seed gives the same split.
    folder : str or Path, optional
        Folder of ``<label>.s<NN>r<NN>.json`` files; default :func:`dataset_dir`.

    Returns
    -------
    dict
        ``x_train``, ``x_val``, ``x_test``: float32 (n, window_len, 3) in m/s2; ``y_*``:
        int64 (n,) indices into ``classes``; ``recording_ids_*``: str (n,), the recording
        each window comes from; ``classes``; ``sample_rate_hz``.

    Raises
    ------
    TypeError, ValueError
        If an argument has the wrong type or range, or a file is not a valid recording.
    FileNotFoundError
        If ``folder`` holds no ``.json`` file.

    Example
    -------
    >>> data = load_windows(seed=1)
    >>> data["x_train"].shape, data["y_train"].dtype, np.bincount(data["y_test"])
    ((1008, 125, 3), dtype('int64'), array([54, 54, 54, 54]))
    """
    length = max(1, round(_check_seconds("window_s", window_s) * SAMPLE_RATE_HZ))
    stride = max(1, round(_check_seconds("stride_s", stride_s) * SAMPLE_RATE_HZ))
    split, seed = check_split(split), check_int(seed, "seed", low=0)
    folder = dataset_dir() if folder is None else _as_path("folder", folder)
    paths = sorted(folder.glob("*.json"))
    if not paths:
        raise FileNotFoundError(f"no .json recordings in {folder}; see write_dataset()")
    parts = _split_by_recording([read_recording(p) for p in paths], split, seed)
    data = {"classes": CLASSES, "sample_rate_hz": SAMPLE_RATE_HZ}
    for name, recs in zip(("train", "val", "test"), parts, strict=True):
        x, y, ids = _windows(recs, length, stride)
        data.update({f"x_{name}": x, f"y_{name}": y, f"recording_ids_{name}": ids})
    return data


# ---------------------------------------------------------------- rebuild and check
