"""The physics of the simulated recordings: people, motions, gravity, noise."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from labkit.validate import check_int, check_real

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
