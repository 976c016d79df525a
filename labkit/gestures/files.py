"""Edge Impulse data acquisition JSON: writing, reading and checking the shipped files."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from labkit._io import cache_dir
from labkit.gestures.simulate import (
    _NAME,
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
    UNITS,
    Recording,
    _as_path,
    generate_recordings,
)


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
    return Path(__file__).resolve().parents[2] / "datasets" / "gestures"


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
