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
