"""Trading costs of the backtest: taker fees, slippage and the funding schedule.

All of it is pure numpy over the snapshot's (T, N) grid, computed once before the bar loop.

* **Fee**: ``|Δsize| · fill price · taker fee`` on every change of a leg (opening, resizing,
  closing), paid from the account balance.
* **Slippage**: a fill costs ``s · |order notional|`` with

      s = k_vol · σ_bar + k_size · order notional / typical bar volume notional

  where ``σ_bar`` is the standard deviation of the symbol's 15m log returns over the last
  ``window`` bars *before* the bar the order fills in, and the typical volume notional is the
  mean of ``close · volume`` over the same bars. Both are known at the decision time, so the
  cost model cannot peek either. Slippage is booked as a cost; the fill price itself is the
  bar's open (so liquidation prices rest on the open, not on the slipped price).
* **Funding**: at each funding time the holder pays ``signed size · price · rate`` (longs pay
  a positive rate, shorts receive it), with the price the open of the bar containing the
  funding time. Rates come from the snapshot's funding series when they cover the bar; other
  funding times use ``default_rate`` every ``interval`` hours from 00:00 UTC.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.returns import log_returns
from core.types import FloatArray, MarketSnapshot

HOUR_MS = 3_600_000


@dataclass(frozen=True)
class CostParams:
    """Fee, slippage and funding assumptions (see the module docstring)."""

    taker_fee: float | None = 0.0005  # None: each instrument's own taker_fee
    k_vol: float = 0.1  # slippage per unit of bar σ (0.1 · a 0.3 % bar = 3 bps)
    k_size: float = 0.1  # slippage per unit of order / typical bar volume notional
    window: int = 96  # bars (1 day of 15m) for σ and the typical volume
    default_funding: float = 0.0001  # per interval when no funding data covers a time
    funding_interval_hours: float = 8.0
    max_slippage: float = 0.05  # a cap: one fill never costs more than 5 %
    funding: bool = True  # False: no funding at all (a frictionless run, ``--funding off``)

    @property
    def frictionless(self) -> bool:
        """No fee, no slippage and no funding: a run an independent calculation can match."""
        return (self.taker_fee == 0.0 and self.k_vol == 0.0 and self.k_size == 0.0
                and not self.funding)


def rolling_mean_before(x: FloatArray, window: int) -> FloatArray:
    """Mean of the valid values among rows ``t−window … t−1`` for each row t (NaN if none).

    Prefix sums only: row t never depends on a row ≥ t.
    """
    x = np.asarray(x, dtype=np.float64)
    ok = np.isfinite(x)
    z = np.zeros((1, *x.shape[1:]))
    c = np.concatenate([z, np.cumsum(np.where(ok, x, 0.0), axis=0)])
    n = np.concatenate([z, np.cumsum(ok, axis=0, dtype=np.float64)])
    t = np.arange(x.shape[0])
    lo = np.maximum(t - window, 0)
    s = c[t] - c[lo]
    k = n[t] - n[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(k > 0, s / np.where(k > 0, k, 1.0), np.nan)


def sigma_before(close: FloatArray, window: int) -> FloatArray:
    """Per-bar σ of log returns over the ``window`` returns before each bar (causal)."""
    r = log_returns(close)
    m = rolling_mean_before(r, window)
    m2 = rolling_mean_before(r * r, window)
    return np.sqrt(np.maximum(m2 - m * m, 0.0))


def slippage_inputs(snap: MarketSnapshot, window: int) -> tuple[FloatArray, FloatArray]:
    """``(σ_bar, typical volume notional)`` of every bar and symbol, from earlier bars only."""
    sigma = sigma_before(snap.close, window)
    volume_notional = rolling_mean_before(snap.close * snap.volume, window)
    return sigma, volume_notional


def slippage_rate(sigma: float, order_notional: float, volume_notional: float,
                  p: CostParams) -> float:
    """The fraction of the order notional lost to slippage (always ≥ 0)."""
    s = p.k_vol * sigma if sigma == sigma else 0.0
    if volume_notional == volume_notional and volume_notional > 0:
        s += p.k_size * order_notional / volume_notional
    return min(max(s, 0.0), p.max_slippage)


def fee(notional: float, rate: float) -> float:
    """The taker fee of a fill of ``notional`` USDT (a cost, ≥ 0)."""
    return abs(notional) * rate


def funding_payment(signed_size: float, price: float, rate: float) -> float:
    """Cash received (negative: paid) by a leg of ``signed_size`` base units at a funding
    time: longs pay a positive rate, shorts receive it."""
    return -signed_size * price * rate


def funding_matrix(snap: MarketSnapshot, p: CostParams) -> tuple[FloatArray, list[str]]:
    """(T, N) funding rate charged at each bar (0 where no funding time falls in the bar),
    and one note per symbol saying where its rates came from.

    A funding time f is charged at the bar with ``times[t] ≤ f < times[t] + timeframe``.
    Where the symbol's funding series has no value within one interval of f, the default
    rate is used at the regular schedule (every ``funding_interval_hours`` from 00:00 UTC).
    """
    t_ms, tf = snap.times, snap.timeframe_ms
    out = np.zeros((snap.n_bars, snap.n_symbols))
    if not snap.n_bars:
        return out, []
    if not p.funding:
        return out, ["Funding: off (--funding off): no leg pays or receives funding."]
    interval = int(p.funding_interval_hours * HOUR_MS)
    first = (int(t_ms[0]) // interval) * interval
    schedule = np.arange(first, int(t_ms[-1]) + tf, interval, dtype=np.int64)
    notes = []
    for j, sym in enumerate(snap.symbols):
        series = snap.funding.get(sym)
        times = np.zeros(0, np.int64)
        rates = np.zeros(0)
        if series is not None and len(series):
            keep = (series.times >= t_ms[0]) & (series.times < t_ms[-1] + tf)
            times, rates = series.times[keep], series.values[keep]
        if times.size:
            lo, hi = int(times[0]), int(times[-1])
            gaps = schedule[(schedule < lo - interval) | (schedule > hi + interval)]
        else:
            gaps = schedule
        all_t = np.concatenate([times, gaps])
        all_r = np.concatenate([rates, np.full(gaps.size, p.default_funding)])
        bar = np.searchsorted(t_ms, all_t, side="right") - 1
        inside = (bar >= 0) & (all_t < t_ms[np.maximum(bar, 0)] + tf)
        np.add.at(out[:, j], bar[inside], all_r[inside])
        short = sym.split("-")[0]
        if times.size and not gaps.size:
            notes.append(f"{short}: funding from the exchange's history ({times.size} times)")
        elif times.size:
            notes.append(f"{short}: funding history for {times.size} times, "
                         f"{p.default_funding:.4%} per {p.funding_interval_hours:g}h assumed "
                         f"for the {gaps.size} others")
        else:
            notes.append(f"{short}: no funding history; {p.default_funding:.4%} per "
                         f"{p.funding_interval_hours:g}h assumed (longs pay)")
    return out, notes
