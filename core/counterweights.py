"""Counterweights: legs that *gain* in a cascade, found from how they behaved under stress.

The seed's "what most people don't know": a β hedge estimated on ordinary bars tells little
about a cascade, because in a cascade correlations change. A counterweight is judged on the
bars that look like a cascade (``stress`` bars: fast volatility in its top decile, or the
market correlation index z-score high) by four numbers:

(a) ``stress_corr``: correlation of the leg's P&L with the position's P&L on stress bars
    only — strongly negative is good (it pays when the position bleeds);
(b) ``vol_beta``: correlation of the leg's P&L with changes in realised volatility over all
    bars — positive is good (it gains as the market gets rougher);
(c) ``carry``: funding received (+) or paid (−) per day, as a fraction of notional;
(d) ``liquidity``: order-book depth within ±1 % of mid, USDT.

The combined score is ``0.5·(−stress_corr) + 0.3·vol_beta + 0.1·carry_score +
0.1·liquidity_score`` (carry and liquidity squashed to [−1, 1] and [0, 1]); every score is
returned as a number so a trader can disagree with the weighting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from core.types import BoolArray, FloatArray

WEIGHTS = {"stress_corr": 0.5, "vol_beta": 0.3, "carry": 0.1, "liquidity": 0.1}
CARRY_FULL = 0.001  # 0.1 % a day of carry counts fully
DEPTH_FULL = 10_000_000.0  # USDT within ±1 % that counts as fully liquid (log scale from 100k)


@dataclass(frozen=True)
class Counterweight:
    symbol: str
    side: str  # the side of the leg: "long" or "short"
    score: float
    stress_corr: float
    vol_beta: float
    carry_per_day: float  # fraction of notional; NaN when funding is unknown
    depth_usdt: float  # NaN when the order book is unknown
    stress_beta: float  # leg notional per unit of position notional that offsets stress P&L
    n_stress: int

    def to_dict(self) -> dict:
        def num(x: float) -> float | None:
            return float(x) if np.isfinite(x) else None

        return {"symbol": self.symbol, "side": self.side, "score": num(self.score),
                "stress_corr": num(self.stress_corr), "vol_beta": num(self.vol_beta),
                "carry_per_day": num(self.carry_per_day), "depth_usdt": num(self.depth_usdt),
                "stress_beta": num(self.stress_beta), "n_stress": self.n_stress}


@dataclass(frozen=True)
class CounterweightResult:
    legs: tuple[Counterweight, ...]
    n_stress: int
    enough_history: bool
    notes: tuple[str, ...] = field(default=())


def stress_mask(realised_vol: FloatArray, corr_z: FloatArray | None = None, *,
                quantile: float = 0.9, z_threshold: float = 2.0) -> BoolArray:
    """Bars that look like a cascade: market fast volatility in its top decile (of the
    history given), or the market correlation index z-score at or above ``z_threshold``."""
    v = np.asarray(realised_vol, dtype=np.float64)
    ok = np.isfinite(v)
    mask = np.zeros(v.shape, dtype=bool)
    if ok.sum() >= 10:
        mask |= ok & (v >= np.quantile(v[ok], quantile))
    if corr_z is not None:
        z = np.asarray(corr_z, dtype=np.float64)
        mask |= np.isfinite(z) & (z >= z_threshold)
    return mask


def _corr_with(y: FloatArray, xs: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Pairwise-complete correlation, covariance and variance of each column of ``xs`` with y."""
    ok = np.isfinite(xs) & np.isfinite(y)[:, None]
    n = ok.sum(axis=0).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        yb = np.where(ok, y[:, None], 0.0)
        xb = np.where(ok, xs, 0.0)
        my, mx = yb.sum(0) / n, xb.sum(0) / n
        dy, dx = np.where(ok, yb - my, 0.0), np.where(ok, xb - mx, 0.0)
        cov = (dy * dx).sum(0) / (n - 1)
        vx, vy = (dx * dx).sum(0) / (n - 1), (dy * dy).sum(0) / (n - 1)
        corr = np.where((vx > 0) & (vy > 0), cov / np.sqrt(vx * vy), np.nan)
    bad = n < 3
    corr[bad] = cov[bad] = vx[bad] = np.nan
    return corr, cov, vx


def counterweights(returns: FloatArray, symbols: Sequence[str], target: int, sign: int,
                   stress: BoolArray, vol_change: FloatArray, *,
                   funding_per_day: Mapping[str, float] | None = None,
                   depth_usdt: Mapping[str, float] | None = None, k: int = 3,
                   min_stress_bars: int = 24) -> CounterweightResult:
    """Rank every other instrument, long or short, as a counterweight to one position.

    Parameters
    ----------
    returns : (T, N) log returns; ``symbols`` names the columns.
    target, sign : column of the position and +1 long / −1 short.
    stress : (T,) bool, the stress bars (see ``stress_mask``).
    vol_change : (T,) change in market realised volatility per bar.
    funding_per_day : funding rate per day by symbol (positive: longs pay shorts).
    depth_usdt : order-book depth within ±1 % by symbol.
    """
    r = np.asarray(returns, dtype=np.float64)
    pos = sign * r[:, target]
    n_stress = int((stress & np.isfinite(pos)).sum())
    notes: list[str] = []
    if n_stress < min_stress_bars:
        notes.append(f"only {n_stress} stress bars (need {min_stress_bars}): too little "
                     "stress history to judge counterweights")
        return CounterweightResult((), n_stress, False, tuple(notes))
    s_corr, s_cov, s_var = _corr_with(pos[stress], r[stress])
    v_corr, _, _ = _corr_with(np.asarray(vol_change, dtype=np.float64), r)
    funding_per_day = funding_per_day or {}
    depth_usdt = depth_usdt or {}
    if not funding_per_day:
        notes.append("funding unknown: carry left out")
    if not depth_usdt:
        notes.append("order book unknown: liquidity left out")
    legs = []
    for j, sym in enumerate(symbols):
        if j == target or not np.isfinite(s_corr[j]):
            continue
        f = funding_per_day.get(sym, np.nan)
        depth = depth_usdt.get(sym, np.nan)
        liq = float(np.clip(np.log10(depth / 1e5) / np.log10(DEPTH_FULL / 1e5), 0, 1)) \
            if np.isfinite(depth) and depth > 0 else 0.0
        best = None
        for side in (1, -1):
            carry = -side * f  # a long pays positive funding, a short receives it
            score = (WEIGHTS["stress_corr"] * -(side * s_corr[j])
                     + WEIGHTS["vol_beta"] * np.nan_to_num(side * v_corr[j])
                     + WEIGHTS["carry"] * (np.clip(carry / CARRY_FULL, -1, 1)
                                           if np.isfinite(carry) else 0.0)
                     + WEIGHTS["liquidity"] * liq)
            stress_beta = abs(s_cov[j]) / s_var[j] if s_var[j] > 0 else np.nan
            cw = Counterweight(sym, "long" if side > 0 else "short", float(score),
                               float(side * s_corr[j]), float(side * v_corr[j]),
                               float(carry), float(depth), float(stress_beta), n_stress)
            if best is None or cw.score > best.score:
                best = cw
        if best is not None:
            legs.append(best)
    legs.sort(key=lambda c: -c.score)
    return CounterweightResult(tuple(legs[:k]), n_stress, True, tuple(notes))
