"""Synced trades in the watch cycle: the accounts are synced first, the exchange's close wins
over the candle-based estimate (no double close, no estimated funding), and the engine judges
a synced position at the liquidation price its exchange's rules give."""

from __future__ import annotations

import numpy as np
import pytest
from cryptography.fernet import Fernet

from core.evaluate import evaluate
from core.types import MarketSnapshot, Position, StatSeries
from jobs.cycle import WatchCycle
from jobs.trade_truth import accrue_funding, find_cross_liquidations, find_liquidations
from plugins.accounts.service import Accounts
from plugins.alert_rules.runner import trade_positions
from plugins.exchanges.account_access import AccountAccess
from plugins.exchanges.ccxt_market import OkxMarket
from plugins.manager import PluginManager
from runtime import build_runtime
from settings import Config
from settings.config import ExchangeConfig
from storage import accounts as store
from storage import open_database
from storage import trades as log
from storage.key_vault import KeyVault
from storage.rule_state import OpenTrade, open_trades
from tests.accounts.venues import KEYS, USER
from tests.fakes.okx_server import FakeOkx

BAR = 900_000


def snap(closes: list[float], lows: list[float]) -> MarketSnapshot:
    c = np.array([closes]).T
    return MarketSnapshot.build(source="test", timeframe_ms=BAR, symbols=["BTC"],
                                times=np.arange(len(closes)) * BAR, open=c, high=c,
                                low=np.array([lows]).T, close=c, volume=np.ones_like(c),
                                server_time_ms=len(closes) * BAR)


def trade(k: int, synced: bool, mode: str = "isolated") -> OpenTrade:
    return OpenTrade(k, USER, "BTC", "long", 1.0, 100.0, 10, None, margin_mode=mode,
                     margin=10.0, account_id=1 if synced else None, liq_price=91.0)


def test_the_candles_never_close_or_fund_a_synced_trade():
    s = snap([100, 95, 93, 97], [100, 94, 85, 96])  # bar 2 goes through both prices
    mine, theirs = trade(1, False), trade(2, True)
    assert [c.trade.trade_id for c in find_liquidations([mine, theirs], [91.0, 91.0], s)] \
        == [1]
    cross = [trade(3, False, "cross"), trade(4, True, "cross")]
    assert {c.trade.trade_id for c in find_cross_liquidations(cross, [0.004] * 2,
                                                              [0.0005] * 2, s)} == {3}

    class Funding:
        async def fetch_funding_history(self, symbol, since):
            return StatSeries(np.array([2 * BAR], np.int64), np.array([0.001]))

    import asyncio

    db = open_database(":memory:")
    paid = asyncio.run(accrue_funding(db, Funding(), [theirs], s, 4 * BAR))
    assert paid == 0  # the exchange's payments come with the sync instead


def test_the_engine_judges_a_synced_position_at_its_exchanges_price():
    closes = list(100 + np.sin(np.arange(200) / 7))
    s = snap(closes, closes)
    (pos,) = trade_positions([trade(1, True)])
    assert pos == Position("BTC", "long", 1.0, 100.0, 10, "isolated", 10.0,
                           liquidation_price=91.0)
    result = evaluate(s, [pos, Position("BTC", "long", 1.0, 100.0, 10, margin=10.0)])
    ours, formula = result.risk.liquidation_price
    assert ours == 91.0 and formula != 91.0  # the hand-logged one by the formula


@pytest.fixture
async def okx_cycle(tmp_path):
    async with FakeOkx(bases=["BTC", "ETH"]) as srv:
        acct = srv.new_account(wallet=20_000)
        keys = KEYS["okx"]
        srv.add_key(keys.api_key, keys.secret, keys.passphrase, account=acct)
        cfg = Config().with_overrides(
            exchange={"api_url": srv.url, "symbols": ["BTC", "ETH"], "timeout": "2s",
                      "max_retries": 1},
            engine={"slow_window": "1d", "fast_window": "4h"})
        market = OkxMarket(ExchangeConfig.model_validate(cfg.exchange.model_dump()),
                           backoff_s=0.01)
        db = open_database(tmp_path / "hw.db")
        vault = KeyVault(Fernet.generate_key().decode())
        accounts = Accounts(db, vault, AccountAccess(markets={"okx": market}),
                            resolve=lambda unified: market.resolve(unified),
                            clock=lambda: srv.now_ms / 1000)
        cycle = WatchCycle(build_runtime(cfg, plugins=PluginManager(entry_points=False)),
                           db=db, market=market, accounts=accounts,
                           clock=lambda: srv.now_ms / 1000)
        store.connect(db, vault, user_id=USER, exchange="okx", keys=keys, rights="read only",
                      now_ms=srv.now_ms)
        try:
            yield srv, acct, db, cycle
        finally:
            await market.close()
            db.close()


async def test_a_cycle_syncs_first_and_the_exchanges_liquidation_is_told_once(okx_cycle):
    srv, acct, db, cycle = okx_cycle
    px = srv.market.price("BTC", srv.now_ms)
    acct.open("BTC", "long", 0.5, px, srv.now_ms - 60_000, leverage=20)
    first = await cycle.run()
    assert first.accounts_synced == 1 and "accounts" in first.stages_ms
    assert first.trades == 1  # the synced trade is in this very cycle
    (t,) = open_trades(db)
    assert t.synced and t.liq_price is not None
    srv.advance(BAR)
    acct.liquidate("BTC", "long", srv.now_ms - 1_000)
    second = await cycle.run()
    assert second.alerts.get("liquidation") == 1 and second.accounts_synced == 1
    (closed,) = log.list_trades(db, USER)
    assert closed.close_reason == "liquidated" and not closed.is_open
    rows = db.execute("select severity, dedup_key from alerts where kind = 'liquidation' "
                      "and severity = 'critical'").fetchall()
    assert rows == [("critical", f"liquidation:{closed.id}:closed")]  # one, the exchange's
    await cycle.run()
    assert db.execute("select count(*) from alerts where severity = 'critical'").fetchone() \
        == (1,)
