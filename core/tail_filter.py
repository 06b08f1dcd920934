"""The filter and the blocks of the calibrated tail model (``core.tail_risk``): each bar as
a residual in units of the volatility known when it opened, and runs of bars reduced to the
four numbers a simulated path needs. Arrays in, arrays out; no randomness here."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.returns import as_2d
from core.types import BoolArray, FloatArray


def ewma_variance(returns: FloatArray, halflife_bars: float, warm: int) -> FloatArray:
    """Zero-mean EWMA variance after each row of (T, S) returns: ``v = λ·v + (1 − λ)·r²``
    on a row with a return, unchanged on a row without (a missing bar neither decays nor
    feeds it); started at the mean square of each column's first ``warm`` returns, NaN
    before its first return.

    Closed form per chunk of rows (``λ^−k`` over a whole year would overflow), which is the
    same recursion to rounding.
    """
    r = as_2d(returns)
    t_len = r.shape[0]
    out = np.full(r.shape, np.nan)
    if t_len == 0:
        return out
    lam = 0.5 ** (1.0 / halflife_bars)
    ok = np.isfinite(r)
    r2 = np.where(ok, r * r, 0.0)
    seen = np.cumsum(ok, axis=0)
    first = ok & (seen <= max(1, warm))
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.where(first, r2, 0.0).sum(axis=0) / first.sum(axis=0)
    v = np.where(np.isfinite(v), v, 0.0)
    chunk = max(1, int(200 * halflife_bars))  # λ^−chunk = 2^200 at most
    for lo in range(0, t_len, chunk):
        seg, okc = r2[lo:lo + chunk], ok[lo:lo + chunk]
        n = np.cumsum(okc, axis=0).astype(np.float64)  # returns so far in the chunk
        acc = np.cumsum(np.where(okc, seg * lam ** -n, 0.0), axis=0) * (1.0 - lam)
        out[lo:lo + seg.shape[0]] = lam ** n * (v + acc)
        v = out[lo + seg.shape[0] - 1]
    out[seen == 0] = np.nan
    return out


@dataclass(frozen=True, eq=False)
class Standardised:
    """The filter's output for (T, S) bars: residual triples and the two σ levels."""

    z: FloatArray  # (T, S, 3) close, low, high in units of the σ known at the bar's open
    valid: BoolArray  # (T, S) rows of z that are usable
    sigma_now: FloatArray  # (S,)
    sigma_typ: FloatArray  # (S,) geometric mean over the window (after the warm-up)


def standardise(close: FloatArray, high: FloatArray, low: FloatArray,
                halflife_bars: float) -> Standardised:
    """Standardised (close, low, high) of every bar relative to the close before it and the
    σ known then; a bar or a previous close missing makes the row unusable, as do each
    symbol's first two half-lives of returns (its filter is still settling)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        lc = np.log(close)
        r = np.full(lc.shape, np.nan)
        r[1:] = lc[1:] - lc[:-1]
        lo_ = np.minimum(np.log(low[1:]) - lc[:-1], 0.0)
        hi_ = np.maximum(np.log(high[1:]) - lc[:-1], 0.0)
    warm = max(2, int(2 * halflife_bars))
    var = ewma_variance(r, halflife_bars, 2 * warm)
    sig = np.sqrt(var)
    settled = np.cumsum(np.isfinite(r), axis=0) > warm
    z = np.full((*lc.shape, 3), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        before = sig[:-1]
        z[1:, :, 0] = r[1:] / before
        z[1:, :, 1] = lo_ / before
        z[1:, :, 2] = hi_ / before
        z[~settled] = np.nan
        valid: BoolArray = np.asarray(np.isfinite(z).all(axis=2), dtype=bool)
        use = settled & (sig > 0)
        typical = np.exp(np.where(use, np.log(sig), 0.0).sum(axis=0) / use.sum(axis=0))
    now = sig[-1] if sig.shape[0] else np.full(sig.shape[1], np.nan)
    return Standardised(z, valid, now, typical)


def window_extreme(a: FloatArray, k: int, op: np.ufunc) -> FloatArray:
    """``op`` (np.minimum or np.maximum) over each run of ``k`` columns along the last axis:
    out[..., i] = op over a[..., i:i+k]; shape (..., n − k + 1). By doubling: the extreme of
    two overlapping power-of-two runs, log2(k) passes instead of k."""
    span, m = 1, a
    while 2 * span <= k:
        m = op(m[..., :-span], m[..., span:])
        span *= 2
    if span < k:
        m = op(m[..., : m.shape[-1] - (k - span)], m[..., k - span:])
    return m


def block_summaries(st: Standardised, block: int, halflife_bars: float,
                    lengths: tuple[int, ...]) -> tuple[dict[int, FloatArray], BoolArray]:
    """For every symbol and start bar: (end return, lowest low, highest high, σ multiplier)
    of the ``k`` bars from it with σ = 1 at the start and the EWMA recursion inside, for
    each ``k`` in ``lengths`` — shape (S, n_starts, 4) — and which starts have a full block
    of usable bars, shape (S, n_starts).

    By prefix sums instead of a loop over the bars: with L the running sum of the log σ
    multipliers and E = e^L, a run from bar i has σ_k = E[i+k]/E[i], its return to bar k is
    (W[i+k] − W[i])/E[i] with W the running sum of E·z, and its lowest low the window
    minimum of W + E·z_low, less W[i], over E[i].
    """
    lam = 0.5 ** (1.0 / halflife_bars)
    valid = np.ascontiguousarray(st.valid.T)  # (S, T): each symbol's bars contiguous
    z = np.where(valid[..., None], np.ascontiguousarray(st.z.transpose(1, 0, 2)), 0.0)
    n_sym, t_len = valid.shape
    n = t_len - block + 1
    if n <= 0:
        return {}, np.zeros((n_sym, 0), dtype=bool)
    zc = z[..., 0]
    log_e = np.zeros((n_sym, t_len + 1))
    np.cumsum(0.5 * np.log(lam + (1.0 - lam) * zc * zc), axis=1, out=log_e[:, 1:])
    log_e -= log_e.mean(axis=1, keepdims=True)  # keeps e^L within range over the window
    e = np.exp(log_e)
    w = np.zeros((n_sym, t_len + 1))
    np.cumsum(e[:, :-1] * zc, axis=1, out=w[:, 1:])
    low_path = w[:, :-1] + e[:, :-1] * z[..., 1]  # bar m's low, in running-sum terms
    high_path = w[:, :-1] + e[:, :-1] * z[..., 2]
    bad = np.zeros((n_sym, t_len + 1))
    np.cumsum(~valid, axis=1, out=bad[:, 1:])
    e0, w0 = e[:, :n], w[:, :n]
    out: dict[int, FloatArray] = {}
    for k in sorted(set(lengths) | {block}):
        lows = window_extreme(low_path, k, np.minimum)[:, :n]
        highs = window_extreme(high_path, k, np.maximum)[:, :n]
        summ = np.empty((n_sym, n, 4))
        summ[..., 0] = (w[:, k:k + n] - w0) / e0
        summ[..., 1] = np.minimum((lows - w0) / e0, 0.0)
        summ[..., 2] = np.maximum((highs - w0) / e0, 0.0)
        summ[..., 3] = e[:, k:k + n] / e0
        out[k] = summ
    full_ok = (bad[:, block:block + n] - bad[:, :n]) == 0
    return out, full_ok
