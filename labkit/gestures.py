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

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from labkit._io import cache_dir
from labkit.validate import check_int, check_real, check_split, split_counts

CLASSES = ("idle", "wave", "circle", "updown")
SAMPLE_RATE_HZ = 62.5
INTERVAL_MS = 16  # 1000 ms / 62.5 Hz, exactly
DURATION_S = 10.0
N_SAMPLES = 625  # DURATION_S * SAMPLE_RATE_HZ
SENSORS = ("accX", "accY", "accZ")
UNITS = "m/s2"  # spelled as in Edge Impulse's data acquisition format specification
STANDARD_GRAVITY = 9.80665  # m/s2, the conventional value (3rd CGPM, 1901)
DEFAULT_SEED = 2026
DEVICE_TYPE = "LABKIT_SIMULATOR"
ISSUED_AT = 1767225600  # "iat": 2026-01-01T00:00:00Z, fixed so the files are reproducible
# dataset_sha256() of the default set (python -m labkit.gestures prints it after a rebuild)
GESTURES_SHA256 = "40fb5b9c7e7c50e1e1c3c903b2ad839309b68051a0049e06236f230880235a03"
_NAME = re.compile(r"^(?P<label>[a-z]+)\.(?P<rec_id>s(?P<subject>\d{2})r\d{2})\.json$")


@dataclass(frozen=True, eq=False)
class Recording:
    """One recording: ``values`` is read-only float32 (625, 3), accX/accY/accZ in m/s2.

    ``rec_id`` is ``"s<subject>r<repetition>"``; :attr:`name` (e.g. ``"wave.s03r02"``) is
    the file name without ``.json`` and identifies the recording.

    Example
    -------
    >>> rec = generate_recordings(per_class=1, subjects=1)[1]
    >>> rec.name, rec.values.shape, rec.values.dtype
    ('wave.s01r01', (625, 3), dtype('float32'))
    """

    label: str
    subject: int
    rec_id: str
    values: np.ndarray

    def __post_init__(self) -> None:
        if self.label not in CLASSES:
            raise ValueError(f"label must be one of {CLASSES}, got {self.label!r}")
        values = np.array(self.values, dtype=np.float32)  # a private copy, then frozen
        if values.shape != (N_SAMPLES, 3):
            raise ValueError(f"values must have shape ({N_SAMPLES}, 3), got {values.shape}")
        values.setflags(write=False)
        object.__setattr__(self, "values", values)

    @property
    def name(self) -> str:
        """``"<label>.<rec_id>"``, the file name without ``.json``."""
        return f"{self.label}.{self.rec_id}"

    def __repr__(self) -> str:
        mean = ", ".join(f"{m:.2f}" for m in self.values.mean(axis=0))
        return (f"Recording(label={self.label!r}, subject={self.subject}, rec_id="
                f"{self.rec_id!r}, values=<float32 {N_SAMPLES}x3, mean [{mean}] m/s2>)")


@dataclass(frozen=True)
class _Person:
    """What stays the same across one simulated person's recordings."""

    rotation: np.ndarray  # 3x3, device frame -> world frame: how they hold the device
    amplitude: float  # scales all their gestures
    tempo_hz: dict  # their preferred rhythm per gesture
    harmonics: np.ndarray  # wave: 2nd and 3rd harmonic, relative to the fundamental
    facing: np.ndarray  # horizontal unit vector: the vertical plane they draw circles in
    clockwise: float  # +1 or -1
    bias: np.ndarray  # per-axis zero-g offset of their device, m/s2
    noise: float  # white-noise std of their device, m/s2
    tremor: float  # physiological tremor amplitude, m/s2


# ---------------------------------------------------------------- simulation (pure numpy)
def _random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A uniformly random 3x3 rotation matrix, from a random unit quaternion."""
    q = rng.standard_normal(4)
    w, x, y, z = q / np.sqrt(np.sum(q * q))
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def _rotate(v: np.ndarray, rotvec: np.ndarray) -> np.ndarray:
    """Rotate vectors ``v`` (n, 3) by rotation vectors ``rotvec`` (n, 3) (Rodrigues)."""
    angle = np.sqrt(np.sum(rotvec * rotvec, axis=-1, keepdims=True))
    k = rotvec / np.where(angle > 0, angle, 1.0)
    cos, sin = np.cos(angle), np.sin(angle)
    return v * cos + np.cross(k, v) * sin + k * np.sum(k * v, axis=-1, keepdims=True) * (1 - cos)


def _unit(rng: np.random.Generator) -> np.ndarray:
    v = rng.standard_normal(3)
    return v / np.sqrt(np.sum(v * v))


def _tilted(axis: list[float], max_deg: float, rng: np.random.Generator) -> np.ndarray:
    """Unit vector ``axis`` tilted by up to ``max_deg`` degrees in a random direction."""
    side = np.cross(axis, _unit(rng))
    side *= np.radians(rng.uniform(0, max_deg)) / np.sqrt(np.sum(side * side))
    return _rotate(np.array([axis], dtype=float), side[None])[0]


def _person(seed: int, subject: int) -> _Person:
    rng = np.random.default_rng([seed, 0, subject])
    azimuth = rng.uniform(0, 2 * np.pi)
    return _Person(
        rotation=_random_rotation(rng), amplitude=rng.uniform(0.75, 1.3),
        tempo_hz={"wave": rng.uniform(1.5, 3.0), "circle": rng.uniform(0.8, 1.5),
                  "updown": rng.uniform(1.0, 2.0)},
        harmonics=rng.uniform([0.1, 0.05], [0.35, 0.2]),
        facing=np.array([np.cos(azimuth), np.sin(azimuth), 0.0]),
        clockwise=1.0 if rng.uniform() < 0.5 else -1.0, bias=rng.normal(0, 0.2, 3),
        noise=rng.uniform(0.03, 0.1), tremor=rng.uniform(0.03, 0.12))


def _phase(t: np.ndarray, hz: float, rng: np.random.Generator) -> np.ndarray:
    """Phase (rad) of a rhythm near ``hz`` whose tempo wanders slowly by 2-6 %."""
    wander_hz = rng.uniform(0.1, 0.3)
    depth = rng.uniform(0.02, 0.06) * hz / wander_hz
    return (2 * np.pi * hz * t + depth * np.sin(2 * np.pi * wander_hz * t + rng.uniform(0, 6.3))
            + rng.uniform(0, 2 * np.pi))


def _envelope(t: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Gesture strength over time: an onset ramp, a slow swell, sometimes a short pause."""
    onset = np.clip(t / rng.uniform(0.2, 0.8), 0, 1)
    swell = 1 + rng.uniform(0.05, 0.2) * np.sin(2 * np.pi * rng.uniform(0.05, 0.2) * t
                                                + rng.uniform(0, 2 * np.pi))
    pause_at, pause_s, depth = rng.uniform(2, 9), rng.uniform(0.3, 0.8), rng.uniform(-0.5, 0.9)
    return onset * swell * (1 - max(depth, 0) * np.exp(-0.5 * ((t - pause_at) / pause_s) ** 4))


def _motion(label: str, p: _Person, t: np.ndarray, rng: np.random.Generator):
    """Linear acceleration in the world frame and in the device frame (m/s2), and the
    device's rotation (rotation vectors in rad, device frame), each (n, 3)."""
    a_world, a_device, turn = np.zeros((3, t.size, 3))
    if label == "idle":  # physiological tremor (8-12 Hz) and a few small fidgets
        tremor = p.tremor * np.sin(2 * np.pi * rng.uniform(8, 12) * t + rng.uniform(0, 6.3))
        a_world += tremor[:, None] * _unit(rng)
        for _ in range(int(rng.uniform(0, 4))):
            bump = np.exp(-0.5 * ((t - rng.uniform(0, 10)) / rng.uniform(0.1, 0.4)) ** 2)
            wiggle = np.sin(2 * np.pi * rng.uniform(0.8, 3) * t + rng.uniform(0, 6.3))
            a_world += (rng.uniform(0.3, 2.0) * bump * wiggle)[:, None] * _unit(rng)
        return a_world, a_device, turn
    hz = p.tempo_hz[label] * rng.uniform(0.93, 1.07)
    phase, env = _phase(t, hz, rng), _envelope(t, rng)
    size = p.amplitude * rng.uniform(0.8, 1.2) * env
    if label == "wave":  # side to side along device x, the forearm swinging about device z
        h2, h3 = p.harmonics
        swing = np.sin(phase) + h2 * np.sin(2 * phase + 0.7) + h3 * np.sin(3 * phase + 1.3)
        a_device += -5.0 * (size * swing)[:, None] * _tilted([1, 0, 0], 20, rng)
        turn[:, 2] = np.radians(rng.uniform(10, 30)) * env * np.sin(phase)
    elif label == "circle":  # two axes in quadrature in a vertical plane, often an ellipse
        flat = p.clockwise * rng.uniform(0.35, 1.0)
        a_world += -3.5 * size[:, None] * (np.cos(phase)[:, None] * p.facing
                                           + (flat * np.sin(phase))[:, None] * [0, 0, 1])
    else:  # updown: vertical oscillation, rarely quite vertical
        bob = np.sin(phase) + 0.1 * np.sin(2 * phase + 0.4)
        a_world += -4.0 * (size * bob)[:, None] * _tilted([0, 0, 1], 25, rng)
    return a_world, a_device, turn


def _simulate(label: str, p: _Person, rng: np.random.Generator) -> np.ndarray:
    """Accelerometer readings (625, 3) in m/s2, rounded to 3 decimals (1 mm/s2)."""
    t = np.arange(N_SAMPLES) / SAMPLE_RATE_HZ
    a_world, a_device, turn = _motion(label, p, t, rng)
    force = a_world + [0.0, 0.0, STANDARD_GRAVITY]  # specific force: what the sensor feels
    r = p.rotation  # device = R^T world, written out (no BLAS) so it is bit-reproducible
    device = force[:, :1] * r[0] + force[:, 1:2] * r[1] + force[:, 2:] * r[2]
    wobble = np.radians(rng.uniform(1, 4, 3)) * np.sin(  # slow drift of the grip, 1-4 deg
        2 * np.pi * rng.uniform(0.05, 0.4, 3) * t[:, None] + rng.uniform(0, 6.3, 3))
    jitter = np.radians(rng.uniform(2, 10)) * _unit(rng)  # how this recording was held
    device = _rotate(device, -(turn + wobble + jitter)) + a_device
    drift = np.cumsum(rng.normal(0, 0.003, (N_SAMPLES, 3)), axis=0)  # bias random walk
    device += p.bias + drift + p.noise * rng.standard_normal((N_SAMPLES, 3))
    return np.round(np.clip(device, -4 * STANDARD_GRAVITY, 4 * STANDARD_GRAVITY), 3) + 0.0


# ---------------------------------------------------------------- input checks
def _check_seconds(name: str, value: object) -> float:
    return check_real(value, name, low=0, high=DURATION_S, include="high",
                      what="a number of seconds", unit="s",
                      hint=f"a recording lasts {DURATION_S:g} s")


def _as_path(name: str, value: object) -> Path:
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a str or pathlib.Path, got {type(value).__name__}")
    return Path(value).expanduser()


# ---------------------------------------------------------------- generate and write
def generate_recordings(seed: int = DEFAULT_SEED, *, per_class: int = 40,
                        subjects: int = 8) -> list[Recording]:
    """Simulate the recordings in memory.

    Recording ``k`` of a class is repetition ``k // subjects + 1`` of person
    ``k % subjects + 1``. Each person and each recording draws from its own random stream,
    so a smaller set is a subset of a larger one with the same seed.

    Parameters
    ----------
    seed : int, default DEFAULT_SEED
        Non-negative; the same seed gives the same values, bit for bit.
    per_class : int, default 40
        Recordings per class, 1 to ``99 * subjects``.
    subjects : int, default 8
        Number of simulated people, 1 to 99.

    Returns
    -------
    list of Recording
        In the order repetition, person, class.

    Raises
    ------
    TypeError, ValueError
        If an argument is not an int in its range.

    Example
    -------
    >>> [r.name for r in generate_recordings(per_class=2, subjects=2)][:3]
    ['idle.s01r01', 'wave.s01r01', 'circle.s01r01']
    """
    seed = check_int(seed, "seed", low=0)
    subjects = check_int(subjects, "subjects", low=1, high=99)
    per_class = check_int(per_class, "per_class", low=1, high=99 * subjects)
    people = [_person(seed, s) for s in range(1, subjects + 1)]
    recordings = []
    for k in range(per_class):
        subject, rep = k % subjects + 1, k // subjects + 1
        for c, label in enumerate(CLASSES):
            values = _simulate(label, people[subject - 1],
                               np.random.default_rng([seed, 1 + c, subject, rep]))
            recordings.append(Recording(label, subject, f"s{subject:02d}r{rep:02d}", values))
    return recordings


def _to_json_bytes(rec: Recording) -> bytes:
    """Data acquisition JSON with a fixed layout: the same recording gives the same bytes."""
    sensors = [{"name": name, "units": UNITS} for name in SENSORS]
    rows = ",\n".join("[" + ",".join(f"{v:.3f}" for v in row) + "]"
                      for row in np.round(rec.values.astype(np.float64), 3) + 0.0)
    return ("{\n"
            f'  "protected": {json.dumps({"ver": "v1", "alg": "none", "iat": ISSUED_AT})},\n'
            f'  "signature": "{"0" * 64}",\n'
            '  "payload": {\n'
            f'    "device_name": "labkit-sim-s{rec.subject:02d}",\n'
            f'    "device_type": "{DEVICE_TYPE}",\n'
            f'    "interval_ms": {INTERVAL_MS},\n'
            f'    "sensors": {json.dumps(sensors)},\n'
            f'    "values": [\n{rows}\n    ]\n  }}\n}}\n').encode("ascii")


def write_dataset(folder: str | os.PathLike, *, seed: int = DEFAULT_SEED, per_class: int = 40,
                  subjects: int = 8, overwrite: bool = False) -> list[Path]:
    """Write the recordings into ``folder`` as ``<label>.<rec_id>.json`` files.

    Files that already hold the same bytes are left alone; other files in ``folder`` are
    never touched. If any file differs, nothing is written unless ``overwrite=True``.

    Parameters
    ----------
    folder : str or Path
        Created if missing.
    seed, per_class, subjects : int
        As in :func:`generate_recordings`.
    overwrite : bool, default False
        Replace files whose content differs.

    Returns
    -------
    list of Path
        The dataset's files, sorted.

    Raises
    ------
    FileExistsError
        If a file differs and ``overwrite`` is False.

    Example
    -------
    >>> import tempfile
    >>> [p.name for p in write_dataset(tempfile.mkdtemp(), per_class=1, subjects=1)][:2]
    ['circle.s01r01.json', 'idle.s01r01.json']
    """
    folder = _as_path("folder", folder)
    files = {folder / f"{r.name}.json": _to_json_bytes(r)
             for r in generate_recordings(seed, per_class=per_class, subjects=subjects)}
    changed = [p for p, data in files.items() if not p.exists() or p.read_bytes() != data]
    clashes = [p.name for p in changed if p.exists()]
    if clashes and not overwrite:
        raise FileExistsError(f"{len(clashes)} file(s) in {folder} differ from the generated "
                              f"data (e.g. {clashes[0]}); pass overwrite=True to replace them, "
                              "or write into another folder")
    folder.mkdir(parents=True, exist_ok=True)
    for path in changed:
        path.write_bytes(files[path])
    return sorted(files)


# ---------------------------------------------------------------- read and check
def _payload(doc: object, path: Path) -> dict:
    if not isinstance(doc, dict) or not {"protected", "signature", "payload"} <= doc.keys():
        raise ValueError(f"{path.name}: not Edge Impulse data acquisition JSON: expected an "
                         "object with keys 'protected', 'signature' and 'payload'")
    if not isinstance(doc["protected"], dict) or doc["protected"].get("ver") != "v1":
        raise ValueError(f"{path.name}: 'protected' must be an object with \"ver\": \"v1\"")
    payload = doc["payload"] if isinstance(doc["payload"], dict) else {}
    missing = sorted({"interval_ms", "sensors", "values"} - payload.keys())
    if missing:
        raise ValueError(f"{path.name}: 'payload' must be an object with {missing}")
    return payload


def _values(payload: dict, path: Path) -> np.ndarray:
    expected = [{"name": name, "units": UNITS} for name in SENSORS]
    if payload["interval_ms"] != INTERVAL_MS:
        raise ValueError(f"{path.name}: interval_ms is {payload['interval_ms']!r}, expected "
                         f"{INTERVAL_MS} ({SAMPLE_RATE_HZ} Hz)")
    if payload["sensors"] != expected:
        raise ValueError(f"{path.name}: sensors are {payload['sensors']}, expected {expected}")
    try:
        values = np.asarray(payload["values"], dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{path.name}: 'values' must be [x, y, z] number triples") from None
    if values.shape != (N_SAMPLES, 3) or not np.isfinite(values).all():
        raise ValueError(f"{path.name}: 'values' must be {N_SAMPLES} rows of 3 finite numbers "
                         f"({DURATION_S:g} s at {SAMPLE_RATE_HZ} Hz), got shape {values.shape}")
    return values


def read_recording(path: str | os.PathLike) -> Recording:
    """Read and check one data acquisition file named ``<label>.s<NN>r<NN>.json``.

    Raises
    ------
    ValueError
        If the name, the JSON structure, the units, the interval or the shape is wrong.

    Example
    -------
    >>> rec = read_recording(dataset_dir() / "wave.s03r02.json")
    >>> rec.label, rec.subject, rec.values.shape
    ('wave', 3, (625, 3))
    """
    path = _as_path("path", path)
    match = _NAME.match(path.name)
    if match is None or match["label"] not in CLASSES:
        raise ValueError(f"{path.name}: expected a name like 'wave.s03r02.json': "
                         f"'<label>.s<NN>r<NN>.json' with label in {CLASSES}")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path.name}: not valid JSON ({err})") from None
    values = _values(_payload(doc, path), path)
    return Recording(match["label"], int(match["subject"]), match["rec_id"], values)


# ---------------------------------------------------------------- where the files are
def _expected_names() -> list[str]:
    """File names of the default set (40 per class, 8 people), sorted."""
    return sorted(f"{c}.s{k % 8 + 1:02d}r{k // 8 + 1:02d}.json" for c in CLASSES for k in range(40))


def _repo_dataset_dir() -> Path:
    return Path(__file__).resolve().parents[1] / "datasets" / "gestures"


def _cache_dir() -> Path:
    return cache_dir() / "gestures"


def _complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in _expected_names())


def dataset_sha256(folder: str | os.PathLike) -> str:
    """SHA-256 (hex) over the default set's file names and bytes, in sorted order.

    Example
    -------
    >>> dataset_sha256(dataset_dir()) == GESTURES_SHA256
    True
    """
    folder, digest = _as_path("folder", folder), hashlib.sha256()
    for name in _expected_names():
        digest.update(name.encode("ascii") + b"\0" + (folder / name).read_bytes())
    return digest.hexdigest()


def dataset_dir() -> Path:
    """The folder with the default gestures files, generated on first use if needed.

    The repository's ``datasets/gestures`` when it is complete (a clone or an editable
    install); otherwise the files are generated into ``$LABKIT_CACHE/gestures`` (default
    ``~/.cache/labkit/gestures``) and checked against :data:`GESTURES_SHA256`. No network.

    Raises
    ------
    RuntimeError
        If the generated files do not match :data:`GESTURES_SHA256`.

    Example
    -------
    >>> len(list(dataset_dir().glob("*.json")))
    160
    """
    if _complete(_repo_dataset_dir()):
        return _repo_dataset_dir()
    cache = _cache_dir()
    if not _complete(cache) or dataset_sha256(cache) != GESTURES_SHA256:
        write_dataset(cache, overwrite=True)  # labkit's own cache folder
    digest = dataset_sha256(cache)
    if digest != GESTURES_SHA256:
        raise RuntimeError(f"the gestures files generated in {cache} have SHA-256 {digest}, "
                           f"expected {GESTURES_SHA256}: this numpy does not reproduce them; "
                           "copy datasets/gestures from the course repository instead")
    return cache


# ---------------------------------------------------------------- windows and splits
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
def _differences(folder: Path) -> list[str]:
    """How ``folder`` differs from a fresh default build; empty when identical."""
    fresh = {f"{r.name}.json": _to_json_bytes(r) for r in generate_recordings()}
    present = {p.name for p in folder.glob("*.json")}
    return ([f"missing: {n}" for n in sorted(fresh.keys() - present)]
            + [f"unexpected: {n}" for n in sorted(present - fresh.keys())]
            + [f"differs: {n}" for n in sorted(present & fresh.keys())
               if (folder / n).read_bytes() != fresh[n]])


def rebuild(folder: str | os.PathLike | None = None, *, check: bool = False) -> bool:
    """Regenerate the default set into ``folder``, or with ``check=True`` compare only.

    ``folder`` defaults to the repository's ``datasets/gestures``. Returns True when the
    files were written, or when every file is byte-for-byte identical to a fresh build;
    False when one is missing, unexpected or different.

    Example
    -------
    >>> rebuild(check=True)
    True
    """
    folder = _repo_dataset_dir() if folder is None else _as_path("folder", folder)
    if check:
        return not _differences(folder)
    write_dataset(folder, overwrite=True)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m labkit.gestures [--check] [--folder F]``; returns the exit code."""
    parser = argparse.ArgumentParser("python -m labkit.gestures", description=(
        "Regenerate the gestures dataset, or check the files against a fresh build."))
    parser.add_argument("--folder", type=Path, default=_repo_dataset_dir())
    parser.add_argument("--check", action="store_true", help="compare only, write nothing")
    args = parser.parse_args(argv)
    if args.check:
        problems = _differences(args.folder)
        print("\n".join(problems) or f"{args.folder}: identical to a fresh build")
        return 1 if problems else 0
    rebuild(args.folder)
    print(f"wrote {args.folder}, SHA-256 {dataset_sha256(args.folder)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
