"""``/mute`` over Telegram: a muted trader still gets a critical alert about their own trade;
``/mute all`` silences that too, and says so. The real PTB bot and sender against the fake
Bot API, the real outbox."""

from __future__ import annotations

from chat.sender import Sender
from core.alerts import Alert
from storage import outbox
from tests.telegram.conftest import FIXED_NOW

TRADER = 1
NOW_MS = int(FIXED_NOW * 1000)


def liquidation(n: int, severity: str) -> Alert:
    return Alert("liquidation", f"liquidation:9:{severity}:{n}", severity,
                 f"Liquidation risk on #9 BTC long ({severity} {n})", ("Trade #9",),
                 "Add margin", NOW_MS, 0, 0, trade_id=9, owner_chat_id=TRADER)


async def deliver(bot, *alerts: Alert) -> list[str]:
    """Record the alerts a minute from now and send them; the texts the trader received."""
    before = len(bot.tg.sent_to(TRADER))
    outbox.record_alerts(bot.db, list(alerts), now_ms=NOW_MS + 60_000)
    await Sender(bot.db, bot.app.bot, bot.front.services.config, per_chat_interval=0,
                 clock=lambda: FIXED_NOW + 60).drain()
    return [m.visible_text or "" for m in bot.tg.sent_to(TRADER)[before:]]


async def test_a_muted_trader_still_gets_a_critical_alert_on_their_own_trade(bot):
    (reply,) = await bot.say("/mute 1h", chat=TRADER)
    assert "Critical alerts about your own trades (liquidation) still come through" in \
        reply.visible_text
    assert "/mute all 1h" in reply.visible_text
    got = await deliver(bot, liquidation(1, "warning"), liquidation(1, "critical"))
    assert len(got) == 1 and "critical 1" in got[0]  # the warning stays muted
    (settings,) = await bot.say("/settings", chat=TRADER)
    assert "critical alerts about your trades still come through" in settings.visible_text


async def test_mute_all_silences_critical_alerts_too_and_says_so(bot):
    (reply,) = await bot.say("/mute all 1h", chat=TRADER)
    text = reply.visible_text
    assert "Muted everything for 1h" in text
    assert "critical liquidation alerts about your own trades included" in text
    assert await deliver(bot, liquidation(2, "critical")) == []
    (settings,) = await bot.say("/settings", chat=TRADER)
    assert "everything, critical alerts about your trades included" in settings.visible_text
    # a plain /mute afterwards lets critical alerts through again
    await bot.say("/mute 1h", chat=TRADER)
    assert len(await deliver(bot, liquidation(3, "critical"))) == 1
    await bot.say("/unmute", chat=TRADER)
    assert len(await deliver(bot, liquidation(4, "warning"))) == 1
