"""Incremental correlation state: one new bar updates the live fast, slow and EWMA matrices.

``stream_init(history, ...)`` builds the state from a return history with the batch
functions; ``stream_update(state, row)`` adds one bar of returns in O(N**2) (two rank-2
matrix products per window for the add/drop of a row, one pass of pandas' EWMA recursion
per pair) and returns a new state; ``stream_matrices(state)`` reads the matrices. The result
equals the batch path (:mod:`core.correlation`) to rounding.

Purity: ``stream_update`` never changes its input. The ring of past returns is an
append-only tape shared between successive states; a state appends past its own end only
when nobody has done so before it, otherwise it copies the tape first (a fork), so updating
an old state twice still gives two correct, independent states. Window sums are carried with
exact add/drop updates and recomputed from the tape every ``resync_every`` bars, so rounding
cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from core.correlation import EwmaState, ewma_beta, ewma_from_state, ewma_state, pair_moments
from core.returns import as_2d
from core.types import FloatArray


class _Tape:
    """Append-only store of centred returns (0 where missing) and validity flags."""

    def __init__(self, x: FloatArray, m: FloatArray, capacity: int) -> None:
        self.x = np.zeros((capacity, x.shape[1]))
        self.m = np.zeros((capacity, x.shape[1]))
        self.x[:len(x)], self.m[:len(m)] = x, m
        self.end = len(x)  # how far any state has written


@dataclass(frozen=True, eq=False)
class WindowSums:
    """Pairwise sums over one window: stacked ``[sum x_i m_j, sum x_i^2 m_j, sum m_i m_j]``
    as (3, N, N) and the cross sum ``sum x_i x_j`` (N, N)."""

    s3: FloatArray
    sxy: FloatArray


@dataclass(frozen=True, eq=False)
class StreamState:
    """Live correlation state after ``t`` bars; treat as immutable."""

    fast: int
    slow: int
    halflife: float
    min_fast: int
    min_slow: int
    min_ewma: int
    centre: FloatArray  # per-symbol shift applied before summing (kills cancellation)
    tape: _Tape
    end: int  # this state's rows are tape[end - slow : end]
    t: int
    fast_sums: WindowSums
    slow_sums: WindowSums
    ewma: EwmaState
    resync_every: int = 2880


@dataclass(frozen=True, eq=False)
class StreamMatrices:
    """Matrices read from a :class:`StreamState` (all (N, N))."""

    fast_cov: FloatArray
    fast_corr: FloatArray
    n_fast: FloatArray
    slow_cov: FloatArray
    slow_corr: FloatArray
    n_slow: FloatArray
    ewma_cov: FloatArray
    ewma_corr: FloatArray
    vol_fast: FloatArray  # (N,) per-bar vols: square roots of the covariance diagonals
    vol_slow: FloatArray
    vol_ewma: FloatArray


def _sums(x: FloatArray, m: FloatArray) -> WindowSums:
    return WindowSums(np.stack([x.T @ m, (x * x).T @ m, m.T @ m]), x.T @ x)


def stream_init(
    history: FloatArray, fast: int, slow: int, halflife: float, min_fast: int, min_slow: int,
    min_ewma: int = 0, resync_every: int = 2880,
) -> StreamState:
    """State after the (T, N) return ``history`` (may be empty: T = 0 rows)."""
    r = as_2d(history)
    if slow < fast:
        raise ValueError("slow window must be at least the fast one")
    ok = np.isfinite(r)
    cnt = ok.sum(axis=0)
    centre = np.where(cnt > 0, np.where(ok, r, 0.0).sum(axis=0) / np.maximum(cnt, 1), 0.0)
    tail = r[-slow:]
    x = np.where(np.isfinite(tail), tail - centre, 0.0)
    m = np.isfinite(tail).astype(np.float64)
    tape = _Tape(x, m, capacity=slow + max(resync_every, 256))
    ew = ewma_state(r - centre, halflife)
    return StreamState(fast, slow, halflife, min_fast, min_slow, min_ewma, centre, tape,
                       len(x), r.shape[0], _sums(x[-fast:], m[-fast:]), _sums(x, m), ew,
                       resync_every)


def _window_update(s: WindowSums, xn: FloatArray, mn: FloatArray, xo: FloatArray,
                   mo: FloatArray) -> WindowSums:
    """Add row (xn, mn) and drop row (xo, mo): exact, O(N**2), new arrays (input untouched).

    Outer products are written out rather than a rank-2 ``@``: BLAS is slow for an inner
    dimension of 2. When both rows are complete the counts do not change and the
    ``x_i m_j`` sums move by the same amount along each row, a broadcast add.
    """
    sxy = np.multiply.outer(xn, xn)
    sxy -= np.multiply.outer(xo, xo)
    sxy += s.sxy
    if mn.all() and mo.all():
        s3 = np.empty_like(s.s3)
        np.add(s.s3[0], (xn - xo)[:, None], out=s3[0])
        np.add(s.s3[1], (xn * xn - xo * xo)[:, None], out=s3[1])
        s3[2] = s.s3[2]
        return WindowSums(s3, sxy)
    s3 = np.multiply.outer(np.stack([xn, xn * xn, mn]), mn)
    s3 -= np.multiply.outer(np.stack([xo, xo * xo, mo]), mo)
    s3 += s.s3
    return WindowSums(s3, sxy)


def _ewma_update(e: EwmaState, x: FloatArray, m: FloatArray, beta: float) -> EwmaState:
    """One step of pandas' adjust=False, ignore_na=False recursion for every pair."""
    alpha = 1.0 - beta
    if m.all() and (e.decay == 1.0).all():
        return _ewma_step_complete(e, x, alpha, beta)
    obs = (m[:, None] * m[None, :]) > 0
    started = e.nobs > 0
    decay = np.where(started, e.decay * beta, e.decay)
    s2 = np.where(started, e.s2 * (beta * beta), e.s2)
    xi = x[:, None]
    a = alpha / (decay + alpha)
    b = 1.0 - a
    mean = b * e.mean + a * xi
    dm = e.mean - mean
    di = xi - mean
    var = b * (e.var + dm * dm) + a * di * di
    cov = b * (e.cov + dm * dm.T) + a * di * di.T
    s2n = (s2 + alpha * alpha) / ((decay + alpha) ** 2)
    upd = obs & started
    new = obs & ~started
    if upd.all():
        return EwmaState(mean, var, cov, np.ones_like(decay), s2n, e.nobs + 1.0)
    mean = np.where(upd, mean, np.where(new, np.broadcast_to(xi, mean.shape), e.mean))
    var = np.where(upd, var, np.where(new, 0.0, e.var))
    cov = np.where(upd, cov, np.where(new, 0.0, e.cov))
    decay = np.where(obs, 1.0, decay)
    s2 = np.where(obs, np.where(new, 1.0, s2n), s2)
    return EwmaState(mean, var, cov, decay, s2, e.nobs + obs)


def _ewma_step_complete(e: EwmaState, x: FloatArray, alpha: float, beta: float) -> EwmaState:
    """The common case, every pair seen on the previous bar and this one: scalar weights."""
    xi = x[:, None]
    mean = e.mean * beta
    mean += alpha * xi
    dm = e.mean - mean
    di = xi - mean
    var = dm * dm
    var += e.var
    var *= beta
    var += alpha * (di * di)
    cov = dm * dm.T
    cov += e.cov
    cov *= beta
    di_a = di * alpha
    di_a *= di.T
    cov += di_a
    s2 = e.s2 * (beta * beta)
    s2 += alpha * alpha
    return EwmaState(mean, var, cov, e.decay, s2, e.nobs + 1.0)


def stream_update(state: StreamState, row: FloatArray) -> StreamState:
    """The state after one more bar of log returns ``row`` (N,), NaN where missing."""
    r = np.asarray(row, dtype=np.float64).reshape(-1)
    ok = np.isfinite(r)
    xn = np.where(ok, r - state.centre, 0.0)
    mn = ok.astype(np.float64)
    tape, end = state.tape, state.end
    if tape.end != end or end == tape.x.shape[0]:  # forked, or full: start a fresh tape
        lo = max(0, end - state.slow)
        tape = _Tape(tape.x[lo:end], tape.m[lo:end], state.slow + max(state.resync_every, 256))
        end = tape.end
    lo_f, lo_s = end - state.fast, end - state.slow

    def old(lo: int) -> tuple[FloatArray, FloatArray]:
        if lo < 0:  # window not full yet: nothing drops out
            return np.zeros_like(xn), np.zeros_like(xn)
        return tape.x[lo], tape.m[lo]

    fast = _window_update(state.fast_sums, xn, mn, *old(lo_f))
    slow = _window_update(state.slow_sums, xn, mn, *old(lo_s))
    tape.x[end], tape.m[end] = xn, mn
    tape.end = end + 1
    t = state.t + 1
    if t % state.resync_every == 0:  # exact recompute from the tape
        xs, ms = tape.x[max(0, end + 1 - state.slow):end + 1], tape.m[
            max(0, end + 1 - state.slow):end + 1]
        fast, slow = _sums(xs[-state.fast:], ms[-state.fast:]), _sums(xs, ms)
    ew = _ewma_update(state.ewma, xn, mn, ewma_beta(state.halflife))
    return replace(state, tape=tape, end=end + 1, t=t, fast_sums=fast, slow_sums=slow, ewma=ew)


def _from_sums(s: WindowSums, min_periods: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    sx, sxx, n = s.s3
    cov, corr, _, _ = pair_moments(n, sx, sx.T, sxx, sxx.T, s.sxy, min_periods)
    d = np.diagonal(corr).copy()
    np.fill_diagonal(corr, np.where(np.isfinite(d), 1.0, np.nan))
    return cov, corr, n


def stream_matrices(state: StreamState) -> StreamMatrices:
    """Fast, slow and EWMA covariance/correlation matrices of the current state."""
    fc, fr, fn = _from_sums(state.fast_sums, state.min_fast)
    sc, sr, sn = _from_sums(state.slow_sums, state.min_slow)
    ec, er = ewma_from_state(state.ewma, state.min_ewma)

    def vol(cov: FloatArray) -> FloatArray:
        return np.sqrt(np.maximum(np.diagonal(cov), 0.0))

    return StreamMatrices(fc, fr, fn, sc, sr, sn, ec, er, vol(fc), vol(sc), vol(ec))
