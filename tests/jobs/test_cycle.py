"""One watch cycle on the simulated market with a real SQLite file: stages, strategies,
the heartbeat, a failing exchange, and the hedgewatch_on_cycle notification."""

from __future__ import annotations

import asyncio

import pytest

from jobs.cycle import WatchCycle
from plugins import hookimpl
from plugins.exchanges.errors import SourceUnavailable
from plugins.exchanges.sim_market import SimMarket
from plugins.manager import PluginManager
from plugins.strategies.registry import load_strategies
from settings import Config
from settings.engine import engine_params
from storage import open_database
from storage.heartbeat import last_beat
from storage.recommendations import latest
from storage.trades import open_trade

CONFIG = Config().with_overrides(exchange={"name": "sim"}, engine={"slow_window": "10d"})


class Recorder:
    def __init__(self):
        self.summaries = []

    @hookimpl
    def hedgewatch_on_cycle(self, summary):
        self.summaries.append(summary)


@pytest.fixture
def setup(db_path):
    db = open_database(db_path)
    market = SimMarket(CONFIG.exchange)
    asyncio.run(market.load_instruments())
    pm = PluginManager(entry_points=False)
    rec = Recorder()
    pm.register(rec, name="recorder")
    cycle = WatchCycle(config=CONFIG, db=db, market=market, pm=pm,
                       strategies=load_strategies(pm), params=engine_params(CONFIG))
    return db, market, cycle, rec


def test_a_cycle_runs_every_stage_and_records_recommendations(setup):
    db, market, cycle, rec = setup
    price = market.paths.close[-1, 0]
    t = open_trade(db, user_id=1, chat_id=1, symbol="BTC-USDT-SWAP", side="long", size=0.5,
                   entry=float(price), leverage=10, opened_at=0, fee_rate=0.0005)
    summary = asyncio.run(cycle.run())
    assert summary.error is None and summary.trades == 1
    assert set(summary.stages_ms) >= {"fetch", "engine", "strategies", "rules", "send"}
    assert summary.symbols == len(CONFIG.exchange.symbols) and summary.cascade_level
    r = latest(db, t.id, "min_variance")
    assert r is not None and r.legs and r.legs[0][1] == "short" and r.trade
    assert last_beat(db, "cycle").status == "ok"
    assert rec.summaries == [summary]


def test_static_state_survives_between_cycles(setup):
    db, market, cycle, _ = setup
    db["users"].insert({"id": 1, "strategy": "static"})
    t = open_trade(db, user_id=1, chat_id=1, symbol="ETH-USDT-SWAP", side="long", size=3,
                   entry=3000.0, leverage=10, opened_at=0, fee_rate=0.0005)
    asyncio.run(cycle.run())
    first = latest(db, t.id, "static")
    market.advance(bars=4)
    asyncio.run(cycle.run())
    second = latest(db, t.id, "static")
    assert second.legs == first.legs and second.state == first.state and not second.trade


def test_an_unreachable_exchange_degrades_the_cycle(setup):
    db, market, cycle, _ = setup

    async def down(**kw):
        raise SourceUnavailable("OKX answered 503 three times")

    market.snapshot = down
    summary = asyncio.run(cycle.run())
    assert "503" in summary.error and "engine" not in summary.stages_ms
    assert last_beat(db, "cycle").status == "degraded"
