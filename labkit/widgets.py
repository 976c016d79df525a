"""Interactive exploration with one rule for widgets vs a static figure (every notebook).

:func:`explore` shows ``draw(**values)`` under a row of ipywidgets controls in a live
Jupyter kernel, and otherwise (no ipywidgets, no kernel, ``LABKIT_NO_WIDGETS=1``) calls the
same ``draw`` once per static setting: the static figures are the widget's own pictures,
so a notebook runs the same everywhere and a headless run still shows what the widget does.

It shows what ``draw`` displays in ``Image`` and ``HTML`` widgets, never in an ``Output``
widget (so not with ``ipywidgets.interact``). The reason: a headless client (nbclient, so
also ``jupyter nbconvert --execute`` and papermill) mimics every Output widget that
captures output by sending a ``comm_msg`` to the kernel on the shell channel while it waits
on that channel for the cell's ``execute_reply``; jupyter_client sends it on a raw shadow of
the asyncio socket, which can swallow the wake-up of a reply arriving at that moment, and
the client then sees the reply only when the cell's timeout expires (300 s by default,
never without one): jupyter/nbclient#312, jupyter/nbconvert#2003,
jupyter/jupyter_client#1059. Widgets whose state only flows from the kernel to the client
(sliders, images, tqdm's bars) never make the client send, so they cannot stall a run.

:func:`progress` is tqdm's bar for loops a student waits on; in a kernel it leaves one line
of text in place of the widget when the loop ends, so a saved notebook shows the final
state on static viewers (GitHub, nbviewer), not the widget's initial "0%| | 0/7".

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

import base64
import html
import io
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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


def progress(iterable: Iterable[Any], *, desc: str, total: int | None = None,
             unit: str = "it") -> Iterator[Any]:
    """Iterate over ``iterable`` under a tqdm progress bar that ends as one line of text.

    In a Jupyter kernel with ipywidgets the bar is tqdm's widget, shown with a display id;
    when the loop ends (or stops early) the widget is replaced by a plain line such as
    ``capacity sweep: 7/7 it in 12.3 s``, which is what a saved notebook then holds.
    Elsewhere it is tqdm's text bar on stderr (``TQDM_DISABLE=1`` hides it).

    Example
    -------
    >>> sum(progress(range(3), desc="adding"))  # doctest: +SKIP
    3
    """
    from tqdm.auto import tqdm

    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    if not widgets_available():
        yield from tqdm(iterable, desc=desc, total=total, unit=unit)
        return
    from IPython.display import Pretty, display
    from tqdm.notebook import tqdm as notebook_tqdm

    if not issubclass(tqdm, notebook_tqdm):  # tqdm.auto chose the text bar after all
        yield from tqdm(iterable, desc=desc, total=total, unit=unit)
        return
    bar = notebook_tqdm(iterable, desc=desc, total=total, unit=unit, display=False)
    handle = display(bar.container, display_id=True) if not bar.disable else None
    start, done = time.perf_counter(), 0
    try:
        for item in bar:
            yield item
            done += 1
    finally:
        bar.close()
        if handle is not None:
            of = f"/{total}" if total is not None else ""
            handle.update(Pretty(f"{desc}: {done}{of} {unit} in "
                                 f"{time.perf_counter() - start:.1f} s"))


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
    shown = ipywidgets.VBox()

    def redraw(_: Any = None) -> None:
        old = shown.children
        shown.children = tuple(_render(draw, {n: c.value for n, c in made.items()}))
        for child in old:
            child.close()

    for control in made.values():
        control.observe(redraw, names="value")
    redraw()
    display(ipywidgets.VBox([*made.values(), shown]))


def _markdown_html(text: str) -> str:
    """Markdown as HTML for an HTML widget (markdown-it ships with JupyterLab)."""
    try:
        from markdown_it import MarkdownIt
    except ImportError:
        return f"<pre>{html.escape(text)}</pre>"
    return MarkdownIt("commonmark").enable("table").render(text)


def _render(draw: Callable[..., Any], values: dict[str, Any]) -> list[Any]:
    """Run ``draw(**values)`` and turn what it displayed and printed into widgets."""
    import ipywidgets
    import matplotlib.pyplot as plt
    from IPython.utils.capture import capture_output

    before = set(plt.get_fignums())
    with capture_output(stdout=True, stderr=False, display=True) as captured:
        draw(**values)
    shown: list[Any] = []
    for output in captured.outputs:
        data = output.data
        if "image/png" in data:
            png = data["image/png"]
            shown.append(ipywidgets.Image(value=png if isinstance(png, bytes)
                                          else base64.b64decode(png), format="png"))
        elif "text/html" in data:
            shown.append(ipywidgets.HTML(data["text/html"]))
        elif "text/markdown" in data:
            shown.append(ipywidgets.HTML(_markdown_html(data["text/markdown"])))
        elif "text/plain" in data:
            shown.append(ipywidgets.HTML(f"<pre>{html.escape(data['text/plain'])}</pre>"))
    for number in sorted(set(plt.get_fignums()) - before):  # drawn but not shown (Agg)
        figure = plt.figure(number)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", bbox_inches="tight")
        shown.append(ipywidgets.Image(value=buffer.getvalue(), format="png"))
        plt.close(figure)
    if captured.stdout:
        shown.append(ipywidgets.HTML(f"<pre>{html.escape(captured.stdout)}</pre>"))
    return shown
