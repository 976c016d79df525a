"""Offline loaders: digits and MNIST-1D (gestures have their own test file)."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from labkit import data


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a loader tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)  # the class stays a class: some
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)  # libraries subclass it
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.mark.parametrize("size", [8, 32])
def test_digits(size, no_network):
    ds = data.load_digits(size)
    assert ds.x_train.shape[1:] == (size, size, 1) and ds.x_train.dtype == np.float32
    assert ds.y_train.dtype == np.int64 and ds.num_classes == 10
    assert 0.0 <= ds.x_train.min() and ds.x_train.max() <= 1.0
    assert len(ds.x_train) + len(ds.x_val) + len(ds.x_test) == 1797
    counts = np.bincount(ds.y_test, minlength=10)
    assert counts.min() >= 0.8 * counts.mean(), "stratified: every class in the test split"


def test_digits_split_is_deterministic_and_seeded():
    a, b, c = data.load_digits(seed=3), data.load_digits(seed=3), data.load_digits(seed=4)
    np.testing.assert_array_equal(a.x_test, b.x_test)
    assert not np.array_equal(a.y_train, c.y_train)


def test_upsampling_keeps_corners_and_range():
    img = np.random.default_rng(0).random((2, 8, 8)).astype(np.float32)
    up = data.upsample_bilinear(img, 32)
    np.testing.assert_allclose(up[:, 0, 0], img[:, 0, 0], rtol=1e-6)
    np.testing.assert_allclose(up[:, -1, -1], img[:, -1, -1], rtol=1e-6)
    assert up.min() >= img.min() - 1e-6 and up.max() <= img.max() + 1e-6


def test_mnist1d_generated_locally_and_cached(tmp_path, monkeypatch, no_network):
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path))
    state = np.random.get_state()[1].copy()
    ds = data.load_mnist1d(num_samples=1000)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # global RNG untouched
    assert ds.x_train.shape[1:] == (40,) and ds.x_train.dtype == np.float32
    assert sorted(set(ds.y_train)) == list(range(10))
    assert len(list(tmp_path.glob("mnist1d_*.npz"))) == 1
    again = data.load_mnist1d(num_samples=1000)
    np.testing.assert_array_equal(ds.x_train, again.x_train)


def test_bad_arguments_are_explained():
    with pytest.raises(ValueError, match="size must be 8"):
        data.load_digits(16)
    with pytest.raises(ValueError, match="sum to 1"):
        data.load_digits(split=(0.5, 0.2, 0.2))
    with pytest.raises(ValueError, match="multiple of 10"):
        data.load_mnist1d(num_samples=1005)


def test_gestures_dataset_wrapper():
    ds = data.load_gestures()
    assert ds.x_train.shape[1:] == (125, 3) and ds.classes == ("idle", "wave", "circle", "updown")
    ids = [set(ds.extra[f"recording_ids_{s}"]) for s in ("train", "val", "test")]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
