"""Widgets show only in a Jupyter kernel, and never in a graded run."""

from __future__ import annotations

from labkit import widgets


def test_no_widgets_outside_a_kernel():
    assert widgets.widgets_available() is False


def test_graded_runs_turn_widgets_off(monkeypatch):
    class Shell:
        kernel = object()

    monkeypatch.setattr("IPython.get_ipython", lambda: Shell())
    assert widgets.widgets_available() is True
    monkeypatch.setenv(widgets.NO_WIDGETS_ENV, "1")
    assert widgets.widgets_available() is False


def test_explore_draws_each_static_setting_headless_and_shows_a_widget_in_a_kernel(monkeypatch):
    drawn = []
    controls = {"bits": lambda w: w.IntSlider(value=4, min=2, max=8)}
    widgets.explore(lambda bits: drawn.append(bits), controls, static=[{"bits": 2}, {"bits": 8}])
    assert drawn == [2, 8]
    shown = []
    monkeypatch.setattr("IPython.display.display", shown.append)
    widgets.explore(lambda bits: drawn.append(bits), controls, static=[{"bits": 2}],
                    interactive=True)
    box = shown[0]  # the controls, then what draw showed: no Output widget anywhere
    assert box.children[0].value == 4 and drawn[-1] == 4
    assert "Output" not in {type(w).__name__ for w in box.children}


def test_explore_needs_a_static_setting():
    import pytest

    with pytest.raises(ValueError, match="static"):
        widgets.explore(print, {}, static=[])
