"""A simulated market walked into its scheduled cascade, engine results along the way, and a
fresh database per test."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence

import pytest

from core.evaluate import EngineParams, EngineResult, evaluate
from core.recommend import HeldHedge
from core.types import MarketSnapshot
from core.views import CorrelationParams
from plugins.alert_rules.base import RuleContext
from plugins.alert_rules.runner import build_context, trade_positions
from plugins.exchanges.sim_market import SimMarket
from settings import Config
from storage import open_database
from storage.chats import set_subscriptions
from storage.rule_state import OpenTrade, open_trades
from storage.trades import open_trade

PARAMS = EngineParams(corr=CorrelationParams(fast=96, slow=960, halflife=24.0, min_fast=77,
                                             min_slow=768, min_ewma=77))
BTC = "BTC-USDT-SWAP"
OWNER = 5001
STEPS = (0, 84, 88, 96, 104)  # bars after the sim clock: calm, cascade building, easing
BAR_MS = 900_000


@dataclasses.dataclass(frozen=True)
class Step:
    k: int
    snap: MarketSnapshot
    entry: float  # BTC close at the sim clock: the logged trade's entry


def _walk() -> list[Step]:
    market = SimMarket(Config().exchange.model_copy(update={"name": "sim", "seed": 7}),
                       n_symbols=8)

    async def go() -> list[Step]:
        await market.load_instruments()
        out, entry, at = [], 0.0, 0
        for k in STEPS:
            market.advance(k - at)
            at = k
            snap = await market.snapshot(bars=1100)
            entry = entry or float(snap.close[-1, snap.index(BTC)])
            out.append(Step(k, snap, entry))
        return out

    return asyncio.run(go())


@pytest.fixture(scope="session")
def walk() -> dict[int, Step]:
    return {s.k: s for s in _walk()}


@pytest.fixture
def config() -> Config:
    return Config().with_overrides(telegram={"signal_channel": -1001234567890},
                                   alerts={"cooldown": "2h"})


@pytest.fixture
def db(tmp_path):
    return open_database(tmp_path / "alerts.db")


@pytest.fixture
def trader(db, walk) -> OpenTrade:
    """A 10× BTC long logged at the sim clock by a private chat subscribed to everything."""
    open_trade(db, user_id=OWNER, chat_id=OWNER, symbol=BTC, side="long", size=1.0,
               entry=walk[0].entry, leverage=10, opened_at=walk[0].snap.server_time_ms,
               fee_rate=0.0005)
    db.execute("update trades set strategy = 'min_variance'")
    db.conn.commit()
    set_subscriptions(db, OWNER, ["regime", "cascade", "funding", "data"])
    return open_trades(db)[0]


def engine(step: Step, trades: Sequence[OpenTrade] = (), held: Sequence[HeldHedge] = ()
           ) -> EngineResult:
    return evaluate(step.snap, trade_positions(trades), PARAMS, held)


def context(db, config: Config, step: Step, result: EngineResult | None = None, *,
            trades: Sequence[OpenTrade] | None = None, strategies=None, now_ms: int | None = None,
            snap: MarketSnapshot | None = None, exchange_error: str | None = None
            ) -> RuleContext:
    trades = open_trades(db) if trades is None else trades
    snap = snap or step.snap
    if result is None and exchange_error is None:
        result = engine(step, trades)
    now = snap.server_time_ms + 5_000 if now_ms is None else now_ms
    return build_context(db, config, result, snap, now_ms=now, strategies=strategies,
                         trades=trades, exchange_error=exchange_error)
