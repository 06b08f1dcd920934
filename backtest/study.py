"""Many starts: one backtest per start date over the whole data range, in parallel.

A study fixes everything but the start: ``starts`` every ``step`` bars from the first bar
with a full warm-up (the engine's slow window) to the last one with a whole ``horizon``
after it. Each start runs every strategy over ``horizon`` bars (``backtest.engine``) and the
two unhedged baselines (``backtest.baselines``), and keeps one row of outcomes per account
(``backtest.metrics.collateral_outcome``); the distributions and paired comparisons come
from those rows (``backtest.stats``).

Starts are independent, so they run in a process pool: the shared inputs (``Prepared``, the
bar views, the strategies) are set up once in the parent and inherited by the workers through
``fork`` — no copy of the market per task — or sent once per worker where ``fork`` does not
exist or other threads run. ``workers=1`` runs in this process.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from multiprocessing.reduction import ForkingPickler
from types import MappingProxyType

import numpy as np

from backtest.baselines import unhedged
from backtest.engine import BacktestParams, new_context, run_books
from backtest.metrics import collateral_outcome
from backtest.prepared import Prepared
from backtest.views import ViewMaker
from core.types import FloatArray
from plugins.strategies.base import Strategy

Row = dict[str, dict[str, float]]  # account name -> its outcome at one start


def _proxy(d: dict[object, object]) -> MappingProxyType[object, object]:
    return MappingProxyType(d)


def _reduce_proxy(p: MappingProxyType[object, object]) -> tuple[
        Callable[[dict[object, object]], MappingProxyType[object, object]],
        tuple[dict[object, object]]]:
    return _proxy, (dict(p),)


# A snapshot's read-only maps are mappingproxies, which plain pickle refuses: a spawned worker
# receives them as copies, read-only again on its side.
ForkingPickler.register(MappingProxyType, _reduce_proxy)


@dataclass(eq=False)
class Study:
    """Per-start outcomes of every account, aligned by start (``starts[k]``)."""

    starts: list[int]
    horizon: int
    step: int
    outcomes: dict[str, dict[str, FloatArray]]  # account -> outcome name -> (n_starts,)
    warnings: list[str] = field(default_factory=list)

    def account(self, name: str) -> dict[str, FloatArray]:
        return self.outcomes[name]


def start_grid(m: Prepared, warm: int, horizon: int, step: int, lo: int = 0,
               hi: int | None = None) -> list[int]:
    """Start bars every ``step`` from the first with ``warm`` bars of the main's history
    before it, each moved to the next bar where every main leg has an open (within the
    step), while a whole ``horizon`` fits before ``hi``."""
    hi = m.n_bars if hi is None else hi
    opens = m.snap.open[:, [*m.main_cols, m.target]]
    ok = np.all(np.isfinite(opens) & (opens > 0), axis=1)
    first = np.flatnonzero(np.all(np.isfinite(m.snap.close[:, list(m.main_cols)]), axis=1))
    if not first.size:
        return []
    out = []
    for s in range(max(lo, int(first[0]) + warm), hi - horizon + 1, step):
        good = np.flatnonzero(ok[s:min(s + step, hi - horizon + 1)])
        if good.size:
            out.append(s + int(good[0]))
    return out


@dataclass(eq=False)
class _Shared:
    m: Prepared
    views: ViewMaker
    strategies: Mapping[str, Strategy]
    params: BacktestParams
    horizon: int
    matched: bool


_SHARED: _Shared | None = None


def _init(shared: _Shared) -> None:
    global _SHARED
    _SHARED = shared


def run_start(sh: _Shared, start: int) -> tuple[Row, list[str]]:
    """Every strategy and both baselines at one start: one outcome row each."""
    p, m = sh.params, sh.m
    stop = start + sh.horizon
    books = run_books(new_context(m, p, start, stop, keep=False), sh.views, sh.strategies)
    row: Row = {}
    warnings = []
    cross = p.margin == "cross"
    for b in books:
        if b.failed:
            warnings.append(f"{b.name}: {b.failed}")
            continue
        equity, deposits = b.equity()
        cost = -float(b.h_fees.sum() + b.h_slip.sum() + b.h_fund.sum())
        row[b.name] = collateral_outcome(
            equity, deposits, liquidations=b.liquidations,
            hedge_liquidations=b.hedge_liquidations, hedge_cost=cost,
            first_life=b.first_life, trades=b.n_trades)
    base = unhedged(m, start, stop, p.capital, p.leverage, cross=cross, reentry=p.reentry_bars)
    row["none@main"] = collateral_outcome(base.equity, base.deposits,
                                          liquidations=len(base.liquidated))
    if sh.matched:
        notional = p.capital * p.leverage
        for name, out in list(row.items()):
            if name in ("none@main", "none"):
                continue
            c = out["first_life_collateral"]
            path = unhedged(m, start, stop, c, notional / c, cross=cross,
                            reentry=p.reentry_bars)
            row[f"matched:{name}"] = {**collateral_outcome(
                path.equity, path.deposits, liquidations=len(path.liquidated)),
                "leverage": notional / c}
    return row, warnings


def _run_chunk(starts: Sequence[int]) -> list[tuple[int, Row, list[str]]]:
    assert _SHARED is not None, "worker not initialised"
    return [(s, *run_start(_SHARED, s)) for s in starts]


def _context(method: str | None = None) -> multiprocessing.context.BaseContext:
    """``fork`` where it exists and this process runs no other thread (a fork copies only the
    calling thread, so a lock another thread held would stay locked in the child); ``spawn``
    otherwise, which sends the shared inputs to each worker once."""
    if method is None:
        ok = "fork" in multiprocessing.get_all_start_methods()
        method = "fork" if ok and threading.active_count() == 1 else "spawn"
    return multiprocessing.get_context(method)


def _chunks(starts: Sequence[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(starts), size):
        yield list(starts[i:i + size])


def run_study(m: Prepared, views: ViewMaker, strategies: Mapping[str, Strategy],
              params: BacktestParams, starts: Sequence[int], horizon: int, step: int, *,
              matched: bool = True, workers: int | None = None,
              progress: Callable[[int], None] | None = None,
              start_method: str | None = None) -> Study:
    """Every start of the study; ``progress(k)`` is called with the number of starts done."""
    params = replace(params, start=0, stop=None)
    shared = _Shared(m, views, strategies, params, horizon, matched)
    n_workers = max(1, min(workers or os.cpu_count() or 1, len(starts)))
    results: list[tuple[int, Row, list[str]]] = []
    if n_workers == 1:
        for s in starts:
            results.append((s, *run_start(shared, s)))
            if progress is not None:
                progress(len(results))
    else:
        size = max(1, math.ceil(len(starts) / (n_workers * 4)))
        with ProcessPoolExecutor(n_workers, mp_context=_context(start_method), initializer=_init,
                                 initargs=(shared,)) as pool:
            futures = [pool.submit(_run_chunk, c) for c in _chunks(starts, size)]
            for f in as_completed(futures):
                results.extend(f.result())
                if progress is not None:
                    progress(len(results))
    results.sort(key=lambda r: r[0])
    return collect(results, horizon, step)


def collect(results: Sequence[tuple[int, Row, list[str]]], horizon: int, step: int) -> Study:
    """Outcome arrays aligned by start; an account missing at any start (a strategy that
    failed there) is left out entirely, with a warning, so every pair stays aligned."""
    warnings = sorted({w for _, _, ws in results for w in ws})
    names: list[str] = []
    for _, row, _ in results:
        names += [n for n in row if n not in names]
    complete = [n for n in names if all(n in row for _, row, _ in results)]
    for n in names:
        if n not in complete:
            warnings.append(f"{n} failed at some starts and is left out of the study")
    outcomes = {n: {k: np.array([row[n][k] for _, row, _ in results])
                    for k in results[0][1][n]} for n in complete} if results else {}
    return Study([s for s, _, _ in results], horizon, step, outcomes, warnings)
