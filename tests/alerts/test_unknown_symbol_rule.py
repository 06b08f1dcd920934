"""A configured symbol the exchange does not list, when it could not be checked at start (the
exchange was down): the other symbols are still watched, and each operator gets one
"unknown symbol" alert per symbol when the exchange answers — through the alert outbox."""

from __future__ import annotations

import logging

from jobs.cycle import WatchCycle
from plugins.exchanges.ccxt_market import OkxMarket
from plugins.manager import PluginManager
from plugins.preflight import symbol_problems
from runtime import build_runtime
from settings import Config
from storage import open_database
from storage.outbox import load_alert
from tests.fakes.okx_server import FakeOkx

ADMINS = [7, 8]


def _config(url: str, admins: list[int]) -> Config:
    return Config().with_overrides(
        exchange={"api_url": url, "symbols": ["BTC", "ETHH", "SOL"], "max_retries": 0,
                  "timeout": "2s"},
        engine={"fast_window": "6h", "slow_window": "2d"}, telegram={"admins": admins})


async def test_unknown_symbol_reaches_each_operator_once_when_the_exchange_is_back(db_path):
    async with FakeOkx() as okx:
        config = _config(okx.url, ADMINS)
        okx.fault("unavailable")  # down at start: only a warning
        market = OkxMarket(config.exchange, storage=open_database(db_path), backoff_s=0.01)
        problems, warnings = await symbol_problems(config, market)
        assert problems == [] and warnings[0].startswith("could not load okx's market list")
        okx.clear_faults()
        db, pm = open_database(db_path), PluginManager(entry_points=False)
        cycle = WatchCycle(build_runtime(config, plugins=pm), db=db, market=market,
                           clock=lambda: okx.now_ms / 1000)
        summary = await cycle.run()
        await cycle.run()  # the next cycle does not repeat it
        await market.close()
    assert summary.symbols == 2 and summary.error is None  # BTC and SOL are still watched
    assert summary.missing == {"ETHH": "unknown symbol on okx (did you mean ETH-USDT-SWAP?)"}
    assert summary.alerts == {"config": 2}
    rows = list(db["deliveries"].rows_where(order_by="chat_id"))
    assert [r["chat_id"] for r in rows] == ADMINS
    alert = load_alert(db, rows[0]["alert_id"])
    assert alert.kind == "config" and alert.record["title"] == ("Unknown symbol 'ETHH' in "
                                                                "[exchange] symbols")
    assert alert.record["body"][0] == "okx: unknown symbol on okx (did you mean ETH-USDT-SWAP?)."


async def test_without_operators_it_is_logged_once(db_path, caplog):
    async with FakeOkx() as okx:
        config = _config(okx.url, [])
        market = OkxMarket(config.exchange, storage=open_database(db_path), backoff_s=0.01)
        db, pm = open_database(db_path), PluginManager(entry_points=False)
        cycle = WatchCycle(build_runtime(config, plugins=pm), db=db, market=market,
                           clock=lambda: okx.now_ms / 1000)
        with caplog.at_level(logging.ERROR):
            await cycle.run()
            await cycle.run()
        await market.close()
    logged = [r.getMessage() for r in caplog.records if "lists no" in r.getMessage()]
    assert logged == ["[exchange] symbols: okx lists no ETHH (set [telegram] admins to be "
                      "alerted on Telegram)"]
    assert db["deliveries"].count == 0
