"""Old data is never labelled fresh. The real ccxt client against the fake OKX, whose clock
runs on while it is frozen for three hours — down altogether, or answering everything but
new candles. ``/market``, ``/hedge`` and ``/status`` answer with the data's age at answer
time and why it is old, ``bot.py health`` turns degraded (exit 1) and names the cause, the
cycle raises a data alert; on recovery the answers are current again, health is ok, and the
recovery is announced once (the data rule's hysteresis)."""

from __future__ import annotations

import pytest

import bot
from chat.context import CommandContext, Services
from chat.dispatch import Dispatcher
from jobs.cycle import WatchCycle
from plugins.exchanges.ccxt_market import OkxMarket
from plugins.manager import PluginManager
from runtime import build_runtime
from settings import Config
from settings.secrets import Secrets
from storage import open_database
from storage.chats import ensure_chat, set_subscriptions
from tests.fakes.okx_server import FakeOkx

BAR = 900_000
BASES = ["BTC", "ETH", "SOL"]
GROUP = -1009


@pytest.fixture
async def okx():
    async with FakeOkx(bases=BASES) as srv:
        yield srv


# (what the freeze is, the fault's endpoint, what the answers say, what health says)
FREEZES = [
    ("down", None, "exchange not answering", "exchange errors"),
    ("no new candles", "candles", "no new bars from the exchange",
     "no new bars from the exchange"),
]


@pytest.mark.parametrize(("freeze", "endpoint", "answer_says", "health_says"), FREEZES,
                         ids=[f[0] for f in FREEZES])
async def test_three_frozen_hours_are_shown_with_their_age_and_health_degrades(
        okx, tmp_path, capsys, freeze, endpoint, answer_says, health_says):
    config = Config().with_overrides(
        exchange={"name": "okx", "api_url": okx.url, "symbols": BASES, "timeout": "500ms",
                  "max_retries": 1},
        engine={"fast_window": "6h", "slow_window": "2d", "ewma_halflife": "2h"},
        schedule={"interval": "15m"}, storage={"path": str(tmp_path / "hw.db")})
    db = open_database(config.storage.path)
    ensure_chat(db, GROUP, "supergroup")
    set_subscriptions(db, GROUP, ["data"])
    market = OkxMarket(config.exchange, storage=db, backoff_s=0.01, seed=3)
    pm = PluginManager(entry_points=False)
    rt = build_runtime(config, Secrets(), plugins=pm)
    clock = lambda: okx.now_ms / 1000  # noqa: E731 - the cycle and the chat share it
    cycle = WatchCycle(rt, db=db, market=market, clock=clock)
    services = Services(config, db, market, clock=clock, commands=rt.extensions.command_map)
    chat = Dispatcher(rt.commands)
    ctx = CommandContext.local(services)

    async def ask(text):
        reply = await chat.handle(text, ctx)
        assert reply.ok, reply.text
        return reply, "\n".join(reply.text)

    def health() -> tuple[int, str]:
        code = bot.health(rt, now_ms=okx.now_ms)
        out = capsys.readouterr()
        return code, out.out + out.err

    try:
        okx.advance(BAR)
        assert (await cycle.run()).error is None
        _, text = await ask("/market")
        assert "data " in text and "⚠" not in text.split("Funding")[-1] and "fresh" not in text
        assert health()[0] == 0

        okx.fault("unavailable", endpoint, None, times=None)  # three hours frozen
        for _ in range(12):
            okx.advance(BAR)
            await cycle.run()

        market_reply, text = await ask("/market")
        assert f"old — {answer_says}" in text and "data 3 h" in text, text
        assert 3 * 3_600_000 <= market_reply.data["data_age_ms"] < 3 * 3_600_000 + BAR
        assert market_reply.data["data_behind"].startswith(answer_says)
        _, text = await ask("/hedge btc 0.1 10x")
        assert "data 3 h" in text and answer_says in text and "fresh" not in text
        status, text = await ask("/status")
        assert status.data["status"] == "degraded" and "DEGRADED" in text
        assert "newest bar 3 h" in text and answer_says in text
        code, said = health()
        assert code == 1 and "degraded" in said and "data 3 h" in said and health_says in said
        data_alerts = db.execute("select count(*) from alerts where kind = 'data'").fetchone()
        assert data_alerts[0] >= 1  # the cycle told the subscribers

        okx.clear_faults()
        for _ in range(4):  # an hour of fresh data: past [alerts] data_clear_after
            okx.advance(BAR)
            assert (await cycle.run()).error is None
        _, text = await ask("/market")
        assert "⚠" not in text.split("Funding")[-1] and "3 h" not in text
        assert (await ask("/status"))[0].data["status"] == "ok"
        assert health()[0] == 0
        recovered = db.execute("select count(*) from alerts where kind = 'data' and "
                               "dedup_key like 'data:recovered%'").fetchone()[0]
        assert recovered == 1  # once, however many fresh cycles follow
    finally:
        await market.close()
