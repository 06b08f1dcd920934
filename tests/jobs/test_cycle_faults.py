"""Faults during cycles, with the real ccxt client against the fake OKX server and the real
PTB bot against the fake Bot API: exchange 503s, timeouts and an outage; Telegram 502s and
flood limits. Every cycle completes or degrades with a data alert; every delivery recorded
arrives, and none twice."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

import jobs.cycle as cycle_module
from chat.sender import Sender, make_bot
from jobs.cycle import WatchCycle
from plugins import hookimpl
from plugins.exchanges.ccxt_market import OkxMarket
from plugins.manager import PluginManager
from runtime import build_runtime
from settings import Config
from storage import open_database
from storage.chats import ensure_chat, set_subscriptions
from storage.trades import open_trade
from tests.fakes.okx_server import START_MS, FakeOkx
from tests.fakes.telegram_server import FakeTelegram, FloodControl

BAR = 900_000
BASES = ["BTC", "ETH", "SOL"]
TRADER, GROUP = 7001, -1007


@pytest.fixture
async def okx():
    async with FakeOkx(bases=BASES) as srv:
        yield srv


@pytest.fixture
async def tg():
    flood = FloodControl(global_limit=30, group_limit=3, group_window=2.0, private_rate=2.0)
    async with FakeTelegram(flood=flood) as fake:
        yield fake


async def test_cycles_survive_exchange_and_telegram_faults(okx, tg, tmp_path):
    config = Config().with_overrides(
        exchange={"name": "okx", "api_url": okx.url, "symbols": BASES, "timeout": "500ms",
                  "max_retries": 1},
        engine={"fast_window": "6h", "slow_window": "2d", "ewma_halflife": "2h"},
        schedule={"interval": "15m"}, telegram={"api_url": tg.base_url},
        alerts={"cooldown": "15m"})
    db = open_database(tmp_path / "hw.db")
    ensure_chat(db, GROUP, "supergroup")
    set_subscriptions(db, GROUP, ["cascade", "regime", "data"])
    open_trade(db, user_id=TRADER, chat_id=TRADER, symbol="BTC-USDT-SWAP", side="long",
               size=1.0, entry=okx.market.price("BTC", START_MS), leverage=10,
               opened_at=START_MS, fee_rate=0.0005)
    okx.market.selloff(None, START_MS + 2 * BAR, 0.2, 8 * BAR)
    market = OkxMarket(config.exchange, storage=db, backoff_s=0.01, seed=3)
    await market.load_instruments()
    pm = PluginManager(entry_points=False)
    bot = make_bot(config, tg.token)
    started = time.monotonic()

    def clock() -> float:  # the exchange's clock, running in real time between its steps
        return okx.now_ms / 1000 + time.monotonic() - started

    sender = Sender(db, bot, config, per_chat_interval=0.05, backoff=0.05, clock=clock)

    async def send() -> int:
        """Drain, and again when a delivery falls due within seconds (the service's
        wake-up): backoffs and retry_after are waited between drains."""
        report = await sender.drain()
        sent = report.sent
        while report.next_due_ms is not None and report.next_due_ms / 1000 - clock() < 5:
            await asyncio.sleep(max(0.0, report.next_due_ms / 1000 - clock()))
            report = await sender.drain()
            sent += report.sent
        return sent

    cycle = WatchCycle(build_runtime(config, plugins=pm), db=db, market=market,
                       send_stage=send, clock=lambda: okx.now_ms / 1000)
    summaries = []
    for k in range(14):
        okx.advance(BAR)
        if k == 3:  # transient exchange trouble: retried away or the symbol is marked
            okx.fault("unavailable", "market/candles", "ETH", times=1)
            okx.fault("timeout", "market/books", "SOL", times=2, delay_s=2)
        if k in (6, 7):  # a full outage for two cycles
            okx.fault("unavailable", None, None, times=None)
        if k == 8:
            okx.clear_faults()
        if k in (2, 5, 9):  # Telegram's gateway and flood control on the way
            tg.fail_next("sendMessage", 2, kind="error", status=502)
            tg.fail_next("sendPhoto", 1, kind="error", status=502)
        summaries.append(await cycle.run())
    await market.close()
    await bot.shutdown()

    assert len(summaries) == 14
    down = [s for s in summaries[6:8]]
    assert all(s.error and "engine" not in s.stages_ms for s in down)
    # down, then recovered once the data has been fresh for [alerts] data_clear_after (30m)
    assert [s.alerts.get("data", 0) for s in summaries[6:11]] == [1, 0, 0, 0, 1]
    assert all(s.error is None for s in summaries[9:])
    # everything recorded was delivered, and nothing twice
    status = Counter(r[0] for r in db.execute("select status from deliveries").fetchall())
    assert set(status) == {"sent"}, status
    for chat in (TRADER, GROUP):
        texts = [m.visible_text for m in tg.sent_to(chat)]
        assert texts and len(texts) == len(set(texts)), texts
    n_deliveries = db["deliveries"].count
    assert len(tg.sent) == n_deliveries
    assert any("502" in str(r.status) or r.status == 502 for r in tg.rejected)


async def test_a_large_position_is_liquidated_at_its_tier_mmr(okx, tmp_path):
    """2,000 contracts of BTC is past OKX's first tier (the fake serves 500 / 2,000 / ...):
    the cycle fetches the tiers, so the liquidation price uses tier 2's mmr, not tier 1's."""
    config = Config().with_overrides(
        exchange={"name": "okx", "api_url": okx.url, "symbols": BASES},
        engine={"fast_window": "6h", "slow_window": "2d", "ewma_halflife": "2h"})
    db = open_database(tmp_path / "hw.db")
    entry = okx.market.price("BTC", START_MS)
    open_trade(db, user_id=TRADER, chat_id=TRADER, symbol="BTC-USDT-SWAP", side="long",
               size=20.0, entry=entry, leverage=10, opened_at=START_MS, fee_rate=0.0005)
    market = OkxMarket(config.exchange, storage=db, backoff_s=0.01, seed=3)
    await market.load_instruments()
    pm = PluginManager(entry_points=False)
    seen = []

    class Spy:
        @staticmethod
        @hookimpl
        def hedgewatch_on_cycle(summary):
            seen.append(summary)

    pm.register(Spy(), name="spy")
    cycle = WatchCycle(build_runtime(config, plugins=pm), db=db, market=market,
                       clock=lambda: okx.now_ms / 1000)
    okx.advance(BAR)
    captured = {}
    real = cycle_module.evaluate

    def spy_evaluate(*args, **kw):
        captured["result"] = real(*args, **kw)
        return captured["result"]

    cycle_module.evaluate = spy_evaluate
    try:
        await cycle.run()
    finally:
        cycle_module.evaluate = real
        await market.close()
    r = captured["result"]
    contracts = 20.0 / market.instruments["BTC-USDT-SWAP"].contract_value
    assert 500 < contracts <= 2000
    assert r.risk.mmr[0] == 0.005 and r.risk.tier[0] == 2
    margin = entry * 20.0 / 10
    fee = market.instruments["BTC-USDT-SWAP"].taker_fee
    expected = (entry - margin / 20.0) / (1 - 0.005 - fee)
    assert r.risk.liquidation_price[0] == pytest.approx(expected, rel=1e-12)
    assert seen and seen[0].error is None
