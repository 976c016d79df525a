"""Figures and tables shared by the notebooks: learning curves, pruned kernels, Markdown.

Each function takes data in (runs, kernels, rows) and draws or formats it; none imports a
topic module. Interactive explorers build on :func:`labkit.widgets.explore`.

Example
-------
>>> print(markdown_table(["model", "size (KB)"], [["int8", 71.8], ["float32", 260.8]]))
| model | size (KB) |
|---|---|
| int8 | 71.8 |
| float32 | 260.8 |
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from labkit.training import Run
from labkit.validate import check_choice

_METRICS = {"loss": ("loss", "val_loss", "cross-entropy loss (nats)", 1.0),
            "accuracy": ("accuracy", "val_accuracy", "accuracy (%)", 100.0)}


def plot_run(ax, run: Run, metric: str = "loss", *, label_prefix: str = "",
             styles: tuple[str, str] = ("-", "-")) -> None:
    """Draw one run's train and validation curves of ``metric`` on ``ax``.

    A dotted vertical line marks the epoch of the lowest validation loss.
    """
    check_choice(metric, "metric", tuple(_METRICS))
    train_key, val_key, ylabel, scale = _METRICS[metric]
    epochs = np.arange(1, run.epochs + 1)
    line, = ax.plot(epochs, np.asarray(run.history[train_key]) * scale, styles[0],
                    label=f"{label_prefix}train")
    ax.plot(epochs, np.asarray(run.history[val_key]) * scale, styles[1],
            label=f"{label_prefix}validation", color=None if label_prefix else "C1")
    best = int(np.argmin(run.history["val_loss"])) + 1
    ax.axvline(best, color=line.get_color() if label_prefix else "0.5", ls=":", lw=1)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)


def plot_learning_curves(runs: Sequence[Run], *, metric: str = "loss", ncols: int = 4,
                         title: str | None = None, subtitle: Callable[[Run], str] | None = None):
    """Small multiples: one panel per run with its train and validation curves.

    ``subtitle(run)`` adds a line under each panel's title (notebook 01 passes
    :func:`labkit.fitting.run_verdict`, its diagnosis of the run).

    Returns the matplotlib Figure (call ``plt.show()`` in a notebook).
    """
    import matplotlib.pyplot as plt

    runs = list(runs)
    if not runs:
        raise ValueError("runs is empty; pass at least one Run from labkit.training.train")
    ncols = min(ncols, len(runs))
    nrows = -(-len(runs) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.4 * ncols, 2.9 * nrows), sharey=True,
                             squeeze=False)
    for ax, run in zip(axes.flat, runs):
        plot_run(ax, run, metric)
        extra = f" · {subtitle(run)}" if subtitle else ""
        ax.set_title(f"{run.name}\n{run.params:,} params{extra}", fontsize=9)
    for ax in axes[:, 1:].flat:
        ax.set_ylabel("")
    for ax in axes.flat[len(runs):]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A Markdown table (for ``display(Markdown(...))``); floats are shown as given.

    Example
    -------
    >>> print(markdown_table(["model", "params"], [["CNN", "5,210"]]))
    | model | params |
    |---|---|
    | CNN | 5,210 |
    """
    if isinstance(header, str) or not isinstance(header, Sequence) or not header:
        raise TypeError(f"header must be a non-empty list of column names, got {header!r}")
    if isinstance(rows, (str, bytes)) or not isinstance(rows, Iterable):
        raise TypeError(f"rows must be an iterable of rows (lists of cells), got "
                        f"{type(rows).__name__}")
    lines = ["| " + " | ".join(str(h) for h in header) + " |",
             "|" + "---|" * len(header)]
    for i, row in enumerate(rows):
        if isinstance(row, str) or not isinstance(row, Iterable):
            raise TypeError(f"rows[{i}] must be a list of cells, got {row!r}")
        row = list(row)
        if len(row) != len(header):
            raise ValueError(f"rows[{i}] = {row!r} has {len(row)} cells; the header has "
                             f"{len(header)}")
        lines.append("| " + " | ".join(str(cell) for cell in row) + " |")
    return "\n".join(lines)
