"""Counterweights: legs that *gain* in a cascade, found from how they behaved under stress.

The seed's "what most people don't know": a β hedge estimated on ordinary bars tells little
about a cascade, because in a cascade correlations change. A counterweight is judged on the
bars that look like a cascade (``stress`` bars: fast volatility in its top decile, or the
market correlation index z-score high) by four numbers:

(a) ``stress_corr``: correlation of the leg's P&L with the position's P&L on stress bars
    only — strongly negative is good (it pays when the position bleeds);
(a') ``convexity``: how much more negative that correlation is on stress bars than on calm
    ones (``calm_corr − stress_corr``). A plain short in a correlated coin is an ordinary
    β hedge: it offsets the position in calm and stress alike. A counterweight is a leg whose
    offset *appears* in the cascade — exactly when a static hedge fails;
(b) ``vol_beta``: correlation of the leg's P&L with changes in realised volatility over all
    bars — positive is good (it gains as the market gets rougher);
(c) ``carry``: funding received (+) or paid (−) per day, as a fraction of notional;
(d) ``liquidity``: order-book depth within ±1 % of mid, USDT.

The combined score is ``0.35·(−stress_corr) + 0.35·convexity + 0.2·vol_beta +
0.05·carry_score + 0.05·liquidity_score`` (carry and liquidity squashed to [−1, 1] and
[0, 1]): what a leg does in a cascade decides, carry and liquidity break ties. Every part is
returned as a number so a trader can disagree with the weighting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.correlation import window_moments
from core.hedging import beta_matrix
from core.types import BoolArray, FloatArray
from core.types import finite_or_none as _num

WEIGHTS = {"stress_corr": 0.35, "convexity": 0.35, "vol_beta": 0.2, "carry": 0.05,
           "liquidity": 0.05}
CARRY_FULL = 0.001  # 0.1 % a day of carry counts fully
DEPTH_FULL = 10_000_000.0  # USDT within ±1 % that counts as fully liquid (log scale from 100k)


@dataclass(frozen=True)
class Counterweight:
    symbol: str
    side: str  # the side of the leg: "long" or "short"
    score: float
    stress_corr: float
    calm_corr: float
    vol_beta: float
    carry_per_day: float  # fraction of notional; NaN when funding is unknown
    depth_usdt: float  # NaN when the order book is unknown
    stress_beta: float  # leg notional per unit of position notional that offsets stress P&L
    n_stress: int

    def to_dict(self) -> dict[str, Any]:
        return {"symbol": self.symbol, "side": self.side, "score": _num(self.score),
                "stress_corr": _num(self.stress_corr), "calm_corr": _num(self.calm_corr),
                "convexity": _num(self.calm_corr - self.stress_corr),
                "vol_beta": _num(self.vol_beta),
                "carry_per_day": _num(self.carry_per_day), "depth_usdt": _num(self.depth_usdt),
                "stress_beta": _num(self.stress_beta), "n_stress": self.n_stress}


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


@dataclass(frozen=True, eq=False)
class CounterweightBasis:
    """Everything the ranking needs, computed once for all positions of one snapshot."""

    symbols: tuple[str, ...]
    stress_corr: FloatArray  # (N, N) pairwise correlation on stress bars
    calm_corr: FloatArray  # (N, N) on the other bars
    stress_beta: FloatArray  # (N, N) |cov(i, j)| / var(j) on stress bars
    vol_beta: FloatArray  # (N,) correlation of each return with the volatility change
    funding_per_day: FloatArray  # (N,) NaN when unknown
    depth_usdt: FloatArray  # (N,) NaN when unknown
    n_stress: FloatArray  # (N,) stress bars with a return, per symbol
    notes: tuple[str, ...]


def _vector_corr(y: FloatArray, xs: FloatArray) -> FloatArray:
    """Pairwise-complete correlation of each column of ``xs`` with ``y``."""
    ok = np.isfinite(xs) & np.isfinite(y)[:, None]
    n = ok.sum(axis=0).astype(np.float64)
    if ok.shape[1] > 1 and (ok == ok[:, :1]).all():
        return _vector_corr_one_pattern(y, xs, ok[:, 0], n)
    with np.errstate(invalid="ignore", divide="ignore"):
        yb, xb = np.where(ok, y[:, None], 0.0), np.where(ok, xs, 0.0)
        dy = np.where(ok, yb - yb.sum(0) / n, 0.0)
        dx = np.where(ok, xb - xb.sum(0) / n, 0.0)
        den = np.sqrt((dx * dx).sum(0) * (dy * dy).sum(0))
        corr = np.where(den > 0, (dx * dy).sum(0) / den, np.nan)
    corr[n < 3] = np.nan
    return corr


def _vector_corr_one_pattern(y: FloatArray, xs: FloatArray, rows: BoolArray, n: FloatArray
                             ) -> FloatArray:
    """:func:`_vector_corr` when every column is present on the same ``rows`` (no gaps, or
    outages common to all): the same sums over those rows only, y as one more column so
    each is the same row-by-row sum, without (T, N) masks and copies of y."""
    z = np.column_stack([xs[rows], y[rows]])
    with np.errstate(invalid="ignore", divide="ignore"):
        z -= z.sum(axis=0) / n[0]
        ss = (z * z).sum(axis=0)
        den = np.sqrt(ss[:-1] * ss[-1])
        corr = np.where(den > 0, (z[:, :-1] * z[:, -1:]).sum(axis=0) / den, np.nan)
    corr[n < 3] = np.nan
    return corr


def counterweight_basis(returns: FloatArray, symbols: Sequence[str], stress: BoolArray,
                        vol_change: FloatArray, *,
                        funding_per_day: Mapping[str, float] | None = None,
                        depth_usdt: Mapping[str, float] | None = None) -> CounterweightBasis:
    """Stress and calm correlation matrices, stress betas and the per-leg numbers."""
    r = np.asarray(returns, dtype=np.float64)
    _, s_corr, _ = window_moments(r[stress], max(int(stress.sum()), 1), 3)
    _, c_corr, _ = window_moments(r[~stress], max(int((~stress).sum()), 1), 3)
    s_beta, _, _ = beta_matrix(r[stress], max(int(stress.sum()), 1), 3)
    funding_per_day = funding_per_day or {}
    depth_usdt = depth_usdt or {}
    notes = []
    if not funding_per_day:
        notes.append("funding unknown: carry left out")
    if not depth_usdt:
        notes.append("order book unknown: liquidity left out")
    return CounterweightBasis(
        tuple(symbols), s_corr, c_corr, np.abs(s_beta),
        _vector_corr(np.asarray(vol_change, dtype=np.float64), r),
        np.array([funding_per_day.get(x, np.nan) for x in symbols]),
        np.array([depth_usdt.get(x, np.nan) for x in symbols]),
        (np.isfinite(r) & stress[:, None]).sum(axis=0).astype(np.float64), tuple(notes))


def rank_counterweights(basis: CounterweightBasis, target: int, sign: int, *, k: int = 3,
                        min_stress_bars: int = 24) -> CounterweightResult:
    """Every other instrument, long or short, scored as a counterweight to one position."""
    return rank_counterweights_many(basis, [target], [sign], k=k,
                                    min_stress_bars=min_stress_bars)[0]


def rank_counterweights_many(basis: CounterweightBasis, targets: Sequence[int],
                             signs: Sequence[int], *, k: int = 3, min_stress_bars: int = 24
                             ) -> list[CounterweightResult]:
    """:func:`rank_counterweights` for many (target, sign) keys at once: one (K, N) score
    matrix per side instead of K small passes, since 10,000 positions in 100 symbols are
    up to 200 keys and the per-call overhead, not the arithmetic, was the cost."""
    t = np.asarray(targets, dtype=np.int64).reshape(-1)
    sg = np.asarray(signs, dtype=np.float64).reshape(-1)
    n_stress = [int(v) for v in basis.n_stress[t]]
    with np.errstate(invalid="ignore", divide="ignore"):
        depth = basis.depth_usdt
        liq = np.where(np.isfinite(depth) & (depth > 0), np.clip(
            np.log10(depth / 1e5) / np.log10(DEPTH_FULL / 1e5), 0, 1), 0.0)
    rows = np.arange(t.size)
    parts = []
    for side in (1.0, -1.0):
        flip = (side * sg)[:, None]
        sc = flip * basis.stress_corr[t]
        cc = flip * basis.calm_corr[t]
        vb = side * basis.vol_beta
        carry = -side * basis.funding_per_day  # a long pays positive funding
        score = (WEIGHTS["stress_corr"] * -sc + WEIGHTS["convexity"] * np.nan_to_num(cc - sc)
                 + WEIGHTS["vol_beta"] * np.nan_to_num(vb)
                 + WEIGHTS["carry"] * np.nan_to_num(np.clip(carry / CARRY_FULL, -1, 1))
                 + WEIGHTS["liquidity"] * liq)
        score[~np.isfinite(sc)] = -np.inf
        score[rows, t] = -np.inf
        parts.append((score, sc, cc, vb, carry))
    long_better = parts[0][0] >= parts[1][0]
    best = np.where(long_better, parts[0][0], parts[1][0])
    top = np.argsort(-best, axis=1, kind="stable")[:, :k]
    # the k best legs of every key, each number read at once from the better side's array
    q, lb = rows[:, None], long_better[rows[:, None], top]

    def pick(field: int, per_key: bool = True) -> list[list[float]]:
        at = (q, top) if per_key else top
        chosen: list[list[float]] = np.where(lb, parts[0][field][at], parts[1][field][at]).tolist()
        return chosen

    scores, stress_c, calm_c = pick(0), pick(1), pick(2)
    vol_b, carries = pick(3, per_key=False), pick(4, per_key=False)
    finite = np.isfinite(best[q, top]).tolist()
    cols, longs = top.tolist(), lb.tolist()
    s_beta = basis.stress_beta[t[:, None], top].tolist()
    depth_l = depth.tolist()
    out = []
    for i, n in enumerate(n_stress):
        if n < min_stress_bars:
            out.append(CounterweightResult((), n, False, (
                f"only {n} stress bars (need {min_stress_bars}): too little stress history "
                "to judge counterweights",)))
            continue
        legs = tuple(
            Counterweight(basis.symbols[j], "long" if longs[i][r] else "short", scores[i][r],
                          stress_c[i][r], calm_c[i][r], vol_b[i][r], carries[i][r], depth_l[j],
                          s_beta[i][r], n)
            for r, j in enumerate(cols[i]) if finite[i][r])
        out.append(CounterweightResult(legs, n, True, basis.notes))
    return out


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
    basis = counterweight_basis(returns, symbols, stress, vol_change,
                                funding_per_day=funding_per_day, depth_usdt=depth_usdt)
    return rank_counterweights(basis, target, sign, k=k, min_stress_bars=min_stress_bars)
