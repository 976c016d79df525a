"""When to show ipywidgets, and when to fall back to a static figure (notebooks 01–03).

Widgets need ipywidgets and a live Jupyter kernel. ``labkit grade`` sets
``LABKIT_NO_WIDGETS=1`` for the kernels it starts, so graded runs draw the static figures:
no widget traffic while grading (nbclient can hang on it, jupyter/nbclient#312).

Example
-------
>>> widgets_available()  # a plain Python process has no Jupyter kernel
False
"""

from __future__ import annotations

import os

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
