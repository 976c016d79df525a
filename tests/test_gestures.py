"""Tests of labkit.gestures: the shipped files, their format, the loader and its checks."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys

import numpy as np
import pytest

from labkit import gestures
from labkit.gestures import CLASSES, N_SAMPLES
from labkit.gestures.files import _repo_dataset_dir

SHIPPED = _repo_dataset_dir()


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Every test here must work offline: opening a socket fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("labkit.gestures tried to use the network")

    monkeypatch.setattr(socket, "socket", refuse)


@pytest.fixture(scope="module")
def data():
    return gestures.load_windows()


def _json_files(folder):
    return sorted(folder.glob("*.json"))


# ---------------------------------------------------------------- the shipped files
def test_rebuild_reproduces_the_shipped_files_byte_for_byte(tmp_path):
    written = gestures.write_dataset(tmp_path)
    shipped = _json_files(SHIPPED)
    assert [p.name for p in written] == [p.name for p in shipped]
    changed = [p.name for p in shipped if p.read_bytes() != (tmp_path / p.name).read_bytes()]
    assert not changed, f"{len(changed)} shipped file(s) differ from a rebuild, e.g. {changed[0]}"
    assert gestures.rebuild(check=True) is True
    assert gestures.dataset_sha256(SHIPPED) == gestures.GESTURES_SHA256
    assert gestures.dataset_sha256(tmp_path) == gestures.GESTURES_SHA256


def test_shipped_files_are_valid_data_acquisition_json():
    for path in _json_files(SHIPPED):
        doc = json.loads(path.read_bytes())
        assert list(doc) == ["protected", "signature", "payload"], path.name
        assert doc["protected"] == {"ver": "v1", "alg": "none", "iat": gestures.ISSUED_AT}
        assert doc["signature"] == "0" * 64
        payload = doc["payload"]
        assert payload["device_type"] == "LABKIT_SIMULATOR"
        assert payload["interval_ms"] == 16, path.name
        sensors = [{"name": n, "units": "m/s2"} for n in ("accX", "accY", "accZ")]
        assert payload["sensors"] == sensors
        assert np.asarray(payload["values"]).shape == (N_SAMPLES, 3), path.name
        label = path.name.split(".")[0]  # what Edge Impulse's uploader takes as the label
        assert label in CLASSES and re.fullmatch(r"[a-z]+\.s\d\dr\d\d\.json", path.name)
        assert gestures.read_recording(path).label == label


def test_at_least_40_recordings_per_class_from_8_subjects():
    recs = [gestures.read_recording(p) for p in _json_files(SHIPPED)]
    for label in CLASSES:
        mine = [r for r in recs if r.label == label]
        assert len(mine) >= 40, f"{label}: {len(mine)} recordings, expected at least 40"
        assert {r.subject for r in mine} == set(range(1, 9))


def test_dataset_card_exists_and_names_the_seed_and_licence():
    card = (SHIPPED / "README.md").read_text(encoding="utf-8")
    assert str(gestures.DEFAULT_SEED) in card and "CC0-1.0" in card


def test_files_are_small():
    size_bytes = sum(p.stat().st_size for p in _json_files(SHIPPED))
    assert size_bytes < 4_000_000, f"the dataset is {size_bytes / 1e6:.1f} MB, keep it < 4 MB"


# ---------------------------------------------------------------- the generator
def test_generation_is_deterministic_and_a_smaller_set_is_a_subset():
    small = gestures.generate_recordings(per_class=3)
    full = {r.name: r for r in gestures.generate_recordings()}
    for rec in small:
        np.testing.assert_array_equal(rec.values, full[rec.name].values)
    other = gestures.generate_recordings(seed=1, per_class=1, subjects=1)[0]
    assert not np.array_equal(other.values, full[other.name].values)


def test_classes_look_like_their_physics():
    recs = gestures.generate_recordings()
    for rec in recs:
        magnitude = np.linalg.norm(rec.values.mean(axis=0))
        assert 8.0 < magnitude < 11.5, f"{rec.name}: mean |a| {magnitude:.2f} m/s2, not ~1 g"
    motion = {c: np.median([r.values.std(axis=0).max() for r in recs if r.label == c])
              for c in CLASSES}
    assert motion["idle"] < 0.6 < min(motion["wave"], motion["circle"], motion["updown"]), motion


def test_recording_is_immutable_and_prints_well():
    rec = gestures.generate_recordings(per_class=1, subjects=1)[1]
    assert repr(rec).startswith("Recording(label='wave', subject=1, rec_id='s01r01'")
    with pytest.raises(ValueError):
        rec.values[0, 0] = 1.0
    with pytest.raises(ValueError, match="label must be one of"):
        gestures.Recording("jump", 1, "s01r01", rec.values)
    with pytest.raises(ValueError, match=r"shape \(625, 3\)"):
        gestures.Recording("wave", 1, "s01r01", rec.values[:100])


# ---------------------------------------------------------------- the loader
def test_loader_shapes_dtypes_and_value_ranges(data):
    assert data["classes"] == CLASSES and data["sample_rate_hz"] == 62.5
    for part, n_recordings in (("train", 28), ("val", 6), ("test", 6)):
        x, y, ids = data[f"x_{part}"], data[f"y_{part}"], data[f"recording_ids_{part}"]
        n = 4 * n_recordings * 9  # 9 windows of 125 samples, 62 apart, per recording
        assert x.shape == (n, 125, 3) and x.dtype == np.float32
        assert y.shape == (n,) and y.dtype == np.int64 and ids.shape == (n,)
        assert np.isfinite(x).all() and np.abs(x).max() < 4 * 9.81
        np.testing.assert_array_equal(np.bincount(y, minlength=4), n // 4)


def test_windows_are_slices_of_their_recording(data):
    rec = gestures.read_recording(SHIPPED / f"{data['recording_ids_test'][0]}.json")
    np.testing.assert_array_equal(data["x_test"][0], rec.values[:125])
    np.testing.assert_array_equal(data["x_test"][1], rec.values[62:187])
    assert CLASSES[data["y_test"][0]] == rec.label


def test_no_recording_lands_in_two_splits(data):
    sets = [set(data[f"recording_ids_{p}"]) for p in ("train", "val", "test")]
    assert not (sets[0] & sets[1] or sets[0] & sets[2] or sets[1] & sets[2])
    assert len(sets[0] | sets[1] | sets[2]) == 160
    for part in ("train", "val", "test"):
        labels = [CLASSES[i] for i in data[f"y_{part}"]]
        assert all(rid.startswith(lab + ".") for rid, lab in
                   zip(data[f"recording_ids_{part}"], labels, strict=True))


def test_same_seed_same_split_other_seed_other_split(data):
    again = gestures.load_windows(seed=0)
    for key in ("x_train", "y_train", "recording_ids_train", "recording_ids_test"):
        np.testing.assert_array_equal(again[key], data[key])
    other = gestures.load_windows(seed=1)
    assert set(other["recording_ids_test"]) != set(data["recording_ids_test"])


def test_window_and_stride_options():
    short = gestures.load_windows(window_s=1.0, stride_s=0.5, split=(0.5, 0.25, 0.25))
    assert short["x_train"].shape[1:] == (62, 3)
    whole = gestures.load_windows(window_s=10, stride_s=10)
    assert whole["x_train"].shape == (4 * 28, N_SAMPLES, 3)


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"window_s": 0}, ValueError, "window_s must be > 0 and <= 10 s"),
    ({"window_s": 12.5}, ValueError, "window_s must be > 0 and <= 10 s"),
    ({"stride_s": -1}, ValueError, "stride_s must be > 0"),
    ({"window_s": "2"}, TypeError, "window_s must be a number of seconds"),
    ({"split": (0.8, 0.1, 0.2)}, ValueError, "must sum to 1"),
    ({"split": (1.0, 0.0, 0.0)}, ValueError, "each split fraction must be > 0"),
    ({"split": (0.7, 0.3)}, TypeError, "split must be 3 fractions"),
    ({"split": (0.98, 0.01, 0.01)}, ValueError, "leaves no 'idle' recording"),
    ({"seed": -1}, ValueError, "seed must be >= 0"),
    ({"seed": 1.5}, TypeError, "seed must be an int"),
    ({"folder": 3}, TypeError, "folder must be a str or pathlib.Path"),
])
def test_bad_loader_arguments_say_what_is_expected(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        gestures.load_windows(**kwargs)


def test_empty_folder_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="no .json recordings"):
        gestures.load_windows(folder=tmp_path)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"per_class": 0}, "per_class must be between 1 and 792"),
    ({"subjects": 100}, "subjects must be between 1 and 99"),
    ({"seed": -3}, "seed must be >= 0"),
])
def test_bad_generator_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gestures.generate_recordings(**kwargs)


# ---------------------------------------------------------------- reading files
def _edited(tmp_path, edit, name="wave.s01r01.json"):
    doc = json.loads((SHIPPED / "wave.s01r01.json").read_bytes())
    edit(doc)
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d.pop("payload"), "not Edge Impulse data acquisition JSON"),
    (lambda d: d["protected"].update(ver="v2"), '"ver": "v1"'),
    (lambda d: d["payload"].pop("sensors"), "'payload' must be an object with ['sensors']"),
    (lambda d: d["payload"].update(interval_ms=10), "interval_ms is 10, expected 16"),
    (lambda d: d["payload"]["sensors"][1].update(units="g"), "sensors are"),
    (lambda d: d["payload"].update(values=d["payload"]["values"][:600]), "got shape (600, 3)"),
    (lambda d: d["payload"]["values"].append([1, 2]), "must be [x, y, z] number triples"),
])
def test_read_recording_explains_what_is_wrong(tmp_path, edit, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        gestures.read_recording(_edited(tmp_path, edit))


def test_read_recording_checks_name_and_json(tmp_path):
    with pytest.raises(ValueError, match="expected a name like 'wave.s03r02.json'"):
        gestures.read_recording(_edited(tmp_path, lambda d: None, name="jump.s01r01.json"))
    (tmp_path / "idle.s01r01.json").write_text("not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        gestures.read_recording(tmp_path / "idle.s01r01.json")
    with pytest.raises(TypeError, match="path must be a str or pathlib.Path"):
        gestures.read_recording(None)


# ---------------------------------------------------------------- writing and caching
def test_write_dataset_never_overwrites_a_changed_file_silently(tmp_path):
    kwargs = {"per_class": 2, "subjects": 2}
    paths = gestures.write_dataset(tmp_path, **kwargs)
    assert len(paths) == 8
    stamp = paths[0].stat().st_mtime_ns
    assert gestures.write_dataset(tmp_path, **kwargs) == paths  # identical: fine, untouched
    assert paths[0].stat().st_mtime_ns == stamp
    paths[1].write_text("my own data")
    with pytest.raises(FileExistsError, match="pass overwrite=True"):
        gestures.write_dataset(tmp_path, **kwargs)
    assert paths[1].read_text() == "my own data"
    gestures.write_dataset(tmp_path, overwrite=True, **kwargs)
    assert gestures.read_recording(paths[1]).name == paths[1].stem


def test_check_reports_a_changed_missing_or_extra_file(tmp_path, capsys):
    gestures.write_dataset(tmp_path)
    assert gestures.rebuild(tmp_path, check=True) is True
    assert gestures.main(["--check", "--folder", str(tmp_path)]) == 0
    (tmp_path / "idle.s01r01.json").write_bytes(b"{}")
    (tmp_path / "wave.s01r02.json").unlink()
    (tmp_path / "wave.s09r01.json").write_bytes(b"{}")
    assert gestures.rebuild(tmp_path, check=True) is False
    assert gestures.main(["--check", "--folder", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "differs: idle.s01r01.json" in out and "missing: wave.s01r02.json" in out
    assert "unexpected: wave.s09r01.json" in out
    assert gestures.rebuild(tmp_path) is True and gestures.rebuild(tmp_path, check=False)


def test_dataset_dir_uses_the_repository_files():
    assert gestures.dataset_dir() == SHIPPED


def test_dataset_dir_regenerates_into_the_cache_when_the_repo_files_are_missing(
        tmp_path, monkeypatch):
    from labkit.gestures import files

    monkeypatch.setattr(files, "_repo_dataset_dir", lambda: tmp_path / "not-there")
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path / "cache"))
    folder = gestures.dataset_dir()
    assert folder == tmp_path / "cache" / "gestures"
    assert len(_json_files(folder)) == 160
    assert gestures.dataset_sha256(folder) == gestures.GESTURES_SHA256
    (folder / "idle.s01r01.json").write_text("damaged")  # a damaged cache is rebuilt
    assert gestures.dataset_dir() == folder
    assert gestures.dataset_sha256(folder) == gestures.GESTURES_SHA256
    monkeypatch.setattr(files, "GESTURES_SHA256", "0" * 64)
    with pytest.raises(RuntimeError, match="does not reproduce them"):
        gestures.dataset_dir()


def test_importing_gestures_does_not_import_tensorflow():
    code = "import sys, labkit.gestures; print('tensorflow' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(SHIPPED.parents[1])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env)
    assert out.stdout.strip() == "False"
