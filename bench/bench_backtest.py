"""The backtester against a straightforward pandas backtest of the same min_variance hedge,
and a study of 150 starts against running them one by one.

90 days of 15m bars (plus the 30-day warm-up) of 10 simulated symbols. The baseline is what
one would write first: at every bar, the fast window of returns from a DataFrame, ``.corr()``
and ``.cov()`` to pick the hedge and its β, then cash bookkeeping with fees, slippage,
funding and liquidations (isolated margin). Both must end with the same P&L. Then the five
built-in strategies together (target < 1 s), three years of BTC with ETH/SOL hedges, and the
study: 150 rolling starts × 90 days × 15m × 5 strategies (cross margin, both baselines)
against ``run_backtest`` once per start — the same results the way one would get them
without the study (every start prepared from scratch, one process); that baseline is timed
on a sample of starts and scaled to 150, and says so.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import replace

import numpy as np
import pandas as pd

from backtest.costs import CostParams, funding_matrix
from backtest.engine import BacktestParams, run_backtest
from backtest.prepared import prepare
from backtest.study import run_study, start_grid
from backtest.views import ViewMaker
from bench.timing import best_of, row
from core.liquidation import liquidation
from core.position_series import position_series
from core.types import MarketSnapshot, Position
from plugins.exchanges.sim_market import SimMarket
from plugins.strategies.base import Strategy, TargetLeg
from plugins.strategies.rebalance import rebalance
from runtime import build_runtime
from settings.config import Config
from settings.engine import engine_params

DAYS, WARM = 90, 31
STARTS, STEP_DAYS, SAMPLE = 150, 2, 6


def pandas_min_variance(snap: MarketSnapshot, p: BacktestParams, fast: int, min_fast: int
                        ) -> float:
    """Final equity of min_variance, written the plain way (pandas, a loop over bars)."""
    c = p.costs
    close = pd.DataFrame(snap.close, columns=snap.symbols)
    opens = pd.DataFrame(snap.open, columns=snap.symbols)
    rets = np.log(close).diff()
    sigma = rets.rolling(c.window, min_periods=1).std(ddof=0).shift(1)
    volnot = (close * pd.DataFrame(snap.volume, columns=snap.symbols)).rolling(
        c.window, min_periods=1).mean().shift(1)
    fund, _ = funding_matrix(snap, c)
    syms, tgt = list(snap.symbols), p.main
    j0 = syms.index(tgt)
    others = [s for s in syms if s != tgt]

    def slip(sym: str, t: int, notional: float) -> float:
        s = sigma[sym].iat[t]
        s = c.k_vol * s if s == s else 0.0
        v = volnot[sym].iat[t]
        if v == v and v > 0:
            s += c.k_size * notional / v
        return min(max(s, 0.0), c.max_slippage) * notional

    def liq_px(sym: str, size: float, entry: float, margin: float) -> float:
        pos = Position(sym, "long" if size > 0 else "short", abs(size), entry, p.leverage,
                       margin=margin)
        return liquidation(pos, snap.instruments[sym], fee=c.taker_fee).price

    start = p.start
    entry = opens[tgt].iat[start]
    size = p.capital * p.leverage / entry
    sign = 1 if p.side == "long" else -1
    main_liq = liq_px(tgt, sign * size, entry, p.capital)
    balance = p.capital - p.capital - size * entry * c.taker_fee - slip(tgt, start, size * entry)
    main_alive = True
    legs: dict[str, list[float]] = {}  # sym -> [size, entry, margin, liq]
    pending = None
    equity = p.capital
    for t in range(start, len(close)):
        if t > start:
            for sym, (sz, _, _, _) in legs.items():
                balance -= sz * opens[sym].iat[t] * fund[t, syms.index(sym)]
            if main_alive:
                balance -= sign * size * opens[tgt].iat[t] * fund[t, j0]
        if pending is not None:
            want = {leg.symbol: leg.signed() for leg in pending}
            for sym in sorted(set(want) | set(legs), key=syms.index):
                have = legs[sym][0] if sym in legs else 0.0
                new = want.get(sym, 0.0)
                if new == have:
                    continue
                px = opens[sym].iat[t]
                n = abs(new - have) * px
                balance -= n * c.taker_fee + slip(sym, t, n)
                if sym in legs:  # close the old leg at the open
                    sz, en, mg, _ = legs.pop(sym)
                    balance += mg + sz * (px - en)
                if new:
                    mg = abs(new) * px / p.leverage
                    balance -= mg
                    legs[sym] = [new, px, mg, liq_px(sym, new, px, mg)]
            pending = None
        for sym in list(legs):
            sz, en, mg, lq = legs[sym]
            lo, hi = snap.low[t, syms.index(sym)], snap.high[t, syms.index(sym)]
            if (sz > 0 and lo <= lq) or (sz < 0 and hi >= lq):
                del legs[sym]  # the margin is gone
        price = close.iloc[t]
        if main_alive and ((sign > 0 and snap.low[t, j0] <= main_liq)
                           or (sign < 0 and snap.high[t, j0] >= main_liq)):
            main_alive = False
            for sym, (sz, en, mg, _) in legs.items():
                n = abs(sz) * price[sym]
                balance += mg + sz * (price[sym] - en) - n * c.taker_fee - slip(sym, t, n)
            legs = {}
        equity = balance + sum(mg + sz * (price[s] - en) for s, (sz, en, mg, _) in legs.items())
        if main_alive:
            equity += p.capital + sign * size * (price[tgt] - entry)
        if not main_alive or t == len(close) - 1:
            if not main_alive:
                break
            continue
        window = rets.iloc[t - fast + 1: t + 1]
        corr = window.corr(min_periods=min_fast)[tgt].drop(tgt)
        rho2 = (corr ** 2).reindex(others)
        if rho2.notna().any():
            h = rho2.fillna(-1.0).idxmax()
            cov = window[[tgt, h]].cov(min_periods=min_fast)
            beta = cov.loc[tgt, h] / cov.loc[h, h]
            hn = -sign * beta * size * price[tgt]
            target = (TargetLeg(h, "long" if hn > 0 else "short", abs(hn) / price[h]),) \
                if beta == beta and hn != 0 else ()
        else:
            target = ()
        held = tuple(TargetLeg(s, "long" if v[0] > 0 else "short", abs(v[0]))
                     for s, v in sorted(legs.items(), key=lambda kv: syms.index(kv[0])))
        new, traded = rebalance(held, target, price.to_dict(), size * price[tgt],
                                p.rebalance_threshold)
        if traded:
            pending = new
    return float(equity)


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the study's workers)."""
    import resource

    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


def _sim(n_symbols: int, days: int) -> MarketSnapshot:
    cfg = Config()
    market = SimMarket(cfg.exchange.model_copy(update={"sim_days": days + WARM}),
                       n_symbols=n_symbols)
    return asyncio.run(market.snapshot(bars=(days + WARM) * 96))


def main() -> None:
    cfg = Config()
    ep = engine_params(cfg)
    snap = _sim(9, DAYS)  # 9 majors + the VOLX counterweight = 10 symbols
    params = BacktestParams(main=snap.symbols[0], start=snap.n_bars - DAYS * 96,
                            costs=CostParams(taker_fee=cfg.risk.taker_fee), margin="isolated")
    every = build_runtime(cfg, entry_points=False).strategies
    # the pandas loop re-picks the best hedge every bar: compare with switch_margin 0, which
    # is the same rule (the default 0.1 keeps the held instrument unless clearly beaten)
    mv = {"min_variance": type(every["min_variance"])({"switch_margin": 0.0})}
    ours = run_backtest(snap, mv, params, ep).runs["min_variance"].pnl[-1] + params.capital
    t_ours = best_of(lambda: run_backtest(snap, mv, params, ep), repeat=3)
    t0 = time.perf_counter()
    theirs = pandas_min_variance(snap, params, ep.corr.fast, ep.corr.min_fast)
    t_base = time.perf_counter() - t0
    row(f"min_variance {DAYS}d x 15m x {snap.n_symbols} symbols vs pandas loop", t_ours, t_base,
        target=">= 20x")
    same = bool(np.isclose(ours, theirs, rtol=1e-6, atol=1e-6))
    print(f"{'':<58} capital + P&L {ours:.4f} vs pandas {theirs:.4f}: "
          f"{'same' if same else 'DIFFERENT'}", flush=True)
    if not same:
        raise AssertionError(f"final equity differs: {ours} vs {theirs}")
    t_ps = best_of(lambda: position_series(snap.close, 0, ep.corr), repeat=3)
    row("  of which core.position_series (every-bar statistics)", t_ps)
    t_all = best_of(lambda: run_backtest(snap, every, params, ep), repeat=3)
    row(f"all 5 strategies {DAYS}d x 15m x {snap.n_symbols} symbols", t_all, target="< 1 s")
    years = _sim(2, 3 * 365)
    p3 = BacktestParams(main=years.symbols[0], start=WARM * 96,
                        costs=CostParams(taker_fee=cfg.risk.taker_fee))
    strat3 = {k: every[k] for k in ("none", "static", "min_variance", "seed_regime")}
    t3 = best_of(lambda: run_backtest(years, strat3, p3, ep), repeat=1)
    row(f"3 years 15m BTC + {years.n_symbols - 1} hedges, 4 strategies", t3, unit="s",
        target="a few s")
    study(cfg, every)


def study(cfg: Config, every: dict[str, Strategy]) -> None:
    """150 starts × 90 days × 5 strategies: the study against one ``run_backtest`` a start."""
    ep = engine_params(cfg)
    days = WARM + (STARTS - 1) * STEP_DAYS + DAYS
    snap = _sim(9, days - WARM)
    params = BacktestParams(main=snap.symbols[0], costs=CostParams(taker_fee=cfg.risk.taker_fee))
    horizon, step = DAYS * 96, STEP_DAYS * 96
    t0, c0 = time.perf_counter(), _cpu()
    m = prepare(snap, params.book, ep, params.costs)
    views = ViewMaker.of(m, ep)
    starts = start_grid(m, 30 * 96 + 1, horizon, step)[:STARTS]
    t_prep = time.perf_counter() - t0
    workers = os.cpu_count() or 1
    st = run_study(m, views, every, params, starts, horizon, step, workers=workers)
    t_study, cpu = time.perf_counter() - t0, _cpu() - c0
    sample = starts[:: max(1, len(starts) // SAMPLE)][:SAMPLE]
    t1 = time.perf_counter()
    for s in sample:
        run_backtest(snap, every, replace(params, start=s, stop=s + horizon), ep)
    t_one = (time.perf_counter() - t1) / len(sample) * len(starts)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    row(f"study: {len(starts)} starts x {DAYS}d x 15m x {len(every)} strategies, "
        f"{workers} procs", t_study, t_one, unit="s", target="< 60 s")
    print(f"{'':<58} of which preparing the shared inputs {t_prep:.1f} s; baseline = "
          f"run_backtest per start, {len(sample)} of {len(starts)} timed and scaled; "
          f"load average {load:.1f} on {workers} cores", flush=True)
    print(f"{'':<58} CPU {cpu:.1f} s in all processes: {cpu / workers:.1f} s of wall time "
          f"on {workers} idle cores", flush=True)
    surv = {k: float(np.mean(v["survived"])) for k, v in st.outcomes.items()
            if not k.startswith("matched:")}
    print(f"{'':<58} survival: " + ", ".join(f"{k} {v:.0%}" for k, v in surv.items()),
          flush=True)


if __name__ == "__main__":
    main()
