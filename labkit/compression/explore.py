"""The codebook drawn on the weight histogram: a static figure and a slider."""

from __future__ import annotations

from typing import Any

import numpy as np

from labkit.compression.sharing import _weights, index_bits, kmeans_codebook
from labkit.validate import check_int


def _draw_codebook(ax: Any, w: np.ndarray, k: int, layer: str) -> None:
    codebook, indices = kmeans_codebook(w, k)
    error = codebook[indices] - w
    sqnr = 10 * np.log10(np.mean(w**2) / max(np.mean(error**2), 1e-30))
    ax.hist(w.ravel(), bins=120, color="tab:blue", alpha=0.7, label="weights")
    for i, c in enumerate(codebook):
        ax.axvline(c, color="tab:red", lw=1, label="centroids" if i == 0 else None)
    ax.set(title=f"{layer}: k = {k} shared values ({index_bits(k)}-bit indices)\n"
                 f"SQNR of the shared weights {sqnr:.1f} dB", xlabel="weight value",
           ylabel="number of weights")
    ax.legend(fontsize=8, loc="upper right")


def plot_codebook(w: Any, ks: Any, *, layer: str = "kernel") -> Any:
    """Static panels: the weight histogram of ``w`` with the k-means codebook for each k."""
    import matplotlib.pyplot as plt

    arr = _weights(w)
    ks = [check_int(k, "ks", low=1) for k in ks]
    fig, axes = plt.subplots(1, len(ks), figsize=(5.0 * len(ks), 3.8), squeeze=False)
    for ax, k in zip(axes[0], ks):
        _draw_codebook(ax, arr, k, layer)
    fig.suptitle(f"Weight sharing on {layer}: k-means codebook (red) on the weight histogram")
    fig.tight_layout()
    return fig


def codebook_explorer(w: Any, *, layer: str = "kernel", k_max: int = 64,
                      interactive: bool | None = None) -> None:
    """A slider for k: the codebook redrawn on the weight histogram of ``w``.

    Headless (see :func:`labkit.widgets.explore`) it draws k = 8 and k = ``k_max``.
    """
    import matplotlib.pyplot as plt

    from labkit.widgets import explore

    arr = _weights(w)
    k_max = check_int(k_max, "k_max", low=2)

    def draw(k: int) -> None:
        fig, ax = plt.subplots(figsize=(9, 3.6))
        _draw_codebook(ax, arr, k, layer)
        fig.tight_layout()
        plt.show()

    explore(draw, {"k": lambda w: w.IntSlider(value=8, min=1, max=k_max, description="k")},
            static=[{"k": 8}, {"k": k_max}], interactive=interactive)
