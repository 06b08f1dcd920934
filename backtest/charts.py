"""The backtest chart: equity curves and drawdowns per strategy, stress windows shaded."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from backtest import metrics as M
from backtest.engine import BacktestResult
from backtest.report import stress_of


def equity_chart(result: BacktestResult, title: str = "") -> bytes:
    """PNG bytes: equity (top), drawdown (middle), the main symbol's close (bottom)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    snap, s = result.snap, result.start
    tf = snap.timeframe_ms
    ms = np.concatenate([[snap.times[s]], snap.times[s:] + tf])
    when = (ms.astype("datetime64[ms]")).astype("O")
    stress = stress_of(result)
    fig, axes = plt.subplots(3, 1, figsize=(11, 8.5), sharex=True,
                             gridspec_kw={"height_ratios": [3, 1.6, 1.2]})
    ax_eq, ax_dd, ax_px = axes
    cap = result.params.capital
    for name, run in result.runs.items():
        eq = np.concatenate([[cap], run.equity[s:]])
        line, = ax_eq.plot(when, eq, lw=1.2, label=name)
        ax_dd.plot(when, M.drawdown(eq) * 100, lw=1.0, color=line.get_color())
        for x in run.liquidations:
            k = x.t - s + 1
            ax_eq.plot(when[k], eq[k], marker="x" if x.main else "v", ms=8 if x.main else 5,
                       color=line.get_color())
    ax_px.plot(when[1:], snap.close[s:, snap.index(result.params.main)], lw=0.8, color="0.3")
    ax_px.axhline(result.main_liq_price, color="red", lw=0.8, ls="--",
                  label=f"main liquidation {result.main_liq_price:.6g}")
    for a, b in M.windows(stress):
        for ax in axes:
            ax.axvspan(when[a], when[b + 1], color="orange", alpha=0.15, lw=0)
    ax_eq.axhline(cap, color="0.5", lw=0.6)
    ax_eq.set_ylabel("equity, USDT")
    ax_eq.legend(loc="best", fontsize=8, ncol=3)
    ax_eq.set_title(title or "Backtest", fontsize=10)
    ax_dd.set_ylabel("drawdown, %")
    ax_px.set_ylabel(result.params.main.split("-")[0])
    ax_px.legend(loc="best", fontsize=7)
    ax_px.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    fig.text(0.01, 0.005, "shaded: stress windows (cascade level high or above, padded); "
             "x: main liquidated, v: hedge leg liquidated" +
             ("  — SIMULATED market" if snap.simulated else ""), fontsize=7)
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()


def save_chart(result: BacktestResult, path: str | Path, title: str = "") -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(equity_chart(result, title))
    return p
