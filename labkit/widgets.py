"""Interactive exploration with one rule for widgets vs a static figure (every notebook).

:func:`explore` shows ``draw(**values)`` under a row of ipywidgets controls in a live
Jupyter kernel, and otherwise (no ipywidgets, no kernel, ``LABKIT_NO_WIDGETS=1``) calls the
same ``draw`` once per static setting: the static figures are the widget's own pictures,
so a notebook runs the same everywhere and a headless run still shows what the widget does.

Example
-------
>>> widgets_available()  # a plain Python process has no Jupyter kernel
False
>>> explore(lambda bits: print(f"{bits}-bit grid: {2 ** bits} levels"),
...         {"bits": lambda w: w.IntSlider(value=4, min=2, max=8)},
...         static=[{"bits": 2}, {"bits": 8}])
2-bit grid: 4 levels
8-bit grid: 256 levels
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

NO_WIDGETS_ENV = "LABKIT_NO_WIDGETS"


def widgets_available() -> bool:
    """True in a Jupyter kernel that has ipywidgets, unless ``LABKIT_NO_WIDGETS=1``."""
    if os.environ.get(NO_WIDGETS_ENV) == "1":
        return False
    try:
        import ipywidgets  # noqa: F401
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def explore(draw: Callable[..., None], controls: Mapping[str, Callable[[Any], Any]], *,
            static: Sequence[Mapping[str, Any]], interactive: bool | None = None) -> None:
    """Show ``draw`` with a widget per argument, or draw each ``static`` setting.

    Parameters
    ----------
    draw : callable
        Draws one picture (and calls ``plt.show()``) for keyword arguments named like
        ``controls``.
    controls : mapping of str to callable
        ``name -> make(ipywidgets_module)`` returning the control for that argument, e.g.
        ``lambda w: w.IntSlider(value=4, min=2, max=8, description="bits")``; called only
        when widgets can show, so ipywidgets is never imported headless.
    static : sequence of mappings
        The settings drawn when widgets cannot show (at least one).
    interactive : bool, optional
        Force one mode; default: :func:`widgets_available`.
    """
    if not static:
        raise ValueError("static must hold at least one setting to draw without widgets")
    if not callable(draw):
        raise TypeError(f"draw must be a function, got {type(draw).__name__}")
    if interactive is None:
        interactive = widgets_available()
    if not interactive:
        for setting in static:
            draw(**setting)
        return
    import ipywidgets
    from IPython.display import display

    made = {name: make(ipywidgets) for name, make in controls.items()}
    display(ipywidgets.interactive(draw, **made))
