"""Trained models, cached on disk and shared by the notebooks, benchmarks and tests.

Training the course CNN takes half a minute; notebooks 02–05 and the benchmarks all need
it, and notebook 05 needs many variants. :func:`trained` trains a model once and keeps it
in the labkit cache folder (``$LABKIT_CACHE/zoo`` or ``~/.cache/labkit/zoo``), keyed by
everything that decides its weights: the builder and its arguments, the dataset, the
training settings, the seed, and the TensorFlow and zoo versions. A warm cache loads in a
second; a cold one retrains, deterministically on one machine (seeded weights and data
order, ``keras.utils.set_random_seed``). Deleting the folder is always safe.

Example
-------
>>> recipe = Recipe("course_cnn", dataset="digits32", epochs=6, builder_kwargs={"width": 16})
>>> recipe.key()[:12] == Recipe("course_cnn", dataset="digits32", epochs=6,
...                             builder_kwargs={"width": 16}).key()[:12]
True
>>> recipe.key() == Recipe("course_cnn", dataset="digits32", epochs=7,
...                        builder_kwargs={"width": 16}).key()
False
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from labkit._io import cache_dir

ZOO_VERSION = 1  # bump when the training code below changes what a recipe produces


def _course_cnn(input_shape: tuple[int, ...], num_classes: int, **kwargs: Any) -> Any:
    from labkit.models import build_course_cnn

    return build_course_cnn(input_shape, num_classes, **kwargs)


def _signal_cnn(input_shape: tuple[int, ...], num_classes: int, **kwargs: Any) -> Any:
    from labkit.models import build_signal_cnn

    return build_signal_cnn(input_shape, num_classes, **kwargs)



def _gesture_cnn(input_shape: tuple[int, ...], num_classes: int, **kwargs: Any) -> Any:
    from labkit.models import build_gesture_cnn

    return build_gesture_cnn(input_shape, num_classes, **kwargs)


BUILDERS = {"course_cnn": _course_cnn, "signal_cnn": _signal_cnn, "gesture_cnn": _gesture_cnn}


def _dataset(name: str) -> Any:
    from labkit.data import load_digits, load_gestures, load_mnist1d

    loaders = {"digits8": lambda: load_digits(8), "digits32": lambda: load_digits(32),
               "mnist1d": load_mnist1d, "gestures": load_gestures,
               # 70,000 signals: a test split of 10,500, enough to resolve a point (notebook 04)
               "mnist1d_large": lambda: load_mnist1d(num_samples=70_000)}
    if name not in loaders:
        raise ValueError(f"dataset must be one of {', '.join(loaders)}, got {name!r}")
    return loaders[name]()


@dataclass(frozen=True)
class Recipe:
    """How a zoo model is made: ``builder`` (a name in :data:`BUILDERS`) called with the
    dataset's input shape, its number of classes, ``builder_kwargs`` and ``seed``, then
    ``fit`` for ``epochs`` with ``batch_size`` on the dataset's training split."""

    builder: str
    dataset: str
    epochs: int
    batch_size: int = 32
    seed: int = 0
    builder_kwargs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.builder not in BUILDERS:
            raise ValueError(f"builder must be one of {', '.join(BUILDERS)}, got {self.builder!r}")
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")

    def key(self, tf_version: str = "") -> str:
        """A hash of everything that decides the weights."""
        text = json.dumps({**asdict(self), "tf": tf_version, "zoo": ZOO_VERSION}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:20]


COURSE_CNN = Recipe("course_cnn", dataset="digits32", epochs=6, batch_size=32,
                    builder_kwargs={"width": 16})
"""The course CNN of notebooks 02–05: 32×32 digits, width 16, 6 epochs."""

SIGNAL_CNN = Recipe("signal_cnn", dataset="mnist1d_large", epochs=8, batch_size=128)
"""The signal CNN of notebooks 02–04 on MNIST-1D (70,000 signals, 10,500 of them for
testing, so an accuracy is known to about ±0.2 points): the model whose accuracy
verdicts those notebooks draw."""


@dataclass
class ZooModel:
    """A trained model with where it came from: ``cached`` says whether it was loaded."""

    model: Any
    recipe: Recipe
    cached: bool
    train_seconds: float
    path: Path

    def __repr__(self) -> str:
        how = "loaded from the cache" if self.cached else "trained now"
        return (f"<ZooModel {self.recipe.builder} on {self.recipe.dataset}, "
                f"{self.recipe.epochs} epochs: {how}; training took {self.train_seconds:.1f} s>")


def zoo_dir() -> Path:
    """The zoo's folder inside the labkit cache."""
    return cache_dir() / "zoo"


def _train(recipe: Recipe) -> tuple[Any, float]:
    from labkit._tf import load

    _, keras = load()
    data = _dataset(recipe.dataset)
    keras.utils.set_random_seed(recipe.seed)
    model = BUILDERS[recipe.builder](data.x_train.shape[1:], data.num_classes,
                                     seed=recipe.seed, **recipe.builder_kwargs)
    start = time.perf_counter()
    model.fit(data.x_train, data.y_train, epochs=recipe.epochs, batch_size=recipe.batch_size,
              shuffle=True, verbose=0)
    return model, time.perf_counter() - start


def trained(recipe: Recipe = COURSE_CNN, *, retrain: bool = False) -> ZooModel:
    """The model ``recipe`` makes: from the cache when it is there, else trained and cached.

    Each call returns a fresh model object (loaded from the file), so changing it never
    changes what later calls get.
    """
    from labkit._tf import load

    tf, keras = load()
    folder = zoo_dir()
    path = folder / f"{recipe.builder}-{recipe.key(tf.__version__)}.keras"
    meta_path = path.with_suffix(".json")
    if path.exists() and meta_path.exists() and not retrain:
        meta = json.loads(meta_path.read_text())
        return ZooModel(keras.models.load_model(path), recipe, True, meta["train_seconds"], path)
    model, seconds = _train(recipe)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.keras")
    model.save(tmp)
    os.replace(tmp, path)  # atomic: a concurrent reader sees the old file or the new one
    meta = {"recipe": asdict(recipe), "tf": tf.__version__, "train_seconds": seconds}
    tmp_meta = meta_path.with_name(f".{meta_path.stem}.{os.getpid()}.json")
    tmp_meta.write_text(json.dumps(meta, indent=1))
    os.replace(tmp_meta, meta_path)
    return ZooModel(keras.models.load_model(path), recipe, False, seconds, path)


def artifact(name: str, key: Mapping[str, Any], make: Callable[[], bytes]) -> tuple[bytes, bool]:
    """Bytes derived from zoo models (a fine-tuned ``.tflite``, a JSON of counts), cached.

    ``make()`` runs only when the cache has no file for ``name`` and ``key`` (a JSON-able
    mapping of everything that decides the bytes, e.g. a recipe's :meth:`Recipe.key` and the
    fine-tuning settings); the file name hashes ``name``, ``key``, the TensorFlow version
    and :data:`ZOO_VERSION`. The write is atomic, like :func:`trained`'s. Returns the bytes
    and whether they came from the cache.

    Example
    -------
    >>> import os, tempfile
    >>> saved = os.environ.get("LABKIT_CACHE")
    >>> os.environ["LABKIT_CACHE"] = tempfile.mkdtemp()
    >>> artifact("demo", {"n": 3}, lambda: b"abc")
    (b'abc', False)
    >>> artifact("demo", {"n": 3}, lambda: b"never called")
    (b'abc', True)
    >>> _ = os.environ.pop("LABKIT_CACHE") if saved is None else os.environ.update(LABKIT_CACHE=saved)
    """
    if not isinstance(name, str) or not name or not all(c.isalnum() or c in "-_." for c in name):
        raise ValueError(f"name must be a non-empty string of letters, digits, '-', '_' or '.', "
                         f"got {name!r}")
    if not isinstance(key, Mapping):
        raise TypeError(f"key must be a mapping (a dict), got {type(key).__name__}")
    if not callable(make):
        raise TypeError(f"make must be a function returning bytes, got {type(make).__name__}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        tf_version = version("tensorflow")
    except PackageNotFoundError:  # pragma: no cover
        tf_version = ""
    text = json.dumps({"name": name, "key": dict(key), "tf": tf_version, "zoo": ZOO_VERSION},
                      sort_keys=True, default=str)
    path = zoo_dir() / f"{name}-{hashlib.sha256(text.encode()).hexdigest()[:20]}.bin"
    if path.exists():
        return path.read_bytes(), True
    data = make()
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"make must return bytes, got {type(data).__name__}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.bin")
    tmp.write_bytes(bytes(data))
    os.replace(tmp, path)  # atomic: a concurrent reader sees no file or the whole one
    return bytes(data), False
