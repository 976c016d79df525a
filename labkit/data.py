"""The course's three offline datasets (notebook 00 introduces them).

- :func:`load_digits`: scikit-learn's real handwritten 8×8 digits, optionally 32×32.
- :func:`load_mnist1d`: MNIST-1D, generated locally by the ``mnist1d`` package and cached.
- :func:`load_gestures`: 3-axis accelerometer gestures shipped in ``datasets/gestures``.

Nothing here downloads. Every loader returns a :class:`Dataset` with train / val / test
splits that are the same on every call with the same seed.

Example
-------
>>> ds = load_digits()
>>> ds.x_train.shape[1:], ds.x_train.dtype.name, ds.num_classes
((8, 8, 1), 'float32', 10)
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field

import numpy as np

from labkit._io import cache_dir
from labkit.validate import check_int, check_split, split_counts


@dataclass(frozen=True)
class Dataset:
    """Train / validation / test arrays of one dataset, with class names."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]
    extra: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def __repr__(self) -> str:
        return (f"<Dataset {self.name}: train {self.x_train.shape}, val {self.x_val.shape}, "
                f"test {self.x_test.shape}, {self.num_classes} classes>")


def stratified_split(y: np.ndarray, split: tuple[float, float, float], seed: int
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of a train/val/test split with each class in the same proportions.

    Example
    -------
    >>> tr, va, te = stratified_split(np.repeat(np.arange(2), 10), (0.6, 0.2, 0.2), seed=0)
    >>> len(tr), len(va), len(te)
    (12, 4, 4)
    """
    split = check_split(split)
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[], [], []]
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        n_train, n_val, _ = split_counts(len(idx), split)
        for part, chunk in zip(parts, np.split(idx, [n_train, n_train + n_val])):
            part.append(chunk)
    return tuple(rng.permutation(np.concatenate(p)) for p in parts)  # type: ignore[return-value]


def upsample_bilinear(images: np.ndarray, size: int) -> np.ndarray:
    """Resize a batch of square images ``(n, h, w)`` to ``(n, size, size)`` bilinearly.

    Pure numpy (align-corners sampling), so it needs no TensorFlow.

    Example
    -------
    >>> upsample_bilinear(np.ones((2, 8, 8)), 32).shape
    (2, 32, 32)
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 3 or images.shape[1] != images.shape[2]:
        raise ValueError(f"images must be (n, h, h), got shape {images.shape}")
    h = images.shape[1]
    pos = np.linspace(0, h - 1, size)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, h - 1)
    frac = (pos - lo).astype(np.float32)
    rows = images[:, lo, :] * (1 - frac)[None, :, None] + images[:, hi, :] * frac[None, :, None]
    return rows[:, :, lo] * (1 - frac) + rows[:, :, hi] * frac


def load_digits(size: int = 8, *, split: tuple[float, float, float] = (0.7, 0.15, 0.15),
                seed: int = 0) -> Dataset:
    """scikit-learn's 1,797 handwritten digits (8×8, 16 grey levels), scaled to [0, 1].

    Parameters
    ----------
    size : {8, 32}
        8 keeps the original images; 32 upsamples bilinearly to 32×32, which gives the
        convolutions enough work for latency measurements to mean something.
    split : (train, val, test) fractions, default (0.7, 0.15, 0.15)
        Stratified by class.
    seed : int
        Seed of the split; the same seed gives the same split.

    Returns
    -------
    Dataset
        ``x_*`` float32 ``(n, size, size, 1)`` in [0, 1]; ``y_*`` int64 labels 0–9.
    """
    if size not in (8, 32):
        raise ValueError(f"size must be 8 (original) or 32 (upsampled), got {size!r}")
    from sklearn.datasets import load_digits as sk_digits

    bunch = sk_digits()
    x = (bunch.images / 16.0).astype(np.float32)
    if size == 32:
        x = upsample_bilinear(x, 32)
    y = bunch.target.astype(np.int64)
    tr, va, te = stratified_split(y, split, seed)
    x = x[..., None]
    return Dataset(f"digits{size}", x[tr], y[tr], x[va], y[va], x[te], y[te],
                   tuple(str(d) for d in range(10)))


def _generate_mnist1d(num_samples: int, seed: int) -> dict[str, np.ndarray]:
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples, args.seed = num_samples, seed
    np_state, py_state = np.random.get_state(), random.getstate()
    try:  # make_dataset reseeds the global generators; give them back untouched
        data = make_dataset(args)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    return {"x": np.concatenate([data["x"], data["x_test"]]).astype(np.float32),
            "y": np.concatenate([data["y"], data["y_test"]]).astype(np.int64)}


def load_mnist1d(*, num_samples: int = 5000, seed: int = 42,
                 split: tuple[float, float, float] = (0.7, 0.15, 0.15),
                 split_seed: int = 0) -> Dataset:
    """MNIST-1D: 10 classes of 1-D signals of length 40, generated locally.

    Uses ``mnist1d.data.make_dataset`` (never its download path) and caches the arrays in
    :func:`cache_dir` so later calls take milliseconds.

    Parameters
    ----------
    num_samples : int
        Total signals (train + val + test), a multiple of 10; the benchmark uses 5000.
    seed : int
        Generator seed (42 is the published dataset's).
    split, split_seed
        Stratified train/val/test fractions and the seed of that split.

    Returns
    -------
    Dataset
        ``x_*`` float32 ``(n, 40)``, standardized overall; ``y_*`` int64 labels 0–9.
    """
    num_samples = check_int(num_samples, "num_samples", low=100)
    if num_samples % 10:
        raise ValueError(f"num_samples must be a multiple of 10 and >= 100, got {num_samples!r}")
    path = cache_dir() / f"mnist1d_n{num_samples}_s{seed}.npz"
    try:
        with np.load(path) as cached:
            data = {"x": cached["x"], "y": cached["y"]}
    except (OSError, KeyError, ValueError):
        data = _generate_mnist1d(num_samples, seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez_compressed(tmp, **data)
        os.replace(tmp, path)
    tr, va, te = stratified_split(data["y"], split, split_seed)
    x, y = data["x"], data["y"]
    return Dataset("mnist1d", x[tr], y[tr], x[va], y[va], x[te], y[te],
                   tuple(str(d) for d in range(10)))


def load_gestures(*, window_s: float = 2.0, stride_s: float = 1.0,
                  split: tuple[float, float, float] = (0.7, 0.15, 0.15), seed: int = 0
                  ) -> Dataset:
    """Accelerometer gestures (idle, wave, circle, updown), windowed, split by recording.

    See :func:`labkit.gestures.load_windows` and ``datasets/gestures/README.md``.

    Returns
    -------
    Dataset
        ``x_*`` float32 ``(n, window_len, 3)`` in m/s²; ``y_*`` int64; ``extra`` holds the
        recording id of every window (``recording_ids_train`` …) and ``sample_rate_hz``.
    """
    from labkit import gestures

    d = gestures.load_windows(window_s=window_s, stride_s=stride_s, split=split, seed=seed)
    extra = {k: v for k, v in d.items() if k.startswith("recording_ids") or k == "sample_rate_hz"}
    return Dataset("gestures", d["x_train"], d["y_train"], d["x_val"], d["y_val"], d["x_test"],
                   d["y_test"], tuple(d["classes"]), extra)
