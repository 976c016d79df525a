"""The one place where labkit imports TensorFlow.

TensorFlow takes seconds to import and prints start-up noise, so labkit imports it only
on first use. Every other module does ``from labkit._tf import tf, keras`` *inside* the
function that needs it, or calls :func:`load`.

Before the import this module sets:

- ``TF_USE_LEGACY_KERAS=1``: ``tf.keras`` is Keras 2 (the ``tf_keras`` package), which
  tensorflow-model-optimization needs; Keras 3 is not supported by tfmot 0.8.
- ``TF_CPP_MIN_LOG_LEVEL=3`` and ``TF_ENABLE_ONEDNN_OPTS=0``: quiet logs and repeatable
  CPU results.

and it silences what TensorFlow's C++ start-up code writes straight to file descriptor 2
(the CUDA / absl lines), which Python's warning filters cannot catch.

Example
-------
>>> from labkit._tf import load
>>> tf, keras = load()
>>> keras.__name__
'tf_keras'
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from types import ModuleType

_ENV = {
    "TF_USE_LEGACY_KERAS": "1",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "GRPC_VERBOSITY": "ERROR",
    "ABSL_MIN_LOG_LEVEL": "3",
}


@contextlib.contextmanager
def quiet_native_stderr():
    """Send file descriptor 2 to /dev/null for the duration (TensorFlow's C++ chatter)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real fd 2 (some embedded interpreters)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def load() -> tuple[ModuleType, ModuleType]:
    """Import TensorFlow and tf_keras quietly (once) and return ``(tf, keras)``."""
    if "tensorflow" in sys.modules and "tf_keras" in sys.modules:
        return sys.modules["tensorflow"], sys.modules["tf_keras"]
    for key, value in _ENV.items():
        os.environ.setdefault(key, value)
    if os.environ["TF_USE_LEGACY_KERAS"] != "1":
        raise RuntimeError(
            "TF_USE_LEGACY_KERAS is set to "
            f"{os.environ['TF_USE_LEGACY_KERAS']!r}; labkit needs Keras 2 (tf_keras) "
            "because tensorflow-model-optimization does not support Keras 3. "
            "Unset it or set TF_USE_LEGACY_KERAS=1 before anything imports TensorFlow."
        )
    with quiet_native_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import tensorflow as tf
        import tf_keras as keras

        tf.get_logger().setLevel("ERROR")
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    return tf, keras


def load_tfmot() -> ModuleType:
    """Import tensorflow-model-optimization quietly (after TensorFlow) and return it."""
    load()
    with quiet_native_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import tensorflow_model_optimization as tfmot
    return tfmot


def __getattr__(name: str) -> ModuleType:
    """``from labkit._tf import tf, keras`` imports TensorFlow on first access."""
    if name == "tf":
        return load()[0]
    if name == "keras":
        return load()[1]
    raise AttributeError(f"module 'labkit._tf' has no attribute {name!r}")
