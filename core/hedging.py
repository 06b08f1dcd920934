"""Minimum-variance hedge ratios, multi-leg hedges, and sizes a trader can place.

Conventions: returns are log returns per bar. A position's P&L per bar is approximately
``notional · r``, so a hedge of ``h`` USDT notional per USDT of position in instrument H
removes the most variance at ``h = −β`` with ``β = cov(X, H) / var(H)``: a long X is hedged
by a *short* of β × its notional in H. The share of variance removed is ρ² (hedge
effectiveness). Pairs use only bars where both returns exist (pairwise-complete), exactly an
ordinary least-squares slope with intercept on those bars.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np

from core.correlation import centred, pair_moments
from core.returns import as_2d
from core.types import FloatArray, Instrument


@dataclass(frozen=True)
class PairFit:
    """β of X on H, correlation ρ, effectiveness ρ², and how many bars it rests on."""

    beta: float
    rho: float
    effectiveness: float
    n_obs: int


def pair_fit(x: FloatArray, h: FloatArray, min_periods: int) -> PairFit:
    """Minimum-variance β of ``x`` on ``h`` over the rows where both exist; NaN below
    ``min_periods`` rows or when ``h`` does not move."""
    ok = np.isfinite(x) & np.isfinite(h)
    n = int(ok.sum())
    if n < max(min_periods, 2):
        return PairFit(np.nan, np.nan, np.nan, n)
    xo, ho = x[ok] - x[ok].mean(), h[ok] - h[ok].mean()
    vh, vx = float(ho @ ho), float(xo @ xo)
    if vh <= 0 or vx <= 0:
        return PairFit(np.nan, np.nan, np.nan, n)
    cov = float(xo @ ho)
    rho = float(np.clip(cov / np.sqrt(vh * vx), -1.0, 1.0))
    return PairFit(cov / vh, rho, rho * rho, n)


def beta_matrix(returns: FloatArray, window: int, min_periods: int
                ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """β and ρ of every pair over the last ``window`` returns, pairwise-complete.

    Returns ``(beta, rho, n_obs)``, each (N, N), with ``beta[i, j]`` the hedge ratio of a
    position in i hedged with j (units of j's notional per unit of i's); NaN where a pair has
    fewer than ``min_periods`` common bars. Equal to ``pair_fit`` on every pair, in one pass.
    """
    r = as_2d(returns)[-window:]
    x, m = centred(r)
    n = m.T @ m
    sx = x.T @ m
    sxx = (x * x).T @ m
    cov, rho, _vx, vy = pair_moments(n, sx, sx.T, sxx, sxx.T, x.T @ x, min_periods)
    with np.errstate(invalid="ignore", divide="ignore"):
        beta = np.where(vy > 0, cov / vy, np.nan)
    return beta, rho, n


def ewma_beta_matrix(cov: FloatArray) -> FloatArray:
    """β from an EWMA covariance matrix: ``cov[i, j] / cov[j, j]``."""
    var = np.diagonal(cov)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(var[None, :] > 0, cov / var[None, :], np.nan)


@dataclass(frozen=True)
class MultiLegFit:
    """Hedge notionals per unit of the position, one per hedge instrument (negative = short).

    ``effectiveness`` is the share of the position's variance the legs remove; ``condition``
    is the condition number of Σ_HH: above ~1e3 the legs are nearly collinear and the split
    between them is unstable even if the total is fine.
    """

    weights: FloatArray
    effectiveness: float
    condition: float
    ridge: float


def multi_leg(cov: FloatArray, target: int, hedges: Sequence[int], ridge: float = 1e-6
              ) -> MultiLegFit:
    """Solve Σ_HH h = Σ_H,X for several hedge instruments, regularised.

    ``ridge`` is relative: λ = ridge · mean(diag Σ_HH) is added to the diagonal, which keeps
    the solve stable when legs are nearly collinear (the usual case in a cascade) at the cost
    of a slightly smaller hedge. The weights are returned as *hedge* notionals, i.e. −h.
    """
    idx = list(hedges)
    s_hh = cov[np.ix_(idx, idx)]
    s_hx = cov[idx, target]
    var_x = cov[target, target]
    if not (np.all(np.isfinite(s_hh)) and np.all(np.isfinite(s_hx)) and np.isfinite(var_x)
            and var_x > 0):
        k = len(idx)
        return MultiLegFit(np.full(k, np.nan), np.nan, np.nan, ridge)
    lam = ridge * float(np.mean(np.diagonal(s_hh)))
    a = s_hh + lam * np.eye(len(idx))
    h = cast(FloatArray, np.linalg.solve(a, s_hx))  # float64 in, float64 out; stubs say floating
    # Var(X − h'H) = σ²_X − 2 h'Σ_HX + h'Σ_HH h: the share removed, exact for any λ.
    removed = 2 * float(h @ s_hx) - float(h @ s_hh @ h)
    eff = float(np.clip(removed / var_x, 0.0, 1.0))
    return MultiLegFit(-h, eff, float(np.linalg.cond(s_hh)), ridge)


MAX_CONDITION = 1_000.0
"""The largest condition number of the hedge legs' *correlation* matrix for which a multi-leg
hedge is sized. Two legs with correlation ρ give (1 + |ρ|) / (1 − |ρ|), so 1,000 is |ρ| ≈ 0.998:
legs that are in effect one instrument (or one leg a mix of the others), where how the hedge is
split between them is noise however well the total is estimated. Crypto majors sit at ρ ≈ 0.8–
0.95 even in a cascade (condition 9–39 for two legs, under 60 for three). Scale-free, unlike
the covariance matrix's condition, which grows with the ratio of the legs' variances."""


@dataclass(frozen=True)
class Collinearity:
    """Whether hedge legs can be sized apart: ``condition`` of their correlation matrix (inf
    when a leg does not move or lacks data) and, when it is above ``MAX_CONDITION``, ``drop``:
    the position in ``hedges`` of the leg to leave out."""

    condition: float
    drop: int | None = None

    @property
    def ill_posed(self) -> bool:
        return not self.condition <= MAX_CONDITION


def leg_condition(cov: FloatArray, hedges: Sequence[int]) -> float:
    """Condition number of the correlation matrix of ``hedges`` (1 for a single leg)."""
    idx = list(hedges)
    s = cov[np.ix_(idx, idx)]
    sd = np.sqrt(np.diagonal(s))
    if not (np.all(np.isfinite(s)) and np.all(sd > 0)):
        return float("inf")
    return float(np.linalg.cond(s / np.outer(sd, sd)))


def collinearity(cov: FloatArray, target: int, hedges: Sequence[int]) -> Collinearity:
    """Are the legs sizeable apart? If not, which one to drop: preferably one whose removal
    leaves well-posed legs, among those the leg least correlated with the target (the least
    useful hedge), else the one whose removal lowers the condition most."""
    idx = list(hedges)
    cond = leg_condition(cov, idx)
    if cond <= MAX_CONDITION or len(idx) < 2:
        return Collinearity(cond)
    var_x = cov[target, target]

    def cost(k: int) -> tuple[bool, float, float]:
        rest = leg_condition(cov, idx[:k] + idx[k + 1:])
        with np.errstate(invalid="ignore", divide="ignore"):
            rho = abs(cov[idx[k], target]) / np.sqrt(cov[idx[k], idx[k]] * var_x)
        well = rest <= MAX_CONDITION
        return (not well, 0.0 if well else rest, float(np.nan_to_num(rho, nan=0.0)))

    return Collinearity(cond, min(range(len(idx)), key=cost))


def portfolio_hedge(cov: FloatArray, exposures: FloatArray, hedges: Sequence[int],
                    ridge: float = 1e-6) -> MultiLegFit:
    """Hedge a whole portfolio together: ``exposures`` are signed USDT notionals per symbol.

    The portfolio is one synthetic asset whose per-bar P&L is w·r, with covariance Σ·w with
    every instrument; the legs come back as USDT notionals (negative = short) that minimise
    the hedged portfolio's P&L variance.
    """
    w = np.nan_to_num(np.asarray(exposures, dtype=np.float64))
    held = np.flatnonzero(w)
    sub = cov[np.ix_(held, held)]
    if not np.all(np.isfinite(sub)):
        return MultiLegFit(np.full(len(hedges), np.nan), np.nan, np.nan, ridge)
    n = cov.shape[0]
    ext = np.zeros((n + 1, n + 1))
    ext[:n, :n] = np.nan_to_num(cov)
    ext[n, :n] = ext[:n, n] = np.nan_to_num(cov) @ w
    ext[n, n] = w @ np.nan_to_num(cov) @ w
    # The synthetic asset's P&L is already in USDT, so its hedge weights are USDT notionals.
    return multi_leg(ext, n, hedges, ridge)


@dataclass(frozen=True)
class HedgeLeg:
    """One leg to place: a trader reads side and size; contracts for OKX-style order entry."""

    symbol: str
    side: str  # "long" | "short"
    size: float  # base units
    contracts: float
    notional: float  # USDT, positive
    beta: float  # the ratio it was sized with (hedge notional per position notional)


def size_leg(instrument: Instrument, hedge_notional: float, price: float, beta: float
             ) -> HedgeLeg | None:
    """Turn a signed hedge notional (negative = short) into a leg; None when not available."""
    if not (np.isfinite(hedge_notional) and np.isfinite(price) and price > 0):
        return None
    size = abs(hedge_notional) / price
    return HedgeLeg(
        symbol=instrument.symbol,
        side="short" if hedge_notional < 0 else "long",
        size=size,
        contracts=size / instrument.contract_value if instrument.contract_value > 0 else np.nan,
        notional=abs(hedge_notional),
        beta=beta,
    )
