"""``core.evaluate`` for 100 symbols × 2,880+ bars and 10,000 positions (target < 100 ms),
next to its parts and to one baseline from the same run: three pandas-free numpy calls
(``np.corrcoef`` on the fast and slow windows) that any correlation tool would make."""

from __future__ import annotations

import asyncio
import time

import numpy as np

from bench.timing import best_of, row
from core.cascade_series import candle_factors
from core.evaluate import EngineParams, evaluate
from core.returns import log_returns
from core.types import Position
from plugins.exchanges.sim_market import SimMarket
from settings import Config


def market(n: int = 100):
    m = SimMarket(Config().exchange.model_copy(update={"name": "sim",
                                                        "symbols": f"top:{n}"}))

    async def go():
        await m.load_instruments()
        return await m.snapshot(bars=2880 + 104)

    return asyncio.run(go())


def main() -> None:
    snap = market()
    rng = np.random.default_rng(0)
    syms = [s for s in snap.symbols]
    positions = []
    for i in range(10_000):
        s = syms[int(rng.integers(len(syms)))]
        p = snap.last_price(s)
        positions.append(Position(s, "long" if i % 3 else "short", 1000 / p,
                                  p * rng.uniform(0.95, 1.05), float(rng.integers(2, 25))))
    params = EngineParams()
    evaluate(snap, positions[:10], params)  # warm caches and imports
    r = np.diff(np.log(snap.close), axis=0)

    def baseline() -> None:
        np.corrcoef(r[-96:], rowvar=False)
        np.corrcoef(r[-2880:], rowvar=False)

    cp = params.corr
    tail = log_returns(snap.close)[-(cp.slow + cp.fast):]

    t_eval = best_of(lambda: evaluate(snap, positions, params), repeat=3)
    t_none = best_of(lambda: evaluate(snap, [], params), repeat=3)
    t_factors = best_of(lambda: candle_factors(tail, cp), repeat=3)
    t_base = best_of(baseline, repeat=5)
    print(f"{snap.n_symbols} symbols x {snap.n_bars} bars")
    row("evaluate, 10,000 positions (target < 100 ms)", t_eval)
    row("evaluate, market only (no positions)", t_none)
    row("  of which candle factors (30-day market index, its z)", t_factors)
    row("  baseline: np.corrcoef fast + slow windows", t_base)
    t0 = time.perf_counter()
    res = evaluate(snap, positions, params)
    t1 = time.perf_counter()
    _ = [res.hedge(i) for i in range(len(res.positions))]
    row("sizing every position's hedge on demand (10,000)", time.perf_counter() - t1)
    del t0


if __name__ == "__main__":
    main()
