"""Correlation engine speed, each figure against a baseline timed in the same run.

(a) live fast + slow + EWMA matrices vs np.corrcoef (fast, slow) + a weighted np.cov for the
    EWMA (pandas' ewm().corr() is far slower; we beat the cheaper baseline);
(b) every-bar market index + 10 pairs vs pandas rolling().corr() giving the same numbers;
(c) one incremental bar at N = 300 vs recomputing the three matrices.
"""

from __future__ import annotations

import ctypes
import glob
import os
import time

import numpy as np
import pandas as pd

from bench.timing import best_of, percentiles, row
from core.correlation import ewma_moments, ewma_weights, window_moments
from core.rolling import market_index_series, rolling_pair_series
from core.streaming import stream_init, stream_update
from core.views import CorrelationParams, correlation_view

T = 2880


def _single_threaded_blas() -> str:
    """Pin OpenBLAS to one thread: on a shared, loaded machine two spinning BLAS threads make
    timings swing 100x. Applies to ours and the baselines alike."""
    libs = glob.glob(os.path.join(os.path.dirname(np.__file__) + ".libs", "*openblas*.so*"))
    for path in libs:
        lib = ctypes.CDLL(path)
        for name in ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads"):
            if hasattr(lib, name):
                getattr(lib, name)(1)
                return "BLAS pinned to 1 thread"
    return "BLAS threads left as they are"


SIZES = (10, 50, 100, 300)
P = CorrelationParams()


def _returns(n: int, t: int = T, seed: int = 0, gaps: bool = False) -> np.ndarray:
    """Factor-model returns; with ``gaps`` the realistic kind: an exchange-wide outage of 2
    hours and one symbol listed a week into the sample."""
    rng = np.random.default_rng(seed)
    common = rng.standard_normal((t, 1)) * 0.006
    r = common * rng.uniform(0.5, 1.5, n) + rng.standard_normal((t, n)) * 0.004
    if gaps:
        r[t // 2:t // 2 + 8] = np.nan
        r[:672, n - 1] = np.nan
    return r


def _matrices(r: np.ndarray) -> None:
    window_moments(r, P.fast, P.min_fast)
    window_moments(r, P.slow, P.min_slow)
    ewma_moments(r, P.halflife, P.min_ewma)


def _baseline_matrices(r: np.ndarray, w: np.ndarray) -> None:
    np.corrcoef(r[-P.fast:].T)
    np.corrcoef(r[-P.slow:].T)
    c = np.cov(r.T, aweights=w, bias=True)
    d = np.sqrt(np.diagonal(c))
    _ = c / d[:, None] / d[None, :]


def bench_live() -> None:
    print("(a) live fast + slow + EWMA matrices, 2,880 bars "
          "(baseline: 2 np.corrcoef + weighted np.cov)")
    for n in SIZES:
        r = _returns(n)
        w = ewma_weights(np.ones(T, bool), P.halflife)
        ours = best_of(lambda r=r: _matrices(r), repeat=3)
        base = best_of(lambda r=r, w=w: _baseline_matrices(r, w), repeat=3)
        row(f"  N={n:<4} matrices (pairwise-NaN aware)", ours, base, target="ratio >= 0.5x")
        close = 100 * np.exp(np.cumsum(r, axis=0))
        view = best_of(lambda c=close: correlation_view(c, P, with_z=False), repeat=2)
        row(f"  N={n:<4} correlation_view, matrices + vols", view, base)
        full = best_of(lambda c=close: correlation_view(c, P), repeat=1)
        row(f"  N={n:<4} correlation_view + market z (index over 30 d)", full, base)


def _pandas_every_bar(r: np.ndarray, pairs: list[tuple[int, int]]) -> np.ndarray:
    t, n = r.shape
    ten = pd.DataFrame(r).rolling(P.fast, min_periods=P.min_fast).corr().to_numpy()
    ten = ten.reshape(t, n, n)
    iu, ju = np.triu_indices(n, k=1)
    p = ten[:, iu, ju]
    ok = np.isfinite(p)
    with np.errstate(all="ignore"):
        idx = np.where(ok, p, 0).sum(axis=1) / ok.sum(axis=1)
    return np.column_stack([idx] + [ten[:, i, j] for i, j in pairs])


def _ours_every_bar(r: np.ndarray, pairs: list[tuple[int, int]]) -> np.ndarray:
    idx, _ = market_index_series(r, P.fast, P.min_fast)
    ps = rolling_pair_series(r, pairs, P.fast, P.min_fast)
    return np.column_stack([idx, ps.corr])


def bench_every_bar() -> None:
    print("(b) every-bar market index + 10 pairs, 2,880 bars with an outage and a listing "
          "(baseline: pandas rolling(96).corr())")
    for n in SIZES:
        r = _returns(n, seed=1, gaps=True)
        pairs = [(0, k) for k in range(1, 11)] if n > 10 else [(0, k) for k in range(1, n)]
        ours = best_of(lambda r=r, p=pairs: _ours_every_bar(r, p), repeat=3)
        if n <= 100:
            t0 = time.perf_counter()
            ref = _pandas_every_bar(r, pairs)
            base = time.perf_counter() - t0
            diff = np.nanmax(np.abs(_ours_every_bar(r, pairs) - ref))
            row(f"  N={n:<4} max |diff| vs pandas {diff:.1e}", ours, base,
                target=">= 50x at N=100")
        else:  # pandas at N=300 takes minutes: time 40 columns, scale by the pair count
            sub = 40
            t0 = time.perf_counter()
            _pandas_every_bar(r[:, :sub], pairs[:5])
            base = (time.perf_counter() - t0) * (n * (n + 1)) / (sub * (sub + 1))
            row(f"  N={n:<4} pandas timed on {sub} cols, scaled by pairs", ours, base)


def bench_incremental() -> None:
    n = 300
    print(f"(c) one incremental bar at N={n} (baseline: recompute the three matrices)")
    r = _returns(n, t=T + 200, seed=3)
    state = stream_init(r[:T], P.fast, P.slow, P.halflife, P.min_fast, P.min_slow,
                        P.min_ewma)
    samples = []
    for t in range(T, T + 200):
        t0 = time.perf_counter()
        state = stream_update(state, r[t])
        samples.append(time.perf_counter() - t0)
    p50, p95 = percentiles(samples)
    base = best_of(lambda: _matrices(r[:T]), repeat=2)
    row(f"  N={n} stream_update p50 (p95 {p95:.2f} ms)", p50 / 1000, base, target="< 5 ms")


def main() -> None:
    print(_single_threaded_blas())
    bench_live()
    bench_every_bar()
    bench_incremental()


if __name__ == "__main__":
    main()
