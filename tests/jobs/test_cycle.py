"""One watch cycle on the simulated market with a real SQLite file: stages, strategies,
alerts into the outbox, the heartbeat, a failing exchange, and hedgewatch_on_cycle."""

from __future__ import annotations

import asyncio

import pytest

from jobs.cycle import WatchCycle
from plugins import hookimpl
from plugins.alert_rules.runner import STRATEGY_STATE
from plugins.exchanges.errors import SourceUnavailable
from plugins.exchanges.sim_market import SimMarket
from plugins.manager import PluginManager
from runtime import build_runtime
from settings import Config
from storage import open_database
from storage.chats import set_subscriptions
from storage.heartbeat import last_beat
from storage.rule_state import RuleMemory
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
    cycle = WatchCycle(build_runtime(CONFIG, plugins=pm), db=db, market=market)
    return db, market, cycle, rec


def test_a_cycle_runs_every_stage(setup):
    db, market, cycle, rec = setup
    open_trade(db, user_id=1, chat_id=1, symbol="BTC-USDT-SWAP", side="long", size=0.5,
               entry=float(market.paths.close[-1, 0]), leverage=10, opened_at=0,
               fee_rate=0.0005)
    summary = asyncio.run(cycle.run())
    assert summary.error is None and summary.trades == 1
    assert list(summary.stages_ms) == ["fetch", "engine", "trades", "strategies", "rules", "outbox",
                                       "send"]
    assert summary.symbols == len(CONFIG.exchange.symbols) and summary.cascade_level
    assert last_beat(db, "cycle").status == "ok"
    assert rec.summaries == [summary]
    # the first advice is stored (without an alert: nothing to compare it with)
    assert db["recommendations"].count == 1


def test_static_state_survives_between_cycles(setup):
    db, market, cycle, _ = setup
    db["users"].insert({"id": 1, "strategy": "static"})
    t = open_trade(db, user_id=1, chat_id=1, symbol="ETH-USDT-SWAP", side="long", size=3,
                   entry=3000.0, leverage=10, opened_at=0, fee_rate=0.0005)
    asyncio.run(cycle.run())
    first = RuleMemory(db).get(STRATEGY_STATE, f"{t.id}:static")
    market.advance(bars=4)
    asyncio.run(cycle.run())
    assert RuleMemory(db).get(STRATEGY_STATE, f"{t.id}:static") == first
    assert first["legs"]


def test_an_unreachable_exchange_degrades_the_cycle_with_a_data_alert(setup):
    db, market, cycle, _ = setup
    set_subscriptions(db, 7, ["data"])

    async def down(*a, **kw):
        raise SourceUnavailable("OKX answered 503 three times")

    market.snapshot = down
    summary = asyncio.run(cycle.run())
    assert "503" in summary.error and "engine" not in summary.stages_ms
    assert summary.alerts == {"data": 1}
    assert last_beat(db, "cycle").status == "degraded"
    assert db["deliveries"].count == 1
