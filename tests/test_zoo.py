"""labkit.zoo: a cold cache trains and stores, a warm one loads the same weights."""

from __future__ import annotations

import numpy as np
import pytest

from labkit import zoo

TINY = zoo.Recipe("course_cnn", dataset="digits8", epochs=1, batch_size=64,
                  builder_kwargs={"width": 4})


@pytest.mark.slow
def test_cold_then_warm_cache_gives_the_same_model(tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path))
    cold = zoo.trained(TINY)
    warm = zoo.trained(TINY)
    assert not cold.cached and warm.cached and warm.path == cold.path
    for a, b in zip(cold.model.get_weights(), warm.model.get_weights()):
        np.testing.assert_array_equal(a, b)
    again = zoo.trained(TINY, retrain=True)  # deterministic on one machine
    for a, b in zip(cold.model.get_weights(), again.model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    assert "loaded from the cache" in repr(warm)


def test_recipes_are_checked_and_keyed_by_every_setting():
    with pytest.raises(ValueError, match="builder must be one of"):
        zoo.Recipe("resnet", dataset="digits8", epochs=1)
    with pytest.raises(ValueError, match="epochs must be a positive int"):
        zoo.Recipe("course_cnn", dataset="digits8", epochs=0)
    keys = {TINY.key("2.21"), TINY.key("2.20"),
            zoo.Recipe("course_cnn", dataset="digits8", epochs=1, batch_size=64, seed=1,
                       builder_kwargs={"width": 4}).key("2.21")}
    assert len(keys) == 3
