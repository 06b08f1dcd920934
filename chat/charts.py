"""Charts as PNG bytes (matplotlib, Agg backend: no display, safe in threads and servers)."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np


def corr_heatmaps(labels: Sequence[str], panels: Sequence[tuple[str, np.ndarray]], *,
                  title: str = "") -> bytes:
    """Correlation heatmaps side by side (e.g. fast vs 30-day); NaN cells are grey."""
    # Figure + the Agg canvas directly: no pyplot, no global backend switch.
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n = len(labels)
    size = max(3.0, 0.45 * n + 1.5)
    fig = Figure(figsize=(size * len(panels) + 1.0, size + 0.6), dpi=100)
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    image = None
    cmap = colormaps["RdBu_r"].with_extremes(bad="#cccccc")
    for ax, (name, m) in zip(axes, panels, strict=True):
        data = np.ma.masked_invalid(np.asarray(m, dtype=float))
        image = ax.imshow(data, vmin=-1, vmax=1, cmap=cmap)
        ax.set_title(name, fontsize=10)
        ax.set_xticks(range(n), labels, rotation=90, fontsize=8)
        ax.set_yticks(range(n), labels, fontsize=8)
        if n <= 12:
            for (i, j), v in np.ndenumerate(np.asarray(m, dtype=float)):
                if np.isfinite(v):
                    ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=6,
                            color="white" if abs(v) > 0.6 else "black")
    if image is not None:
        fig.colorbar(image, ax=list(axes), shrink=0.8)
    if title:
        fig.suptitle(title, fontsize=11)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
