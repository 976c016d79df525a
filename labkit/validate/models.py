"""Checks of models: a tf_keras model (without importing TensorFlow) and .tflite bytes."""

from __future__ import annotations

import os
import sys
from typing import Any

from labkit.validate.text import _given

# --------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------

def check_keras_model(model: Any, name: str = "model", *, built: bool = False) -> Any:
    """Return ``model`` after checking it is a tf_keras model (built, if ``built``).

    Does not import TensorFlow: a tf_keras model can only exist once ``tf_keras`` has been
    imported, so when it is not in ``sys.modules`` the value cannot be one.

    Raises
    ------
    TypeError
        If ``model`` is not a ``tf_keras.Model`` instance (a Keras 3 model, a class, a path).
    ValueError
        If ``built`` and the model has no weights yet.

    Example
    -------
    >>> check_keras_model("model.keras")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: model must be a tf_keras Model, got str 'model.keras'; load a saved model ...
    """
    keras = sys.modules.get("tf_keras")
    if keras is None or not isinstance(model, keras.Model):
        module = type(model).__module__ or ""
        if isinstance(model, type):
            fix = "pass a model instance, not a class"
        elif isinstance(model, (str, os.PathLike)):
            fix = "load a saved model with tf_keras.models.load_model(path)"
        elif module.split(".")[0] == "keras":
            fix = ("this is a Keras 3 model; labkit (and tfmot) use Keras 2: build it with "
                   "`import tf_keras as keras`")
        else:
            fix = "build one with labkit.models.build_course_cnn or tf_keras"
        raise TypeError(f"{name} must be a tf_keras Model, got {_given(model)}; {fix}")
    if built and not model.built:
        raise ValueError(f"{name} is not built; train it or call {name}.build(input_shape)")
    return model


def check_model_bytes(model_bytes: Any, name: str = "model_bytes") -> bytes:
    """Return the bytes of a ``.tflite`` model after checking its flatbuffer identifier.

    A ``.tflite`` file is a FlatBuffer whose file identifier ``TFL3`` sits at bytes 4-8.
    ``bytearray`` and ``memoryview`` are accepted and returned as ``bytes``.

    Raises
    ------
    TypeError
        If ``model_bytes`` is not bytes-like (a path is refused, with how to read it).
    ValueError
        If it does not carry the ``TFL3`` identifier.

    Example
    -------
    >>> check_model_bytes(b"\\x1c\\x00\\x00\\x00TFL3" + bytes(8))[4:8]
    b'TFL3'
    >>> check_model_bytes(b"PK\\x03\\x04 a zip file")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: model_bytes is not a .tflite flatbuffer (no 'TFL3' identifier at bytes 4-8); ...
    """
    if isinstance(model_bytes, (bytearray, memoryview)):
        model_bytes = bytes(model_bytes)
    if not isinstance(model_bytes, bytes):
        hint = ("; a file path? read it with Path(path).read_bytes()"
                if isinstance(model_bytes, (str, os.PathLike)) else "")
        raise TypeError(f"{name} must be the bytes of a .tflite model, got "
                        f"{type(model_bytes).__name__}{hint}")
    if len(model_bytes) < 8 or model_bytes[4:8] != b"TFL3":
        raise ValueError(f"{name} is not a .tflite flatbuffer (no 'TFL3' identifier at "
                         "bytes 4-8); pass what TFLiteConverter.convert() returned")
    return model_bytes
