"""Charts as PNG bytes (matplotlib, Agg backend: no display, safe in threads and servers).

Made for a phone: drawn at ``DPI`` (150) and cropped to what is drawn (``bbox_inches``
"tight"), at most ``MAX_PX`` (Telegram shrinks photos past 1,280 px a side), titled with
rounded values and the data's time. Titles, labels and legends are in the current language,
drawn with ``i18n.chart_fonts`` (Chinese glyphs from Noto Sans CJK SC).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from i18n import _
from i18n.chart_fonts import font

DPI = 150
MAX_PX = 1280


def data_time(ms: int | None) -> str:
    """A bar close as the chart titles show it: "2026-03-01 14:15 UTC"."""
    if ms is None:
        return _("time unknown")
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", pad_inches=0.08)
    return buf.getvalue()


def corr_heatmaps(labels: Sequence[str], panels: Sequence[tuple[str, np.ndarray]], *,
                  title: str = "") -> bytes:
    """Correlation heatmaps side by side (e.g. fast vs 30-day), cropped to the matrices, each
    cell with its value (up to 16 symbols); NaN cells are grey."""
    # Figure + the Agg canvas directly: no pyplot, no global backend switch.
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n = len(labels)
    # inches per panel, so that the cropped picture stays under MAX_PX wide
    size = min(max(2.6, 0.36 * n + 0.8), (MAX_PX / DPI - 0.9) / len(panels))
    fig = Figure(figsize=(size * len(panels) + 0.6, size + 0.5), dpi=DPI,
                 layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    image = None
    cmap = colormaps["RdBu_r"].with_extremes(bad="#cccccc")
    cell_size = 7 if n <= 8 else 5.5 if n <= 12 else 4.5
    for ax, (name, m) in zip(axes, panels, strict=True):
        values = np.asarray(m, dtype=float)
        image = ax.imshow(np.ma.masked_invalid(values), vmin=-1, vmax=1, cmap=cmap)
        ax.set_title(name, fontproperties=font(8))
        ax.set_xticks(range(n), labels, rotation=90, fontsize=7)
        ax.set_yticks(range(n), labels, fontsize=7)
        if n <= 16:
            for (i, j), v in np.ndenumerate(values):
                if np.isfinite(v):
                    ax.text(j, i, f"{v:.2f}".replace("0.", ".", 1), ha="center", va="center",
                            fontsize=cell_size, color="white" if abs(v) > 0.6 else "black")
    if image is not None:
        bar = fig.colorbar(image, ax=list(axes), shrink=0.7, pad=0.02)
        bar.ax.tick_params(labelsize=7)
    if title:
        fig.suptitle(title, fontproperties=font(9))
    return _png(fig)


def equity_png(points: Sequence[tuple[int, float]], *, title: str,
               now: tuple[int, float] | None = None) -> bytes:
    """The realised equity curve (cumulative net USDT at each close, from 0) as steps, with
    today's value including open trades as a dashed last step when given."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    def day(ms: int) -> float:  # matplotlib's dates: days since its 1970 epoch
        return ms / 86_400_000

    fig = Figure(figsize=(6.0, 3.2), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    xs = np.array([day(t) for t, _ in points], dtype=float)
    ys = np.array([v for _, v in points], dtype=float)
    if len(xs):
        ax.step(xs, ys, where="post", color="#1f77b4", linewidth=1.6, label=_("realised"))
        ax.fill_between(xs, ys, 0, step="post", alpha=0.12, color="#1f77b4")
    if now is not None:
        x0 = float(xs[-1]) if len(xs) else day(now[0])
        y0 = float(ys[-1]) if len(ys) else 0.0
        ax.plot([x0, day(now[0])], [y0, now[1]], linestyle="--", color="#ff7f0e",
                linewidth=1.2, label=_("with open trades"))
    ax.xaxis_date()
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_ylabel("USDT", fontsize=8)
    ax.tick_params(labelsize=7)
    for label in ax.get_xticklabels():
        label.set_rotation(30)
    ax.legend(prop=font(7), loc="upper left")
    fig.suptitle(title, fontproperties=font(9))
    return _png(fig)
