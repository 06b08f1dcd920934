"""``bot.py run`` with exchange keys says at start what they may do: a warning when they can
trade (hedgewatch never does), a quiet note when they only read; the key never reaches the log."""

from __future__ import annotations

import logging

import pytest

from jobs.service import _check_key
from plugins.exchanges.ccxt_market import OkxMarket
from settings.config import ExchangeConfig
from tests.chat.test_account_command import KEY_PARTS, KEYS
from tests.fakes.okx_market import default_bases
from tests.fakes.okx_server import FakeOkx


@pytest.mark.parametrize(("perm", "level", "words"), [
    ("read_only,trade", logging.WARNING, "can TRADE"),
    ("read_only", logging.INFO, "read the account (read only)")])
async def test_start_up_says_what_the_keys_may_do(caplog, perm, level, words):
    async with FakeOkx(bases=default_bases(2)) as okx:
        okx.add_key(*KEY_PARTS)
        okx.account_perm = perm
        ex = ExchangeConfig.model_validate({"api_url": okx.url, "symbols": ["BTC"],
                                            "timeout": "2s", "max_retries": 1})
        market = OkxMarket(ex, secrets=KEYS, backoff_s=0.01)
        try:
            with caplog.at_level(logging.INFO, logger="jobs.service"):
                await _check_key(market)
        finally:
            await market.close()
    said = [r for r in caplog.records if r.name == "jobs.service"]
    assert [r.levelno for r in said] == [level] and words in said[0].getMessage()
    assert not any(k in caplog.text for k in ("hw-key-3f9a", "hw-secret-77c1", "hw-pass-b2d0"))


async def test_a_rejected_key_turns_off_the_account_only(caplog, tmp_path):
    """OKX refuses the key (50111 on every signed request, ccxt's AuthenticationError): the
    start-up check tells the operator what is off and how to fix it; instruments, snapshots
    and /market keep working without the key, and /account says why it is off."""
    from chat.commands.account import Account
    from chat.commands.market import Market
    from chat.context import CommandContext, Services
    from chat.dispatch import Dispatcher
    from plugins.exchanges.errors import KeyRejected
    from settings import Config
    from storage import open_database

    async with FakeOkx(bases=default_bases(3)) as okx:
        okx.reject_key = "50111"
        ex = ExchangeConfig.model_validate({"api_url": okx.url, "symbols": ["BTC", "ETH"],
                                            "timeout": "2s", "max_retries": 1})
        market = OkxMarket(ex, secrets=KEYS, backoff_s=0.01)
        try:
            await market.load_instruments()  # signs the currencies request: refused
            with caplog.at_level(logging.INFO, logger="jobs.service"):
                await _check_key(market)
            with pytest.raises(KeyRejected, match="rejected the API key"):
                await market.fetch_positions()
            config = Config().with_overrides(storage={"path": str(tmp_path / "hw.db")},
                                             engine={"fast_window": "6h", "slow_window": "2d",
                                                     "ewma_halflife": "2h"})
            services = Services(config, open_database(config.storage.path), market,
                                clock=lambda: okx.now_ms / 1000)
            ctx = CommandContext.local(services)
            dispatcher = Dispatcher([Account(), Market()])
            account = await dispatcher.handle("/account", ctx)
            public = await dispatcher.handle("/market", ctx)
        finally:
            await market.close()
        assert okx.count("/api/v5/public/instruments", status=200) >= 1
    said = [r for r in caplog.records if r.name == "jobs.service"]
    assert [r.levelno for r in said] == [logging.ERROR]
    message = said[0].getMessage()
    assert "rejected" in message and "50111" in message and "OKX_API_KEY" in message
    assert "market commands and alerts are not affected" in message
    assert account.kind == "failure" and "rejected by the exchange" in account.text[0]
    assert public.ok and public.data["cascade"]["level"]
    assert not any(k in caplog.text for k in ("hw-key-3f9a", "hw-secret-77c1", "hw-pass-b2d0"))


async def test_the_bot_runs_on_with_a_rejected_key(tmp_path, caplog):
    """``bot.py run`` with a key the exchange refuses: it starts, the cycles run on public
    data and write their heartbeat, and the operator is told once."""
    import asyncio

    from jobs.service import serve
    from runtime import build_runtime
    from settings import Config
    from storage import open_database
    from storage.heartbeat import last_beat

    async with FakeOkx(bases=default_bases(3), realtime=True) as okx:
        okx.reject_key = "50113"
        db_path = tmp_path / "hw.db"
        config = Config().with_overrides(
            exchange={"name": "okx", "api_url": okx.url, "symbols": ["BTC", "ETH", "SOL"],
                      "timeout": "2s", "max_retries": 1},
            engine={"fast_window": "6h", "slow_window": "2d", "ewma_halflife": "2h"},
            storage={"path": str(db_path)},
            schedule={"interval": "15m", "cascade_symbols": []})
        stop = asyncio.Event()
        with caplog.at_level(logging.INFO):
            task = asyncio.create_task(serve(build_runtime(config, KEYS, entry_points=False),
                                             stop))
            reader = open_database(db_path)
            for _ in range(150):
                await asyncio.sleep(0.2)
                if task.done() or last_beat(reader, "cycle") is not None:
                    break
            stop.set()
            assert await asyncio.wait_for(task, 60) == 0
    beat = last_beat(reader, "cycle")
    assert beat is not None and beat.status == "ok" and beat.detail["symbols"] == 3
    assert caplog.text.count("API key was rejected by the exchange") == 1
