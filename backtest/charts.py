"""The backtest chart: equity curves and drawdowns per strategy, stress windows shaded."""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec

import numpy as np

from backtest import metrics as M
from backtest.engine import BacktestResult
from backtest.report import stress_of
from i18n import _
from i18n.chart_fonts import family


def legend(simulated: bool) -> str:
    """The key under the chart, in the current language."""
    if simulated:
        return _("shaded: stress windows (cascade level high or above, padded); x: account / "
                 "main liquidated, v: hedge leg liquidated  — SIMULATED market")
    return _("shaded: stress windows (cascade level high or above, padded); x: account / main "
             "liquidated, v: hedge leg liquidated")


P = ParamSpec("P")


def chart_fonts(draw: Callable[P, bytes]) -> Callable[P, bytes]:
    """Draw with DejaVu Sans for Latin text and Noto Sans CJK SC for Chinese
    (``i18n.chart_fonts``): a chart drawn for a Chinese reader has glyphs, not boxes."""
    @functools.wraps(draw)
    def drawn(*args: P.args, **kwargs: P.kwargs) -> bytes:
        import matplotlib

        with matplotlib.rc_context({"font.family": family()}):
            return draw(*args, **kwargs)
    return drawn


@chart_fonts
def equity_chart(result: BacktestResult, title: str = "") -> bytes:
    """PNG bytes: P&L on total collateral (top), drawdown (middle), the main's close (bottom),
    stress windows shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 1, figsize=(11, 8.5), sharex=True,
                             gridspec_kw={"height_ratios": [3, 1.6, 1.2]})
    draw_equity(result, axes, title)
    return captioned_png(fig, equity_caption(result), dpi=100)


def equity_caption(result: BacktestResult) -> str:
    """The key under an equity chart (shared by the study's example), in the current
    language."""
    return legend(result.snap.simulated)


def captioned_png(fig: Any, caption: str, *, dpi: int, top: float = 1.0) -> bytes:
    """PNG bytes of ``fig`` with ``caption`` in small print along its foot, laid out to fit
    below ``top`` (less than 1 leaves room for a suptitle); the figure is closed, as pyplot
    would otherwise keep every chart ever drawn alive."""
    import matplotlib.pyplot as plt

    fig.text(0.01, 0.005, caption, fontsize=7)
    fig.tight_layout(rect=(0, 0.02, 1, top))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()


def draw_equity(result: BacktestResult, axes: Any, title: str) -> None:
    """Fill three stacked axes with one run's curves (shared by the study's example)."""
    import matplotlib.dates as mdates

    snap, s = result.snap, result.start
    tf = snap.timeframe_ms
    ms = np.concatenate([[snap.times[s]], snap.times[s:result.stop] + tf])
    when = (ms.astype("datetime64[ms]")).astype("O")
    stress = stress_of(result)
    ax_eq, ax_dd, ax_px = axes
    for name, run in result.runs.items():
        pnl = np.concatenate([[0.0], run.pnl]) / run.collateral * 100
        label = _("{strategy} ({collateral:,.0f} USDT)").format(strategy=name,
                                                                collateral=run.collateral)
        line, = ax_eq.plot(when, pnl, lw=1.2, label=label)
        ax_dd.plot(when, (pnl - np.maximum.accumulate(pnl)), lw=1.0, color=line.get_color())
        for x in run.liquidations:
            k = x.t - s + 1
            ax_eq.plot(when[k], pnl[k], marker="x" if x.main else "v", ms=8 if x.main else 5,
                       color=line.get_color())
    main = result.prepared.target
    ax_px.plot(when[1:], snap.close[s:result.stop, main], lw=0.8, color="0.3")
    if np.isfinite(result.main_liq_price):
        ax_px.axhline(result.main_liq_price, color="red", lw=0.8, ls="--",
                      label=_("unhedged isolated liquidation {price:.6g}").format(
                          price=result.main_liq_price))
        ax_px.legend(loc="best", fontsize=7)
    for a, b in M.windows(stress):
        for ax in axes:
            ax.axvspan(when[a], when[b + 1], color="orange", alpha=0.15, lw=0)
    ax_eq.axhline(0, color="0.5", lw=0.6)
    ax_eq.set_ylabel(_("P&L, % of total collateral"))
    ax_eq.legend(loc="best", fontsize=7, ncol=2)
    ax_eq.set_title(title or _("Backtest"), fontsize=10)
    ax_dd.set_ylabel(_("drawdown, points"))
    ax_px.set_ylabel(snap.symbols[main].split("-")[0])
    ax_px.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))


def save_chart(result: BacktestResult, path: str | Path, title: str = "") -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(equity_chart(result, title))
    return p
