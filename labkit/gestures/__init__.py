"""The offline ``gestures`` dataset: simulated 3-axis accelerometer recordings of hand motion.

Four classes (:data:`CLASSES`), 10-second recordings at 62.5 Hz from 8 simulated people,
shipped in ``datasets/gestures/`` as Edge Impulse data acquisition JSON, so the same files
train a model here (notebook 00 shows them, notebook 09 deploys a model) and upload to Edge
Impulse Studio as they are. ``datasets/gestures/README.md`` describes the physics model. Pure numpy and the
standard library (no TensorFlow). Rebuild or check the files: ``python -m labkit.gestures
[--check]``.

Example
-------
>>> data = load_windows(window_s=2.0, stride_s=1.0)
>>> data["x_train"].shape[1:], data["classes"]
((125, 3), ('idle', 'wave', 'circle', 'updown'))
"""

from labkit.gestures.files import dataset_dir, dataset_sha256, read_recording, write_dataset
from labkit.gestures.rebuild import main, rebuild
from labkit.gestures.simulate import (
    CLASSES,
    DEFAULT_SEED,
    DEVICE_TYPE,
    DURATION_S,
    GESTURES_SHA256,
    INTERVAL_MS,
    ISSUED_AT,
    N_SAMPLES,
    SAMPLE_RATE_HZ,
    SENSORS,
    STANDARD_GRAVITY,
    UNITS,
    Recording,
    generate_recordings,
)
from labkit.gestures.windows import load_windows

__all__ = [
    "CLASSES",
    "DEFAULT_SEED",
    "DEVICE_TYPE",
    "DURATION_S",
    "GESTURES_SHA256",
    "INTERVAL_MS",
    "ISSUED_AT",
    "N_SAMPLES",
    "Recording",
    "SAMPLE_RATE_HZ",
    "SENSORS",
    "STANDARD_GRAVITY",
    "UNITS",
    "dataset_dir",
    "dataset_sha256",
    "generate_recordings",
    "load_windows",
    "main",
    "read_recording",
    "rebuild",
    "write_dataset",
]
