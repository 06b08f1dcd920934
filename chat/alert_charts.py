"""Alert charts as PNG bytes, drawn from an alert's chart spec only when it is sent.

Specs are plain JSON stored with the alert (``Alert.chart``): ``{"type": "heatmap", ...}`` or
``{"type": "gauge", ...}``. Matplotlib's Agg canvas is used directly (no pyplot), so drawing
is safe in a worker thread.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from chat.charts import DPI, corr_heatmaps, data_time
from chat.first_screens import SIDE_WORDS, word
from i18n import _
from i18n.chart_fonts import font


def _matrix(rows: list[list[float | None]]) -> np.ndarray:
    return np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=float)


def heatmap_png(spec: Mapping[str, Any], title: str | None = None) -> bytes:
    """Correlation now (fast window) next to the 30-day matrix; ``title`` (the alert's
    chart title in the reader's language) replaces the spec's English one."""
    return corr_heatmaps(spec["labels"], [(_("now (fast)"), _matrix(spec["fast"])),
                                          (_("30 days"), _matrix(spec["slow"]))],
                         title=title or spec.get("title", ""))


def gauge_png(spec: Mapping[str, Any], title: str | None = None) -> bytes:
    """Distance to liquidation in σ of a day's moves, on a red-amber-green scale, with the
    alert threshold and the 24h touch probability (its title made from the numbers, in the
    current language; ``title`` is ignored)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    sigma = spec.get("distance_sigma")
    top = 6.0
    fig = Figure(figsize=(6.0, 1.9), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.05, 0.35, 0.9, 0.3))
    for lo, hi, colour in ((0, 1, "#d73027"), (1, 2, "#fc8d59"), (2, 3, "#fee08b"),
                           (3, top, "#91cf60")):
        ax.barh(0, hi - lo, left=lo, color=colour, height=1.0)
    thr = spec.get("threshold_sigma")
    if thr is not None:
        ax.axvline(thr, color="black", linestyle="--", linewidth=1)
    if sigma is not None and math.isfinite(sigma):
        x = min(max(sigma, 0.0), top)
        ax.plot([x], [0], marker="v", markersize=16, color="black", clip_on=False,
                transform=ax.transData)
    ax.set_xlim(0, top)
    ax.set_yticks([])
    ax.set_xlabel(_("distance to liquidation, σ of 24h moves"), fontproperties=font(8))
    prob = spec.get("touch_prob")
    values = {"base": str(spec.get("symbol", "")).split("-")[0],
              "side": word(SIDE_WORDS, spec.get("side", "")),
              "liquidation": price_text(spec.get("liquidation_price")),
              "price": price_text(spec.get("price")), "prob": prob}
    head = (_("{base} {side}: liquidation {liquidation} vs price {price} — {prob:.0%} touch "
              "chance in 24h") if prob is not None
            else _("{base} {side}: liquidation {liquidation} vs price {price}")).format(**values)
    fig.suptitle(head + (f"\n{data_time(spec['time_ms'])}" if spec.get("time_ms") else ""),
                 fontproperties=font(9))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", pad_inches=0.08)
    return buf.getvalue()


def price_text(x: Any) -> str:
    """A price rounded as a trader reads it (85,886.5 · 0.01234); "n/a" when unknown."""
    if not isinstance(x, (int, float)) or not math.isfinite(x):
        return "n/a"
    return f"{x:,.1f}" if abs(x) >= 1000 else f"{x:.4g}"


CHARTS = {"heatmap": heatmap_png, "gauge": gauge_png}


def chart_png(spec: Mapping[str, Any] | None, title: str | None = None) -> bytes | None:
    """The PNG of a chart spec, its words in the current language; ``title`` is the chart's
    title in that language (``chat.alert_render.words(record)["chart_title"]``), the spec's
    English one when None. None when there is no chart or its type is unknown."""
    if not spec or spec.get("type") not in CHARTS:
        return None
    return CHARTS[spec["type"]](spec, title)
