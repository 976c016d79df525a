"""Measuring and exploring: zeros inside a .tflite, masked kernels drawn, a sparsity slider."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from labkit.pruning.masks import _check_sparsities, kernel_image, magnitude_prune, zero_fraction


def tflite_weight_sparsity(model_bytes: bytes) -> dict[str, float]:
    """Zero fraction of every weight tensor stored in a ``.tflite`` file, by role.

    Shows whether the zeros survived conversion: float32 zeros stay 0.0, and int8 weights,
    quantized symmetrically (zero point 0), store them as the code 0.

    Returns
    -------
    {"CONV_2D #1 weights": 0.9, ...}
    """
    from labkit.runtime import describe, read_constant

    return {info.role: zero_fraction(read_constant(model_bytes, info))
            for info in describe(model_bytes).constants if info.role.endswith(" weights")}






def plot_masked_kernels(kernel: Any, sparsities: Sequence[float], accuracies: Sequence[float],
                        *, show: Sequence[float], layer: str = "kernel",
                        crop: tuple[int, int] | None = None,
                        accuracy_of: str = "every layer pruned to that sparsity") -> Any:
    """Static panels: the kernel magnitude-pruned at each sparsity in ``show`` (pruned weights
    white), titled with the accuracy at that sparsity from the precomputed curve.

    ``crop=(inputs, filters)`` draws only the first input channels and filters of a Conv2D
    kernel, large enough to see each ``kh × kw`` tile, outlined; the mask is still the one
    of the whole kernel.
    """
    import matplotlib.pyplot as plt

    lookup = dict(zip([round(s, 6) for s in _check_sparsities(sparsities)], accuracies))
    fig, axes = plt.subplots(1, len(show), figsize=(3.3 * len(show) + 1.0, 3.4), squeeze=False,
                             layout="constrained")
    for ax, s in zip(axes[0], show):
        image = _draw_masked(ax, kernel, s, lookup.get(round(s, 6)), crop)
    fig.colorbar(image, ax=axes[0].tolist(), label="|weight|", shrink=0.9)
    part = f" (first {crop[0]} input channels × first {crop[1]} filters)" if crop else ""
    fig.suptitle(f"{layer}{part}: |weight| after magnitude pruning (white = pruned); accuracy "
                 f"with {accuracy_of}")
    return fig


def _draw_masked(ax: Any, kernel: Any, sparsity: float, accuracy: float | None,
                 crop: tuple[int, int] | None = None) -> Any:
    pruned, mask = magnitude_prune(kernel, sparsity)
    if crop is not None and np.ndim(kernel) == 4:
        n_in, n_out = crop
        kernel, pruned, mask = (a[:, :, :n_in, :n_out] for a in (np.asarray(kernel), pruned, mask))
    image = np.where(kernel_image(mask) > 0, np.abs(kernel_image(pruned)), np.nan)
    handle = ax.imshow(image, cmap="viridis", interpolation="nearest", aspect="auto",
                       vmin=0, vmax=float(np.abs(kernel).max()))
    acc = f", accuracy {accuracy:.1%}" if accuracy is not None else ""
    ax.set_title(f"sparsity {sparsity:.0%}{acc}", fontsize=9)
    if crop is not None and np.ndim(kernel) == 4:
        kh, kw, c_in, c_out = np.shape(kernel)
        for row in range(1, c_in):
            ax.axhline(row * kh - 0.5, color="k", lw=1)
        for col in range(1, c_out):
            ax.axvline(col * kw - 0.5, color="k", lw=1)
        ax.set_xticks(np.arange(c_out) * kw + (kw - 1) / 2, [str(j) for j in range(c_out)])
        ax.set_yticks(np.arange(c_in) * kh + (kh - 1) / 2, [str(i) for i in range(c_in)])
        ax.set_xlabel(f"filter (each tile: one {kh}×{kw} slice)")
        ax.set_ylabel("input channel")
    else:
        ax.set_xlabel("output channel × kernel column")
        ax.set_ylabel("input channel × kernel row")
    return handle


def sparsity_explorer(kernel: Any, sparsities: Sequence[float], accuracies: Sequence[float], *,
                      layer: str = "kernel", crop: tuple[int, int] | None = None,
                      accuracy_of: str = "every layer pruned to that sparsity, no fine-tuning",
                      interactive: bool | None = None) -> None:
    """A slider over the precomputed ``sparsities``: the masked kernel (``crop`` as in
    :func:`plot_masked_kernels`) and the accuracy curve.

    Headless (see :func:`labkit.widgets.explore`) it draws 50 % and the largest sparsity.
    """
    import matplotlib.pyplot as plt

    from labkit.widgets import explore

    grid = _check_sparsities(sparsities)
    acc = np.asarray(accuracies, dtype=float)

    def draw(sparsity: float) -> None:
        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
        image = _draw_masked(left, kernel, sparsity, float(acc[grid.index(sparsity)]), crop)
        fig.colorbar(image, ax=left, label="|weight|")
        left.set_title(f"{layer} at {left.get_title()} (white = pruned)", fontsize=9)
        right.plot(np.array(grid) * 100, acc * 100, marker="o", markersize=3)
        right.axvline(sparsity * 100, color="tab:red", linestyle="--")
        right.set(title=accuracy_of, xlabel="sparsity (% of weights removed)",
                  ylabel="test accuracy (%)")
        fig.tight_layout()
        plt.show()

    middle = grid[len(grid) // 2]
    explore(draw, {"sparsity": lambda w: w.SelectionSlider(
        options=[(f"{s:.0%}", s) for s in grid], value=middle, description="sparsity")},
        static=[{"sparsity": middle}, {"sparsity": grid[-1]}], interactive=interactive)
