"""Every TFLite conversion of the course in one place, without the converter's noise.

Each function returns the bytes of a ``.tflite`` model (run and measure them with
:mod:`labkit.runtime`); TensorFlow is imported on first call.

- :func:`convert_float32`: float32 weights and activations, the baseline (notebooks 02, 03);
- :func:`convert_dynamic_range`: int8 weights, float32 activations quantized on the fly (02);
- :func:`convert_float16`: float16 weights, float32 arithmetic on a CPU (02);
- :func:`convert_int8`: full integer, int8 input and output, calibrated on ``x_calib`` (02, 03);
- :func:`convert_qat`: full integer from a quantization-aware-trained model (02);
- :func:`convert_pruned`: a pruned or clustered model after :func:`strip_wrappers`, in any
  variant (03);
- :func:`convert_sparse_encoding`: float32 with sparse weights stored as non-zeros plus
  indices (03).

:func:`convert` picks a post-training variant by name (:data:`VARIANTS`). Float32, dynamic
range and float16 also convert a SavedModel directory (``TFLiteConverter.from_saved_model``).

Example
-------
>>> VARIANTS
('float32', 'dynamic_range', 'float16', 'int8')
>>> convert(None, "int4")
Traceback (most recent call last):
...
ValueError: variant must be one of 'float32', 'dynamic_range', 'float16', 'int8', got 'int4'
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from labkit.validate import check_keras_model

VARIANTS = ("float32", "dynamic_range", "float16", "int8")

# tfmot's wrappers that strip_wrappers removes (QAT's QuantizeWrapper must stay for convert_qat)
_PRUNING_WRAPPER = "PruneLowMagnitude"
_CLUSTERING_WRAPPERS = ("ClusterWeights", "ClusterWeightsRNN", "ClusterWeightsMHA")


# --------------------------------------------------------------------------------------
# Checks and the converter itself
# --------------------------------------------------------------------------------------

def _check_keras_model(model: Any) -> None:
    check_keras_model(model)
    if not model.built:
        raise ValueError("the model is not built; train it or call model.build(input_shape)")


def _check_calibration(model: Any, x_calib: Any) -> np.ndarray:
    x = np.asarray(x_calib, dtype=np.float32)
    expected = tuple(model.input_shape[1:])
    if x.ndim != len(expected) + 1 or any(e is not None and e != s
                                          for e, s in zip(expected, x.shape[1:])):
        raise ValueError(f"x_calib must have shape (n, {', '.join(map(str, expected))}) like "
                         f"the model's input, got {x.shape}")
    if len(x) == 0:
        raise ValueError("x_calib is empty; pass a few hundred training samples")
    return x


def _converter(model: Any, *, saved_model: bool = False) -> Any:
    """A ``TFLiteConverter`` for a tf_keras model (or a SavedModel directory if allowed)."""
    from labkit._tf import load

    tf, _ = load()
    if saved_model and isinstance(model, (str, os.PathLike)):
        folder = Path(model)
        if not (folder / "saved_model.pb").is_file():
            raise ValueError(f"model {str(model)!r} is not a SavedModel directory (it has no "
                             "saved_model.pb); save one with tf.saved_model.save(model, path)")
        return tf.lite.TFLiteConverter.from_saved_model(str(folder))
    if saved_model and not isinstance(model, tf.keras.Model):
        raise TypeError(f"model must be a tf_keras Model or the path of a SavedModel directory, "
                        f"got {type(model).__name__}")
    _check_keras_model(model)
    return tf.lite.TFLiteConverter.from_keras_model(model)


def _run(converter: Any) -> bytes:
    """``converter.convert()`` with TensorFlow's C++ and Python chatter silenced."""
    from labkit._tf import quiet_native_stderr

    with quiet_native_stderr(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bytes(converter.convert())


# --------------------------------------------------------------------------------------
# Post-training variants
# --------------------------------------------------------------------------------------

def convert_float32(model: Any) -> bytes:
    """A float32 ``.tflite`` model: the baseline, no quantization.

    ``model`` is a tf_keras model or the path of a SavedModel directory.
    """
    return _run(_converter(model, saved_model=True))


def convert_dynamic_range(model: Any) -> bytes:
    """Dynamic-range quantization: int8 weights, float32 activations, no calibration data.

    Kernels that support it quantize activations on the fly at run time. ``model`` is a
    tf_keras model or the path of a SavedModel directory.
    """
    from labkit._tf import load

    tf, _ = load()
    converter = _converter(model, saved_model=True)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    return _run(converter)


def convert_float16(model: Any) -> bytes:
    """float16 weights (half the size), dequantized to float32 when the model runs on a CPU.

    ``model`` is a tf_keras model or the path of a SavedModel directory.
    """
    from labkit._tf import load

    tf, _ = load()
    converter = _converter(model, saved_model=True)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_types = [tf.float16]
    return _run(converter)


def convert_int8(model: Any, x_calib: Any) -> bytes:
    """Full-integer quantization: int8 weights, activations, input and output.

    Parameters
    ----------
    model : tf_keras.Model
        A trained float model.
    x_calib : array_like, shape ``(n, *model.input_shape[1:])``
        The representative dataset: every sample is run once through the float model to
        record activation ranges (a few hundred training samples are enough).

    Returns
    -------
    bytes
        The ``.tflite`` model. Its input takes int8 values (quantize with the input's scale
        and zero point — :func:`labkit.runtime.predict` does it for you).

    Raises
    ------
    TypeError
        If ``model`` is not a tf_keras model.
    ValueError
        If ``model`` is not built, or ``x_calib`` is empty or does not match the model's
        input shape.
    """
    from labkit._tf import load

    tf, _ = load()
    _check_keras_model(model)
    x = _check_calibration(model, x_calib)
    converter = _converter(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([sample[None]] for sample in x)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return _run(converter)


def _check_variant(variant: Any) -> None:
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(map(repr, VARIANTS))}, "
                         f"got {variant!r}")


def convert(model: Any, variant: str = "float32", *, x_calib: Any = None) -> bytes:
    """Convert ``model`` to one post-training variant: ``"float32"``, ``"dynamic_range"``,
    ``"float16"`` or ``"int8"`` (which needs ``x_calib``, see :func:`convert_int8`).

    Raises
    ------
    ValueError
        If ``variant`` is unknown, or ``"int8"`` comes without ``x_calib``.

    Example
    -------
    >>> convert(None, "int8")
    Traceback (most recent call last):
    ...
    ValueError: the int8 variant needs x_calib, a few hundred training samples for calibration
    """
    _check_variant(variant)
    if variant == "int8":
        if x_calib is None:
            raise ValueError("the int8 variant needs x_calib, a few hundred training samples "
                             "for calibration")
        return convert_int8(model, x_calib)
    return {"float32": convert_float32, "dynamic_range": convert_dynamic_range,
            "float16": convert_float16}[variant](model)


# --------------------------------------------------------------------------------------
# Models trained with tfmot: quantization-aware, pruned, clustered
# --------------------------------------------------------------------------------------

def convert_qat(qat_model: Any) -> bytes:
    """Convert a quantization-aware model (tfmot ``quantize_model``, e.g. from
    :func:`labkit.quantization.quantize_aware_train`) to an int8 ``.tflite`` model with int8
    input and output. No representative dataset: QAT learned the ranges."""
    from labkit._tf import load

    tf, _ = load()
    converter = _converter(qat_model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return _run(converter)


def strip_wrappers(model: Any) -> Any:
    """A copy of ``model`` without tfmot's pruning and clustering wrappers
    (``strip_pruning``, ``strip_clustering``): plain layers holding the zeros or the shared
    centroids, ready to convert. A model with no such wrapper among its layers is returned
    as it is (not copied); quantization-aware wrappers stay (:func:`convert_qat` needs them).
    """
    _check_keras_model(model)
    kinds = {type(layer).__name__ for layer in model.layers}
    if _PRUNING_WRAPPER not in kinds and kinds.isdisjoint(_CLUSTERING_WRAPPERS):
        return model
    from labkit._tf import load_tfmot

    tfmot = load_tfmot()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if _PRUNING_WRAPPER in kinds:
            model = tfmot.sparsity.keras.strip_pruning(model)
        if not kinds.isdisjoint(_CLUSTERING_WRAPPERS):
            model = tfmot.clustering.keras.strip_clustering(model)
    return model


def convert_pruned(model: Any, variant: str = "float32", *, x_calib: Any = None) -> bytes:
    """Convert a pruned or clustered model, still wrapped by tfmot or already stripped:
    :func:`strip_wrappers`, then :func:`convert` to ``variant``.

    The zeros of pruning (and the few distinct values of clustering) do not make the file
    smaller by themselves; they make it compress well (``gzipped_size_bytes``) or, with
    :func:`convert_sparse_encoding`, store fewer values.
    """
    _check_variant(variant)
    return convert(strip_wrappers(model), variant, x_calib=x_calib)


def convert_sparse_encoding(model: Any) -> bytes:
    """A float32 ``.tflite`` model whose sparse weights are stored in a sparse format.

    Uses the converter's ``tf.lite.Optimize.EXPERIMENTAL_SPARSITY``: weight tensors with
    enough zeros are stored as their non-zero values plus index arrays, and a ``DENSIFY``
    op rebuilds the dense tensor when the interpreter prepares the model. The file shrinks
    without gzip; the kernels that run are the same dense ones. tfmot's pruning wrappers
    are stripped first.
    """
    from labkit._tf import load

    tf, _ = load()
    converter = _converter(strip_wrappers(model))
    converter.optimizations = [tf.lite.Optimize.EXPERIMENTAL_SPARSITY]
    return _run(converter)


__all__ = [
    "VARIANTS", "convert", "convert_dynamic_range", "convert_float16", "convert_float32",
    "convert_int8", "convert_pruned", "convert_qat", "convert_sparse_encoding", "strip_wrappers",
]
