"""One recommendation per trade per bar, over a year of real 15m bars (Binance BTC, ETH, SOL;
skipped without ../shared/data).

Every bar's close is evaluated as the live cycle does it (engine → strategies → the trade's
one advice → every rule → the outbox), with a hedged 5x BTC long (an ETH short leg logged
under it) and an unhedged 3x SOL short. Whatever the market did, the log holds at most one
alert per trade and bar — danger, take profit and a hedge change can never be said together.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter

import pytest

from core.evaluate import evaluate
from jobs.cycle import held_hedges
from plugins.alert_rules.registry import load_alert_kinds, load_rules
from plugins.alert_rules.runner import build_context, evaluate_rules, record, trade_positions
from runtime import build_runtime
from settings import Config
from storage.rule_state import open_trades
from storage.trades import open_trade

BAR = 900_000
YEAR = 96 * 365


@pytest.mark.slow
async def test_a_year_of_bars_gives_each_trade_at_most_one_advice_per_bar(shared_data, tmp_path):
    cfg = Config().with_overrides(
        exchange={"name": "csv", "data_dir": str(shared_data / "binance_usdm_15m"),
                  "funding_dir": str(shared_data / "funding" / "binance"),
                  "symbols": ["BTC", "ETH", "SOL"]},
        engine={"fast_window": "6h", "slow_window": "3d", "ewma_halflife": "2h"},
        storage={"path": str(tmp_path / "year.db")})
    rt = build_runtime(cfg, entry_points=False)
    db = rt.open_storage()
    market = rt.market()
    await market.load_instruments()
    window = cfg.engine.slow_window.bars(cfg.exchange.timeframe) + 32
    snap = await market.snapshot(bars=YEAR + window)
    kinds = load_alert_kinds(rt.plugins)
    rules = [r for r in load_rules(rt.plugins, kinds) if not getattr(r, "watch_only", False)]
    start = snap.n_bars - YEAR

    def price(symbol: str, t: int) -> float:
        return float(snap.close[t, snap.index(symbol)])

    opened = int(snap.times[start])
    btc = open_trade(db, user_id=1, chat_id=1, symbol="BTC-USDT-SWAP", side="long", size=0.5,
                     entry=price("BTC-USDT-SWAP", start - 1), leverage=5, opened_at=opened,
                     fee_rate=0.0005)
    open_trade(db, user_id=1, chat_id=1, symbol="ETH-USDT-SWAP", side="short", size=6.0,
               entry=price("ETH-USDT-SWAP", start - 1), leverage=5, opened_at=opened,
               fee_rate=0.0005, parent_id=btc.id)
    open_trade(db, user_id=2, chat_id=2, symbol="SOL-USDT-SWAP", side="short", size=100.0,
               entry=price("SOL-USDT-SWAP", start - 1), leverage=3, opened_at=opened,
               fee_rate=0.0005)
    fields = ("times", "open", "high", "low", "close", "volume", "valid")
    for t in range(start, snap.n_bars):
        lo = t - window + 1
        bar = dataclasses.replace(snap, server_time_ms=int(snap.times[t]) + BAR,
                                  **{f: getattr(snap, f)[lo:t + 1] for f in fields})
        trades = open_trades(db)
        result = evaluate(bar, trade_positions(trades), rt.engine_params,
                          held_hedges(trades, bar))
        ctx = build_context(db, cfg, result, bar, now_ms=bar.server_time_ms,
                            strategies=rt.strategies, trades=trades, pm=rt.plugins)
        assert set(ctx.advice) == {ti.trade_id for ti in ctx.trades}  # one each, no more
        record(ctx, db, rt.plugins, evaluate_rules(ctx, rules, rt.plugins, kinds))

    alerts = [(a["trade_id"], json.loads(a["payload"])["time_ms"], a["kind"])
              for a in db["alerts"].rows_where("trade_id is not null")]
    per_bar = Counter((trade, time_ms) for trade, time_ms, _ in alerts)
    assert max(per_bar.values()) == 1, [k for k, n in per_bar.items() if n > 1][:5]
    said = Counter(kind for _, _, kind in alerts)
    assert said["rebalance"] >= 2 and said["liquidation"] >= 1, said  # the test saw advice
    assert not rt.plugins.failures
