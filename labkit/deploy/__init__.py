"""From sensor data to a microcontroller: features, models, memory, C source, streams (notebook 09).

The capstone's pipeline for the ``gestures`` dataset (:mod:`labkit.gestures`), one module per
step (all names are available from ``labkit.deploy``):

- :mod:`~labkit.deploy.features`: windows with a stride (:func:`sliding_windows`), new
  recordings of the dataset's people (:func:`fresh_recordings`), and features like Edge
  Impulse's *spectral analysis* block (:func:`spectral_features`, exercise
  ``09.spectral_features``);
- :mod:`~labkit.deploy.models`: a small 1-D CNN that removes gravity itself
  (:func:`build_gesture_cnn`, zoo recipe :data:`GESTURE_CNN`), a feature MLP, structured
  pruning (:func:`slim_gesture_cnn`) and the reference answer of the budget challenge
  (:func:`deployable_model`, exercise ``09.deployable``);
- :mod:`~labkit.deploy.memory`: the smallest TFLite Micro tensor arena, found by search
  (:func:`minimum_arena_bytes`, exercise ``09.minimum_arena_bytes``), flash, and the
  challenge's :data:`BUDGET`;
- :mod:`~labkit.deploy.export`: the model as a 16-byte-aligned C array (:func:`to_c_array`,
  exercise ``09.to_c_array``), read back, compiled by the host C++ compiler
  (:func:`compile_roundtrip`), and a TFLite Micro ``main.cc`` whose ``MicroMutableOpResolver``
  registers exactly the model's operators (:func:`micro_main_cc`);
- :mod:`~labkit.deploy.stream`: continuous inference with smoothing (:func:`stream_predictions`).

TensorFlow is imported only by the model functions, on first call.

Example
-------
>>> window = np.zeros((125, 3)); window[:, 2] = 9.81
>>> np.round(spectral_features(window, 4)[:6], 3)  # x: no gravity, no motion
array([0., 0., 0., 0., 0., 0.])
"""

from __future__ import annotations

import numpy as np  # noqa: F401  (the doctest above)

from labkit.deploy.export import (
    ALIGNMENT_BYTES,
    CArray,
    RoundTrip,
    c_header,
    compile_roundtrip,
    cxx_compiler,
    micro_main_cc,
    read_c_array,
    registered_ops,
    resolver_ops,
    to_c_array,
)
from labkit.deploy.features import (
    CLASSES,
    SAMPLE_RATE_HZ,
    feature_names,
    fresh_recordings,
    sliding_windows,
    spectral_features,
    spectral_features_batch,
    window_starts,
    windows_of,
)
from labkit.deploy.memory import (
    BUDGET,
    RUNTIME_FLASH_BYTES,
    Budget,
    arena_fits,
    flash_bytes,
    minimum_arena_bytes,
)
from labkit.deploy.models import (
    GESTURE_CNN,
    build_feature_mlp,
    build_gesture_cnn,
    deployable_model,
    slim_gesture_cnn,
)
from labkit.deploy.stream import Stream, smooth, stream_predictions

__all__ = [
    "ALIGNMENT_BYTES", "BUDGET", "Budget", "CArray", "CLASSES", "GESTURE_CNN",
    "RUNTIME_FLASH_BYTES", "RoundTrip", "SAMPLE_RATE_HZ", "Stream", "arena_fits",
    "build_feature_mlp", "build_gesture_cnn", "c_header", "compile_roundtrip", "cxx_compiler",
    "deployable_model", "feature_names", "flash_bytes", "fresh_recordings", "micro_main_cc",
    "minimum_arena_bytes", "read_c_array", "registered_ops", "resolver_ops", "sliding_windows",
    "slim_gesture_cnn", "smooth", "spectral_features", "spectral_features_batch",
    "stream_predictions", "to_c_array", "window_starts", "windows_of",
]
