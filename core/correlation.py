"""Correlation and covariance matrices over one window, and the EWMA (RiskMetrics) matrix.

Conventions (each checked against pandas in ``tests/core/test_correlation.py``):

* A W-bar window uses the last W log-return rows (rows, not valid values: a gap shortens the
  sample, it does not reach further back).
* Missing data are handled pairwise: the pair (i, j) uses only rows where both returns exist.
  Fewer than ``min_periods`` such rows (and never fewer than 2) makes the pair NaN, never 0,
  because a 0 correlation would read as "no hedge needed". The diagonal is 1 where the symbol
  itself has enough data, NaN otherwise. Correlations are clipped to [-1, 1].
* Covariances use ddof=1 for windows (pandas ``rolling().cov()``) and pandas' bias-corrected
  EWMA covariance (``ewm(adjust=False).cov()``).
* EWMA follows pandas ``ewm(halflife=h, adjust=False, ignore_na=False)`` exactly: the first
  observation of a pair starts the average with weight 1; every later bar decays the old
  weight by ``beta = 2**(-1/h)``; an observation after a gap of k bars gets weight
  ``alpha / (beta**k + alpha)`` (alpha = 1 - beta) and the old sum ``beta**k / (beta**k +
  alpha)``. So after a gap the first new return counts a little more, as in pandas; the
  state itself is never updated on a missing bar.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from core.returns import as_2d
from core.types import BoolArray, FloatArray, IntArray


def pair_moments(
    n: FloatArray, sx: FloatArray, sy: FloatArray, sxx: FloatArray, syy: FloatArray,
    sxy: FloatArray, min_periods: int,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Covariance, correlation and the two variances from pairwise sums (elementwise).

    All sums are over the rows where both x and y exist; the data should be centred by a
    per-column constant first so the one-pass formulas do not cancel. Returns
    ``(cov, corr, var_x, var_y)`` with ddof=1 and NaN below ``max(min_periods, 2)`` rows.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = (sxy - sx * sy / n) / (n - 1)
        vx = np.maximum((sxx - sx * sx / n) / (n - 1), 0.0)
        vy = np.maximum((syy - sy * sy / n) / (n - 1), 0.0)
        den = np.sqrt(vx * vy)
        corr = np.clip(np.where(den > 0, cov / den, np.nan), -1.0, 1.0)
    bad = n < max(min_periods, 2)
    for a in (cov, corr, vx, vy):
        a[bad] = np.nan
    return cov, corr, vx, vy


def centred(r: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Returns minus each column's valid mean with NaN set to 0, and the validity as floats."""
    ok = np.isfinite(r)
    cnt = ok.sum(axis=0)
    if ok.all():  # no gaps (a window of clean data): the same numbers without the masking
        centre = np.where(cnt > 0, r.sum(axis=0) / np.maximum(cnt, 1), 0.0)
        return r - centre, np.ones(r.shape)
    centre = np.where(cnt > 0, np.where(ok, r, 0.0).sum(axis=0) / np.maximum(cnt, 1), 0.0)
    return np.where(ok, r - centre, 0.0), ok.astype(np.float64)


def window_moments(
    returns: FloatArray, window: int, min_periods: int,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Pearson covariance and correlation over the last ``window`` returns, pairwise.

    Parameters
    ----------
    returns : FloatArray
        (T, N) log returns, NaN where missing.
    window : int
        Number of trailing rows used (the fast "real-time" or slow baseline window).
    min_periods : int
        Rows a pair needs in the window before it is reported.

    Returns
    -------
    cov, corr, n_obs : FloatArray
        (N, N) each; ``n_obs`` counts the rows where both returns exist.
    """
    r = as_2d(returns)[-window:]
    ok = np.isfinite(r)
    if ok.all():  # no gaps (the common case): a single product, no copies
        return _one_pattern_moments(r, r.shape[1], min_periods)
    if (ok == ok[:, :1]).all():  # one missing-data pattern for all, e.g. an outage
        return _one_pattern_moments(r[ok[:, 0]], r.shape[1], min_periods)
    x, m = centred(r)
    n = m.T @ m
    sx = x.T @ m  # sx[i, j]: sum of x_i over rows where j exists too
    sxx = (x * x).T @ m
    sxy = x.T @ x
    cov, corr, _, _ = pair_moments(n, sx, sx.T, sxx, sxx.T, sxy, min_periods)
    _unit_diagonal(corr)
    return cov, corr, n


def _one_pattern_moments(
    rows: FloatArray, n_sym: int, min_periods: int,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Window moments when every column is present on the same rows (no gaps, or an
    exchange-wide outage): the pairwise sums are per-symbol ones, one ``x.T @ x``."""
    n = rows.shape[0]
    n_obs = np.full((n_sym, n_sym), float(n))
    if n < max(min_periods, 2):
        nan = np.full((n_sym, n_sym), np.nan)
        return nan, nan.copy(), n_obs
    xc = rows - rows.mean(axis=0)
    cov = (xc.T @ xc) / (n - 1)
    sd = np.sqrt(np.maximum(np.diagonal(cov), 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.clip(cov / (sd[:, None] * sd[None, :]), -1.0, 1.0)
    corr[~np.isfinite(corr)] = np.nan
    _unit_diagonal(corr)
    return cov, corr, n_obs


def _unit_diagonal(corr: FloatArray) -> None:
    d = np.diagonal(corr).copy()
    np.fill_diagonal(corr, np.where(np.isfinite(d), 1.0, np.nan))


def ewma_beta(halflife: float) -> float:
    """Per-bar decay factor for a half-life in bars (pandas' ``halflife`` convention)."""
    if halflife <= 0:
        raise ValueError(f"halflife must be positive, got {halflife}")
    return float(np.exp(-np.log(2.0) / halflife))


def ewma_weights(observed: BoolArray, halflife: float) -> FloatArray:
    """Final weight of every row in pandas' adjust=False EWMA over a series with gaps.

    The recursion ``mean_n = b_n mean_{n-1} + a_n x_n`` unrolls to weights
    ``w_i = a_i * prod_{m>i} b_m`` (zero on missing rows; they sum to 1), so the EWMA mean,
    variance and covariance are plain weighted moments and can be computed with matrix
    products instead of a Python loop over time.
    """
    beta = ewma_beta(halflife)
    alpha = 1.0 - beta
    idx = np.flatnonzero(observed)
    w = np.zeros(observed.shape[0])
    if idx.size == 0:
        return w
    decay = beta ** np.diff(idx).astype(np.float64)
    a = np.empty(idx.size)
    a[0] = 1.0
    a[1:] = alpha / (decay + alpha)
    b = np.ones(idx.size)
    b[:-1] = decay / (decay + alpha)  # b[n] is the factor applied when obs n+1 arrives
    tail = np.cumprod(b[::-1])[::-1]  # prod of b[n..end]; b[-1] == 1
    w[idx] = a * tail
    return w


@dataclass(frozen=True, eq=False)
class EwmaState:
    """Where pandas' adjust=False EWMA recursion stands for every pair (all (N, N)).

    ``mean[i, j]`` and ``var[i, j]`` are the EWMA mean and biased variance of symbol i over
    the rows where j exists too (so ``mean.T`` is j's), ``cov`` the biased covariance,
    ``decay`` pandas' ``old_wt`` (beta**k, k bars since the pair's last observation; NaN before
    its first), ``s2`` the decayed sum of squared weights, ``nobs`` the pair's row count.
    """

    mean: FloatArray
    var: FloatArray
    cov: FloatArray
    decay: FloatArray
    s2: FloatArray
    nobs: FloatArray


def ewma_state(returns: FloatArray, halflife: float) -> EwmaState:
    """The EWMA state after all rows, in closed form (see :func:`ewma_weights`).

    Columns with the same missing-data pattern share weights, so the common case (no gaps,
    or gaps common to all symbols) is a single matrix product; each further pair of patterns
    adds one small product.
    """
    r = as_2d(returns)
    ok = np.isfinite(r)
    t_len, n_sym = r.shape
    beta = ewma_beta(halflife)
    patterns: dict[bytes, list[int]] = {}
    for j in range(n_sym):
        patterns.setdefault(ok[:, j].tobytes(), []).append(j)
    groups = [(ok[:, cols[0]], np.array(cols)) for cols in patterns.values()]
    out = {k: np.full((n_sym, n_sym), np.nan)
           for k in ("mean", "var", "cov", "decay", "s2", "nobs")}
    for ga, (mask_a, cols_a) in enumerate(groups):
        for mask_b, cols_b in groups[ga:]:
            both = mask_a & mask_b
            if not both.any():
                continue
            rows = np.flatnonzero(both)  # zero-weight rows add nothing: leave them out
            w = ewma_weights(both, halflife)[rows]
            ma, da = _weighted_deviations(r, rows, cols_a, w)
            if cols_b is cols_a:  # the diagonal block: a symmetric product is half the work
                da *= np.sqrt(w)[:, None]  # in place: a fresh (T, N) copy costs as much
                c = da.T @ da
                mb, va = ma, np.diagonal(c).copy()
                vb = va
            else:
                mb, db = _weighted_deviations(r, rows, cols_b, w)
                wda = da * w[:, None]
                c = wda.T @ db
                va = (wda * da).sum(axis=0)
                vb = (w[:, None] * db * db).sum(axis=0)
            decay = beta ** float(t_len - 1 - rows[-1])
            ab: tuple[slice | npt.NDArray[np.intp], ...]  # the block's rows and columns
            ba: tuple[slice | npt.NDArray[np.intp], ...]
            if len(groups) == 1:
                ab = ba = (slice(None), slice(None))
            else:
                ab, ba = np.ix_(cols_a, cols_b), np.ix_(cols_b, cols_a)
            out["cov"][ab], out["cov"][ba] = c, c.T
            out["mean"][ab] = ma[:, None]
            out["mean"][ba] = mb[:, None]
            out["var"][ab] = va[:, None]
            out["var"][ba] = vb[:, None]
            for k, v in (("decay", decay), ("s2", (w @ w) * decay * decay),
                         ("nobs", float(both.sum()))):
                out[k][ab], out[k][ba] = v, v
    out["nobs"][np.isnan(out["nobs"])] = 0.0
    return EwmaState(**out)


def ewma_from_state(st: EwmaState, min_periods: int = 0) -> tuple[FloatArray, FloatArray]:
    """Bias-corrected covariance and correlation from an EWMA state (pandas' conventions)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        den = np.sqrt(np.maximum(st.var * st.var.T, 0.0))
        corr = np.clip(np.where(den > 0, st.cov / den, np.nan), -1.0, 1.0)
        sum_w2 = st.s2 / (st.decay * st.decay)
        cov = np.where(sum_w2 < 1.0, st.cov / (1.0 - sum_w2), np.nan)
    bad = ~(st.nobs >= max(min_periods, 1))
    cov[bad] = np.nan
    corr[bad] = np.nan
    _unit_diagonal(corr)
    return cov, corr


def ewma_moments(
    returns: FloatArray, halflife: float, min_periods: int = 0,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """EWMA covariance and correlation at the last bar, pairwise, as pandas computes them.

    Equal to ``df.ewm(halflife=h, adjust=False, min_periods=m).cov()`` / ``.corr()`` at the
    last row.

    Returns
    -------
    cov, corr, n_obs : FloatArray
        (N, N) each; ``n_obs`` counts all rows (since the start) where both returns exist.
    """
    st = ewma_state(returns, halflife)
    cov, corr = ewma_from_state(st, min_periods)
    return cov, corr, st.nobs


def _weighted_deviations(
    r: FloatArray, rows: IntArray, cols: IntArray, w: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Weighted mean of the chosen columns over ``rows`` and the deviations from it."""
    if cols.size == r.shape[1] and rows.size and rows[-1] - rows[0] + 1 == rows.size:
        x = r[rows[0]:rows[-1] + 1]  # all columns, a run of rows (e.g. all but the first)
    else:
        x = r[np.ix_(rows, cols)]
    mean = w @ x
    return mean, x - mean


def hedge_beta(cov: FloatArray) -> FloatArray:
    """Hedge ratios ``beta[i, j] = cov(x_i, x_j) / var(x_j)``: units of j per unit of i.

    Uses the diagonal variance; for window matrices with gaps the pairwise variance (see
    :mod:`core.rolling`) is the exact regression slope, the diagonal one differs slightly.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.diagonal(cov)
        return np.where(var[None, :] > 0, cov / var[None, :], np.nan)
