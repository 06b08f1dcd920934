"""A whole book under one shock: move one asset (or the market) and every other asset by its
stress beta to it, then see what liquidates, in what order, and what the account is left with.

Prices move along one path: the driver's log price by ``f·x`` as ``f`` goes from 0 to 1
(``x = ln(1 + move)``), asset i's by ``β_i·f·x``, β_i its stress beta to the driver (the
regression slope of its returns on the driver's over the stress bars the counterweight
finder uses, ``core.counterweights.stress_mask``). Each position's liquidation is therefore
crossed at most once, at ``f = ln(liq/mark) / (β·x)``.

* An isolated position is liquidated when its own liquidation price is crossed; its loss
  stops at its margin.
* The cross positions share one collateral (the margins logged with them, as
  ``jobs.trade_truth`` judges them): equity = collateral + Σ P&L, maintenance =
  Σ size · price · (mmr + fee) (OKX's ratio); the account — every cross position together —
  is liquidated at the first ``f`` where equity meets maintenance, and its positions are
  closed there: their P&L and the account's equity after are those at that point (the
  market moving on does not take more than the collateral).

``joint_liquidation_move`` answers the inverse: how far the driver must move (its adverse
direction) before the account is liquidated — the cross account's liquidation price of a
position when every other position moves with it, not held still.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from core.hedging import beta_matrix
from core.types import BoolArray, FloatArray
from core.types import as_floats as _f

GRID = 4001  # points along the path searched for the account's liquidation before bisection
MAX_DOWN = math.log(0.001)  # the search stops at −99.9 % …
MAX_UP = math.log(20.0)  # … and at +1,900 % of the driver


def stress_betas(returns: FloatArray, stress: BoolArray, min_periods: int) -> FloatArray:
    """(N, N) signed β of column i on column j over the stress rows (``beta[i, j]``: i's move
    per unit move of j), NaN where a pair has fewer than ``min_periods`` stress bars."""
    rows = np.asarray(returns, dtype=np.float64)[np.asarray(stress, dtype=bool)]
    beta, _, _ = beta_matrix(rows, max(rows.shape[0], 1), min_periods)
    return beta


def betas_on(returns: FloatArray, driver: FloatArray, stress: BoolArray,
             min_periods: int) -> FloatArray:
    """(N,) signed β of each column on one ``driver`` return series (the market index) over
    the stress rows; NaN with fewer than ``min_periods`` common stress bars."""
    both = np.column_stack([np.asarray(returns, dtype=np.float64),
                            np.asarray(driver, dtype=np.float64)])
    beta = stress_betas(both, stress, min_periods)
    out: FloatArray = beta[:-1, -1]
    return out


@dataclass(frozen=True, eq=False)
class Book:
    """The positions, one entry each. ``liq`` is each isolated position's liquidation price
    (ignored for cross ones); ``collateral`` the cross account's (0 without cross)."""

    sign: FloatArray
    size: FloatArray
    entry: FloatArray
    mark: FloatArray
    margin: FloatArray
    mmr: FloatArray
    fee: FloatArray
    liq: FloatArray
    cross: BoolArray
    collateral: float

    @classmethod
    def of(cls, *, sign: npt.ArrayLike, size: npt.ArrayLike, entry: npt.ArrayLike,
           mark: npt.ArrayLike, margin: npt.ArrayLike, mmr: npt.ArrayLike,
           fee: npt.ArrayLike, liq: npt.ArrayLike, cross: npt.ArrayLike) -> Book:
        c = np.asarray(cross, dtype=bool)
        m = _f(margin)
        return cls(_f(sign), _f(size), _f(entry), _f(mark), m, _f(mmr), _f(fee), _f(liq), c,
                   float(m[c].sum()))

    def pnl(self, prices: FloatArray) -> FloatArray:
        """Unrealised P&L at ``prices`` (isolated losses stop at the margin)."""
        raw = self.sign * self.size * (prices - self.entry)
        return np.where(self.cross, raw, np.maximum(raw, -self.margin))

    def account(self, prices: FloatArray) -> tuple[FloatArray, FloatArray]:
        """The cross account's equity and maintenance margin at each row of ``prices``
        (shape (..., positions))."""
        c = self.cross
        eq = self.collateral + (self.sign * self.size * (prices - self.entry) * c).sum(axis=-1)
        mm = (self.size * prices * (self.mmr + self.fee) * c).sum(axis=-1)
        return eq, mm


@dataclass(frozen=True, eq=False)
class ShockResult:
    prices_after: FloatArray  # per position
    pnl_now: FloatArray
    pnl_after: FloatArray
    liquidated_at: FloatArray  # f in (0, 1] at which the position is liquidated, NaN if not
    order: FloatArray  # 1, 2, … in the order they liquidate; NaN for survivors
    account_at: float  # f at which the cross account is liquidated (NaN: it survives)
    equity_now: float
    equity_after: float  # where the account was liquidated, if it was
    maintenance_after: float


def prices_along(book: Book, beta: FloatArray, x: float, f: npt.ArrayLike) -> FloatArray:
    """Each position's price at fractions ``f`` of the driver's log move ``x``:
    shape (len(f), positions)."""
    ff = _f(f).reshape(-1, 1)
    return book.mark * np.exp(_f(beta) * x * ff)


def _first_breach(book: Book, beta: FloatArray, x: float, f_max: float) -> float:
    """The smallest f in (0, f_max] where the cross account's equity meets maintenance (NaN
    when it never does, or there are no cross positions): a grid, then bisection."""
    if not book.cross.any():
        return math.nan
    grid = np.linspace(0.0, f_max, GRID)
    eq, mm = book.account(prices_along(book, beta, x, grid))
    below = np.flatnonzero(eq <= mm)
    if below.size == 0:
        return math.nan
    k = int(below[0])
    if k == 0:
        return 0.0
    lo, hi = float(grid[k - 1]), float(grid[k])
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        e, m = book.account(prices_along(book, beta, x, [mid]))
        lo, hi = (lo, mid) if e[0] <= m[0] else (mid, hi)
    return hi


def apply_shock(book: Book, beta: npt.ArrayLike, move: float) -> ShockResult:
    """The book after the driver moves by ``move`` (a fraction: −0.1 is −10 %) and each
    position's asset by its ``beta`` to it (see the module docstring)."""
    if not move > -1.0:
        raise ValueError(f"a move must be above −100 %, not {move:.2%}")
    b = _f(beta)
    x = math.log1p(move)
    after = prices_along(book, b, x, [1.0])[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        f_iso = np.log(book.liq / book.mark) / (b * x)
    iso = ~book.cross & (book.liq > 0) & np.isfinite(book.liq)
    past = iso & (book.sign * (book.mark - book.liq) <= 0)  # at or beyond it already
    iso_hit = iso & ~past & np.isfinite(f_iso) & (f_iso > 0) & (f_iso <= 1)
    at = np.where(past, 0.0, np.where(iso_hit, f_iso, np.nan))
    acct = _first_breach(book, b, x, 1.0)
    at = np.where(book.cross, acct, at)
    order = np.full(at.shape, np.nan)
    hit = np.flatnonzero(np.isfinite(at))
    ranks = np.unique(at[hit], return_inverse=True)[1] + 1 if hit.size else np.zeros(0)
    order[hit] = ranks
    pnl_after = book.pnl(after)
    pnl_after = np.where(np.isfinite(at) & ~book.cross, -book.margin, pnl_after)
    eq_now, _ = book.account(book.mark[None, :])
    eq_after, mm_after = book.account(after[None, :])
    if math.isfinite(acct):  # the cross positions are closed where the account went
        at_liq = prices_along(book, b, x, [acct])[0]
        pnl_after = np.where(book.cross, book.pnl(at_liq), pnl_after)
        eq_after, mm_after = book.account(at_liq[None, :])
    return ShockResult(after, book.pnl(book.mark), pnl_after, at, order, acct,
                       float(eq_now[0]), float(eq_after[0]), float(mm_after[0]))


def joint_liquidation_move(book: Book, beta: npt.ArrayLike, down: bool) -> float:
    """The driver's move (a fraction: −0.31 is −31 %) at which the cross account is
    liquidated when every position moves by its beta, searching downwards or upwards to
    −99.9 % / +1,900 %; NaN when it never is, 0.0 when it already is."""
    x = MAX_DOWN if down else MAX_UP
    f = _first_breach(book, _f(beta), x, 1.0)
    return math.nan if math.isnan(f) else math.expm1(f * x)


def cross_liquidation_prices(book: Book, beta: npt.ArrayLike) -> FloatArray:
    """For each cross position i, the price of its asset at which the cross account is
    liquidated when i's asset moves against i and every position's asset k moves by
    ``beta[k, i]`` times as much (log): co-movement, not one price at a time. NaN for
    isolated positions and where no move to −99.9 % / +1,900 % liquidates the account;
    the mark itself when the account is already below maintenance."""
    b = _f(beta)
    out = np.full(book.sign.shape, np.nan)
    for i in np.flatnonzero(book.cross):
        move = joint_liquidation_move(book, b[:, i], down=bool(book.sign[i] > 0))
        if math.isfinite(move):
            out[i] = book.mark[i] * (1.0 + move)
    return out
