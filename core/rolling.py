"""Every-bar correlation series for backtests: market index, requested pairs, full tensor.

Same conventions as :func:`core.correlation.window_moments` (last W return rows, pairwise
missing data, NaN below ``min_periods``), evaluated at every bar; equal to pandas
``rolling(W, min_periods=m).corr()`` to ~1e-15.

How it stays fast and bounded:

* Data are centred per column once, so the one-pass sum formulas do not cancel.
* Bars are processed in chunks of about ``chunk_elems / n_pairs`` rows. The cross sum
  ``sum x_i x_j`` is carried from chunk to chunk (add the new row, drop the row W back, as
  cumulative sums inside the chunk). For pairs whose two columns share the chunk's most
  common missing-data pattern (no gaps, or an exchange-wide outage), every other sum is a
  per-symbol rolling sum (O(T N) overall), so a bar costs about ten operations per pair.
  Other pairs get all six pairwise sums from a cumulative sum over the chunk plus its W-row
  lead-in.
* Only the upper triangle is computed; the (T, N, N) tensor exists only if asked for with
  :func:`rolling_corr_tensor` (or chunk by chunk with :func:`iter_rolling_corr`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from core.correlation import centred, pair_moments
from core.returns import as_2d
from core.types import BoolArray, FloatArray, IntArray

CHUNK_ELEMS = 1_000_000
"""Pair-bars per chunk: bounds the working set to a few tens of MB whatever N is."""


def _rolling_sum(a: FloatArray, window: int) -> FloatArray:
    c = np.cumsum(a, axis=0)
    c[window:] -= c[:-window].copy()
    return c


def _lagged_diff(f: FloatArray, a: int, b: int, window: int) -> FloatArray:
    """Rows ``f[t] - f[t - window]`` for t in [a, b) (f before row 0 is zero)."""
    d = f[a:b].copy()
    lo = max(a, window)
    if lo < b:
        d[lo - a:] -= f[lo - window:b - window]
    return d


def iter_pair_corr(
    returns: FloatArray, window: int, min_periods: int, chunk_elems: int = CHUNK_ELEMS,
) -> Iterator[tuple[int, IntArray, IntArray, FloatArray]]:
    """Yield ``(start, I, J, corr)`` chunks: corr is (C, P) for the pairs i = I < J = j."""
    r = as_2d(returns)
    t_len, n_sym = r.shape
    x, m = centred(r)
    iu, ju = np.triu_indices(n_sym, k=1)
    n_pairs = iu.size
    if n_pairs == 0:
        return
    need = max(min_periods, 2)
    cnt = _rolling_sum(m, window)  # per-symbol rolling sums for the complete columns
    s1 = _rolling_sum(x, window)
    s2 = _rolling_sum(x * x, window)
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(np.maximum(s2 - s1 * s1 / cnt, 0.0) / (cnt - 1))
        inv_sd = np.where(sd > 0, 1.0 / sd, np.nan)
    sxy = np.zeros(n_pairs)
    step = max(1, chunk_elems // n_pairs)
    for a in range(0, t_len, step):
        b = min(t_len, a + step)
        lead = max(0, a - window)
        # carried cross sum: the window ending at row a-1, then add/drop inside the chunk
        d = x[a:b, iu] * x[a:b, ju]
        lo = max(a, window)
        if lo < b:
            d[lo - a:] -= x[lo - window:b - window, iu] * x[lo - window:b - window, ju]
        cxy = sxy + np.cumsum(d, axis=0)
        sxy = cxy[-1].copy()
        complete = _common_pattern(m[lead:b])
        n = cnt[a:b, iu]
        with np.errstate(invalid="ignore", divide="ignore"):
            cov = (cxy - s1[a:b, iu] * s1[a:b, ju] / n) / (n - 1)
            corr = np.clip(cov * inv_sd[a:b, iu] * inv_sd[a:b, ju], -1.0, 1.0)
        corr[n < need] = np.nan
        dirty = np.flatnonzero(~(complete[iu] & complete[ju]))
        if dirty.size:
            corr[:, dirty] = _general_pairs(x, m, iu[dirty], ju[dirty], lead, a, b, window,
                                            min_periods)
        yield a, iu, ju, corr


def _general_pairs(x: FloatArray, m: FloatArray, i: IntArray, j: IntArray, lead: int, a: int,
                   b: int, window: int, min_periods: int) -> FloatArray:
    """Correlation of pairs touched by gaps, from pairwise sums over rows [lead, b)."""
    xi, xj, mi, mj = x[lead:b, i], x[lead:b, j], m[lead:b, i], m[lead:b, j]
    sums = [np.cumsum(f, axis=0) for f in (mi * mj, xi * mj, xj * mi, xi * xi * mj,
                                            xj * xj * mi, xi * xj)]
    n, sx, sy, sxx, syy, sxy = (_lagged_diff(c, a - lead, b - lead, window) for c in sums)
    return pair_moments(n, sx, sy, sxx, syy, sxy, min_periods)[1]


def _common_pattern(mask: FloatArray) -> BoolArray:
    """Columns sharing the most common missing-data pattern over these rows.

    Pairs among them have pairwise sums equal to per-symbol sums (exchange-wide outages
    hide all symbols at once), so the fast path covers them; columns with no data at all
    are left out (their pairs do not exist).
    """
    has: BoolArray = np.any(mask, axis=0)
    if (mask == mask[:, :1]).all():  # one pattern for all (no gaps, or outages only)
        return has
    keys = [mask[:, j].tobytes() for j in range(mask.shape[1])]
    counts: dict[bytes, int] = {}
    for k, h in zip(keys, has, strict=True):
        if h:
            counts[k] = counts.get(k, 0) + 1
    if not counts:
        return np.zeros(mask.shape[1], dtype=bool)
    best = max(counts, key=counts.__getitem__)
    return np.array([k == best for k in keys]) & has


def market_index_series(
    returns: FloatArray, window: int, min_periods: int, chunk: int = 128,
) -> tuple[FloatArray, FloatArray]:
    """Market correlation index for every bar: mean pairwise correlation over the window.

    For the columns complete over a chunk's windows the sum of all their correlations is
    ``sum_s (sum_i z_i(s))**2 / (n - 1)`` with ``z`` the returns standardised by the window
    mean and deviation of bar t; one matrix product per chunk gives ``x(s) . u(t)`` for every
    (s, t) so a bar costs O(W N), not O(N**2). Pairs touched by a gap are computed pairwise
    (:func:`_general_pairs`) and added in. "Complete" means sharing the chunk's most common
    missing-data pattern, so exchange-wide outages stay on the fast path; scattered
    per-symbol gaps cost about 15 operations per affected pair and bar.

    Returns
    -------
    index, n_pairs : FloatArray
        (T,) each: the mean over the pairs available at that bar (NaN when none) and how
        many pairs that was, so a reader can tell a 2-pair mean from a 36-pair one.
    """
    r = as_2d(returns)
    t_len, n_sym = r.shape
    if n_sym < 2 or t_len == 0:
        return np.full(t_len, np.nan), np.zeros(t_len)
    x, m = centred(r)
    one_pattern = bool((m == m[:, :1]).all())  # no gaps, or gaps common to all symbols
    # values per window: one column serves all when the pattern is shared (it broadcasts)
    cnt = _rolling_sum(m[:, :1] if one_pattern else m, window)
    s1 = _rolling_sum(x, window)
    inv_sd = _inverse_sd(s1, _rolling_sum(x * x, window), cnt, max(min_periods, 2))
    spans = [(a, min(t_len, a + chunk), max(0, a - window + 1)) for a in range(0, t_len, chunk)]
    complete = np.array([_common_pattern(m[lead:b]) for a, b, lead in spans])
    per_bar = np.repeat(np.arange(len(spans)), [b - a for a, b, _ in spans])
    ref = np.argmax(complete, axis=1)[per_bar]  # a column of the bar's pattern
    u = np.where(complete[per_bar], inv_sd, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = (s1 / np.maximum(cnt, 1) * u).sum(axis=1)
    k = (u > 0).sum(axis=1).astype(np.float64)
    sums = np.empty(t_len)
    extra_sum, extra_n = np.zeros(t_len), np.zeros(t_len)
    iu, ju = np.triu_indices(n_sym, k=1)
    # band[s, t]: row s of the chunk's rows is in bar t's window (a banded sum, not a
    # cumulative sum down the columns: the same total, several times cheaper)
    rows = np.arange(chunk + window - 1)[:, None]
    band = ((rows >= np.arange(chunk)[None, :])
            & (rows < np.arange(chunk)[None, :] + window)).astype(np.float64)
    for a, b, lead in spans:
        # in place throughout: fresh (rows, bars) temporaries cost more than the arithmetic
        y = x[lead:b] @ u[a:b].T  # (rows, bars)
        y -= c[a:b]
        y *= y
        off = window - 1 - (a - lead)  # chunk rows start W-1 before bar a (fewer at first)
        y *= band[off:off + b - lead, :b - a]
        present = m[lead:b, ref[a]]
        if not present.all():  # rows the pattern lacks are not in any sum
            y *= present[:, None]
        sums[a:b] = y.sum(axis=0)
        if one_pattern:  # every column with data in the span is complete: no pair is dirty
            continue
        # a column with no data in the span has no pairs at all
        some: BoolArray = np.any(m[lead:b], axis=0)
        full = complete[per_bar[a]]
        dirty = np.flatnonzero(~(full[iu] & full[ju]) & some[iu] & some[ju])
        if dirty.size:
            corr = _general_pairs(x, m, iu[dirty], ju[dirty], max(0, a - window), a, b,
                                  window, min_periods)
            ok = np.isfinite(corr)
            extra_sum[a:b] = np.where(ok, corr, 0.0).sum(axis=1)
            extra_n[a:b] = ok.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        n = cnt[:, 0] if one_pattern else cnt[np.arange(t_len), ref]  # same across the pattern
        total = sums / (n - 1)
        pair_sum = np.where(k > 1, (total - k) / 2.0, 0.0) + extra_sum
        pair_n = k * (k - 1) / 2.0 + extra_n
        index = np.where(pair_n > 0, pair_sum / pair_n, np.nan)
    return index, pair_n


def _inverse_sd(s1: FloatArray, s2: FloatArray, cnt: FloatArray, need: int) -> FloatArray:
    """1 / window standard deviation (ddof=1) from rolling sums; 0 where it is 0 or the
    window has fewer than ``need`` values. The same operations as the one-line formula, in
    one reused (T, N) buffer: fresh full-size temporaries cost more than the arithmetic."""
    with np.errstate(invalid="ignore", divide="ignore"):
        v = np.multiply(s1, s1)
        v /= cnt
        np.subtract(s2, v, out=v)
        np.maximum(v, 0.0, out=v)
        v /= cnt - 1
        np.sqrt(v, out=v)
        ok = (v > 0) & (cnt >= need)
        np.divide(1.0, v, out=v, where=ok)
    v[~ok] = 0.0
    return v


def iter_rolling_corr(
    returns: FloatArray, window: int, min_periods: int, chunk_elems: int = CHUNK_ELEMS,
) -> Iterator[tuple[int, FloatArray]]:
    """Yield ``(start, corr)`` with corr (C, N, N) full symmetric matrices, chunk by chunk."""
    r = as_2d(returns)
    n_sym = r.shape[1]
    own = _rolling_sum(np.isfinite(r).astype(np.float64), window) >= max(min_periods, 2)
    if n_sym < 2:
        for a in range(r.shape[0]):
            yield a, np.where(own[a], 1.0, np.nan).reshape(1, 1, 1)
        return
    for a, iu, ju, corr in iter_pair_corr(r, window, min_periods, chunk_elems):
        c = corr.shape[0]
        out = np.full((c, n_sym, n_sym), np.nan)
        out[:, iu, ju] = corr
        out[:, ju, iu] = corr
        diag = np.arange(n_sym)
        out[:, diag, diag] = np.where(own[a:a + c], 1.0, np.nan)
        yield a, out


def rolling_corr_tensor(returns: FloatArray, window: int, min_periods: int) -> FloatArray:
    """The full (T, N, N) every-bar correlation tensor; 230 MB at N=100 over a year: ask twice."""
    r = as_2d(returns)
    out = np.empty((r.shape[0], r.shape[1], r.shape[1]))
    for a, c in iter_rolling_corr(r, window, min_periods):
        out[a:a + c.shape[0]] = c
    return out


@dataclass(frozen=True, eq=False)
class PairSeries:
    """Every-bar statistics of requested pairs (x, h): arrays are (T, K)."""

    pairs: tuple[tuple[int, int], ...]
    corr: FloatArray
    cov: FloatArray
    beta: FloatArray  # cov(x, h) / var(h) over the rows where both exist: units of h per x
    n_obs: FloatArray


def rolling_pair_series(
    returns: FloatArray, pairs: Sequence[tuple[int, int]], window: int, min_periods: int,
) -> PairSeries:
    """Fast correlation, covariance and hedge ratio of each (x, h) column pair, every bar.

    O(T K) with cumulative sums over the pairwise-valid rows; ``beta`` is the regression
    slope of x on h (pairwise variance of h, ddof cancels), the hedge ratio the lead uses.
    """
    r = as_2d(returns)
    x, m = centred(r)
    i = np.array([p[0] for p in pairs], dtype=np.int64)
    j = np.array([p[1] for p in pairs], dtype=np.int64)
    xi, xj, mi, mj = x[:, i], x[:, j], m[:, i], m[:, j]
    n, sx, sy, sxx, syy, sxy = (_rolling_sum(f, window) for f in (
        mi * mj, xi * mj, xj * mi, xi * xi * mj, xj * xj * mi, xi * xj))
    cov, corr, _, var_h = pair_moments(n, sx, sy, sxx, syy, sxy, min_periods)
    with np.errstate(invalid="ignore", divide="ignore"):
        beta = np.where(var_h > 0, cov / var_h, np.nan)
    same = i == j
    corr[:, same] = np.where(np.isfinite(corr[:, same]), 1.0, np.nan)
    return PairSeries(tuple((int(a), int(b)) for a, b in zip(i, j, strict=True)), corr, cov,
                      beta, n)
