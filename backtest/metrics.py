"""Performance metrics of an equity path: pure functions over arrays.

Conventions: ``equity`` is the account value after each bar's close, starting with the
capital before the first bar (length bars + 1). Per-bar and window returns are P&L over that
starting capital (a fixed stake: a 10x account can end below zero, where ratios to the
running equity mean nothing); drawdowns are measured from the running peak. Sharpe and
Sortino are annualised for 24/7 markets (``core.returns.bars_per_year``), with a zero
risk-free rate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from core.returns import bars_per_year
from core.types import BoolArray, FloatArray

STRESS_SCORE = 50.0
"""Cascade score from which a bar counts as stressed: level "high" or "cascade"."""


def bar_returns(equity: FloatArray) -> FloatArray:
    """Per-bar P&L over the starting capital ``equity[0]`` (one fewer than ``equity``).

    Returns on a fixed stake rather than on the running equity: a leveraged account can
    end below zero, where a ratio to the running equity means nothing.
    """
    e = np.asarray(equity, dtype=np.float64)
    if e.size < 2 or not e[0] > 0:
        return np.full(max(e.size - 1, 0), np.nan)
    out: FloatArray = np.diff(e) / e[0]
    return out


def total_return(equity: FloatArray) -> float:
    """Last equity over the first, minus one (below −100 % when hedge collateral was lost)."""
    e = np.asarray(equity, dtype=np.float64)
    return float(e[-1] / e[0] - 1.0) if e.size and e[0] > 0 else math.nan


def drawdown(equity: FloatArray) -> FloatArray:
    """Equity over its running peak, minus one (0 at a new high, negative below it)."""
    e = np.asarray(equity, dtype=np.float64)
    peak = np.maximum.accumulate(e)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(peak > 0, e / peak - 1.0, np.nan)


def max_drawdown(equity: FloatArray) -> float:
    """The deepest drawdown, as a negative fraction (−0.35 = 35 % below the peak)."""
    d = drawdown(equity)
    return float(np.nanmin(d)) if np.isfinite(d).any() else math.nan


def worst_window(equity: FloatArray, bars: int) -> float:
    """The worst P&L over any ``bars`` consecutive bars (overlapping windows), as a fraction
    of the starting capital."""
    e = np.asarray(equity, dtype=np.float64)
    if e.size < 2 or bars < 1 or not e[0] > 0:
        return math.nan
    bars = min(bars, e.size - 1)  # a path shorter than the window: its whole return
    return float(np.min(e[bars:] - e[:-bars]) / e[0])


def time_under_water(equity: FloatArray) -> float:
    """Fraction of bars spent below the previous peak."""
    e = np.asarray(equity, dtype=np.float64)
    if e.size < 2:
        return 0.0
    peak = np.maximum.accumulate(e)
    return float(np.mean(e[1:] < peak[1:] * (1 - 1e-12)))


def sharpe(returns: FloatArray, timeframe_ms: int) -> float:
    """Annualised mean over standard deviation of per-bar returns (NaN if flat)."""
    r = np.asarray(returns, dtype=np.float64)
    r = r[np.isfinite(r)]
    if r.size < 2:
        return math.nan
    sd = float(np.std(r, ddof=1))
    if not sd > 0:
        return math.nan
    return float(np.mean(r)) / sd * math.sqrt(bars_per_year(timeframe_ms))


def sortino(returns: FloatArray, timeframe_ms: int) -> float:
    """Annualised mean over downside deviation (root mean square of the negative returns)."""
    r = np.asarray(returns, dtype=np.float64)
    r = r[np.isfinite(r)]
    if r.size < 2:
        return math.nan
    dd = math.sqrt(float(np.mean(np.minimum(r, 0.0) ** 2)))
    if not dd > 0:
        return math.nan
    return float(np.mean(r)) / dd * math.sqrt(bars_per_year(timeframe_ms))


def stress_mask(score: FloatArray, pad_before: int, pad_after: int,
                threshold: float = STRESS_SCORE) -> BoolArray:
    """Bars with a cascade score ≥ ``threshold``, widened by the pads on each side.

    This marks bars for *evaluation* only: the pads look both ways, which is fine for
    grading a path after the fact and never feeds a decision.
    """
    s = np.asarray(score, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        hot = s >= threshold
    t = s.size
    diff = np.zeros(t + 1, dtype=np.int64)
    idx = np.flatnonzero(hot)
    np.add.at(diff, np.maximum(idx - pad_before, 0), 1)
    np.add.at(diff, np.minimum(idx + pad_after + 1, t), -1)
    return np.cumsum(diff[:-1]) > 0


def windows(mask: BoolArray) -> list[tuple[int, int]]:
    """``[(first, last)]`` index ranges of the True runs in ``mask``."""
    m = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    d = np.diff(m.astype(np.int8))
    starts, ends = np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def path_metrics(equity: FloatArray, timeframe_ms: int) -> dict[str, float]:
    """Return, drawdown, worst 15m/1h/1d (in bars of the timeframe), time under water,
    Sharpe and Sortino of one equity path."""
    r = bar_returns(equity)
    per_hour = max(1, round(3_600_000 / timeframe_ms))
    per_day = max(1, round(86_400_000 / timeframe_ms))
    per_15m = max(1, round(900_000 / timeframe_ms))
    e = np.asarray(equity, dtype=np.float64)
    return {
        "total_return": total_return(e),
        "final_equity": float(e[-1]) if e.size else math.nan,
        "max_drawdown": max_drawdown(e),
        "worst_15m": worst_window(e, per_15m),
        "worst_1h": worst_window(e, per_hour),
        "worst_1d": worst_window(e, per_day),
        "time_under_water": time_under_water(e),
        "sharpe": sharpe(r, timeframe_ms),
        "sortino": sortino(r, timeframe_ms),
        "ruined": bool((e <= 0).any()),
    }


def subpath(equity: FloatArray, mask: BoolArray) -> FloatArray:
    """The equity path made of the bars in ``mask`` only (``mask`` has one entry per bar,
    ``equity`` one more): their P&L added up from the first equity value."""
    pnl = np.diff(np.asarray(equity, dtype=np.float64))[np.asarray(mask, dtype=bool)]
    e0 = float(np.asarray(equity)[0])
    return e0 + np.concatenate([[0.0], np.cumsum(pnl)])


def cost_totals(fees: FloatArray, funding: FloatArray, slippage: FloatArray,
                hedge: Sequence[FloatArray], traded: FloatArray, capital: float
                ) -> dict[str, float]:
    """Sums of the cost arrays (fees and slippage ≤ 0, funding signed), the hedge's own cost
    (fees + funding + slippage of the hedge legs, a positive number is a cost) and hedge
    turnover (traded notional over capital)."""
    h_fee, h_fund, h_slip = (float(np.sum(a)) for a in hedge)
    return {
        "fees": float(-np.sum(fees)),
        "funding": float(-np.sum(funding)),
        "slippage": float(-np.sum(slippage)),
        "hedge_cost": -(h_fee + h_fund + h_slip),
        "turnover": float(np.sum(traded)) / capital if capital > 0 else math.nan,
    }


def collateral_outcome(equity: FloatArray, deposits: FloatArray, *, liquidations: int,
                       hedge_liquidations: int = 0, hedge_cost: float = 0.0,
                       first_life: float | None = None, trades: int = 0) -> dict[str, float]:
    """One start's result on **total collateral** (everything deposited, ``deposits[-1]``):
    return ``(final equity − collateral) / collateral``; max drawdown as the deepest fall of
    P&L (equity less deposits so far) from its running peak, over the collateral (a positive
    fraction); hedge cost (hedge fees, slippage and funding paid, USDT) over the collateral."""
    e = np.asarray(equity, dtype=np.float64)
    d = np.asarray(deposits, dtype=np.float64)
    total = float(d[-1])
    pnl = np.concatenate([[0.0], e - d])
    depth = float(np.max(np.maximum.accumulate(pnl) - pnl))
    return {
        "return": (float(e[-1]) - total) / total,
        "survived": float(liquidations == 0),
        "liquidations": float(liquidations),
        "hedge_liquidations": float(hedge_liquidations),
        "max_drawdown": depth / total,
        "hedge_cost": hedge_cost / total,
        "collateral": total,
        "first_life_collateral": total if first_life is None else first_life,
        "trades": float(trades),
    }
