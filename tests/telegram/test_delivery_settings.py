"""How an alert reaches each kind of chat: ringing or silent by severity and quiet hours, in
the chat's time zone, into the forum topic where /subscribe was sent, and in a channel with a
deep link instead of buttons that would act for the channel. The real PTB bot and sender
against the fake Bot API, the real outbox."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from chat.sender import Sender
from core.alerts import Alert
from plugins.alert_rules.runner import record
from plugins.manager import PluginManager
from storage import chats, outbox
from tests.telegram.conftest import FIXED_NOW, Harness

TRADER = 1
FORUM = -100777
CHANNEL = -100555
NOW_MS = int(FIXED_NOW * 1000)  # 2026-03-01 00:00 UTC


def market(kind: str, severity: str, n: int = 1) -> Alert:
    return Alert(kind, f"{kind}:{severity}:{n}", severity, f"{kind} {severity} {n}",
                 ("a line",), "Cut leverage", NOW_MS, 60_000, 0)


def own(severity: str, n: int = 1) -> Alert:
    return Alert("liquidation", f"liquidation:9:{severity}:{n}", severity,
                 f"Liquidation risk ({severity} {n})", ("Trade #9",), "Add margin", NOW_MS,
                 0, 0, trade_id=9, owner_chat_id=TRADER)


async def deliver(bot: Harness, *alerts: Alert, at: float = FIXED_NOW + 60,
                  **config: Any) -> list[dict[str, Any]]:
    """Record and send the alerts one by one (alerts on one subject would be folded into
    the newest); the sendMessage parameters the fake received, in order."""
    before = len(bot.tg.calls)
    cfg = bot.front.services.config
    if config:
        cfg = cfg.with_overrides(telegram=config)
    for alert in alerts:
        outbox.record_alerts(bot.db, [alert], now_ms=int(at * 1000),
                             signal_channel=cfg.telegram.signal_channel)
        await Sender(bot.db, bot.app.bot, cfg, per_chat_interval=0, clock=lambda: at).drain()
    return [p for m, p in bot.tg.calls[before:] if m in ("sendMessage", "sendPhoto")]


def silent(params: dict[str, Any]) -> bool:
    return str(params.get("disable_notification")).lower() == "true"


async def test_only_critical_rings_by_default_and_ring_lowers_that(bot: Harness) -> None:
    await bot.say("/start", chat=TRADER)
    sent = await deliver(bot, own("info"), own("warning"), own("critical"))
    by_title = {p["text"].split("(")[1].split(")")[0]: silent(p) for p in sent}
    assert by_title == {"info 1": True, "warning 1": True, "critical 1": False}
    (reply,) = await bot.say("/settings ring warning", chat=TRADER)
    assert "Rings: warning and up (info arrive silently)" in reply.visible_text
    sent = await deliver(bot, own("info", 2), own("warning", 2))
    assert [silent(p) for p in sent] == [True, False]  # info silent, warning rings


async def test_quiet_hours_silence_all_but_critical_in_the_chats_time_zone(bot) -> None:
    await bot.say("/settings ring info", chat=TRADER)
    await bot.say("/settings tz Europe/Berlin", chat=TRADER)  # 00:01 UTC is 01:01 there
    (reply,) = await bot.say("/settings quiet 23:00-07:00", chat=TRADER)
    assert "Quiet hours 23:00-07:00" in reply.visible_text
    sent = await deliver(bot, own("warning"), own("critical"))
    assert [silent(p) for p in sent] == [True, False]  # warning silent, critical rings
    await bot.say("/settings quiet 02:00-07:00", chat=TRADER)  # 01:01 Berlin: not quiet
    assert [silent(p) for p in await deliver(bot, own("warning", 2))] == [False]
    (off,) = await bot.say("/settings quiet off", chat=TRADER)
    assert "Quiet hours off." in off.visible_text
    (bad,) = await bot.say("/settings quiet 25:00-07:00", chat=TRADER)
    assert "between two different times of day" in bad.visible_text


async def test_alerts_show_the_chats_time_zone(bot: Harness) -> None:
    await bot.say("/settings tz America/New_York", chat=TRADER)
    (sent,) = await deliver(bot, own("critical"))
    assert "Data: bar closing 2026-02-28 19:00 EST" in sent["text"]
    await bot.say("/settings tz UTC", chat=TRADER)
    (sent,) = await deliver(bot, own("critical", 2))
    assert "2026-03-01 00:00 UTC" in sent["text"]


async def test_forum_alerts_go_to_the_topic_where_subscribe_was_sent(bot: Harness) -> None:
    bot.tg.set_admins(FORUM, [5], owner=5)
    await bot.say("/subscribe", chat=FORUM, user=5, thread_id=42, is_forum=True)
    await bot.say("/subscribe cascade", chat=FORUM, user=5, thread_id=7, is_forum=True)
    (shown,) = await bot.say("/settings", chat=FORUM, user=5, thread_id=7, is_forum=True)
    assert "Alerts go to: topic 42, cascade → topic 7" in shown.visible_text
    await deliver(bot, market("cascade", "warning"), market("funding", "warning"))
    topics = {m.visible_text.split()[1]: m.thread_id for m in bot.tg.sent_to(FORUM)
              if "Cut leverage" in m.visible_text}
    assert topics == {"cascade": 7, "funding": 42}
    # a member may not move the alerts to another topic
    (refused,) = await bot.say("/subscribe funding", chat=FORUM, user=6, thread_id=9,
                               is_forum=True)
    assert "Only this group's admins" in refused.visible_text
    assert chats.get_settings(bot.db, FORUM).thread_for("funding") == 42


async def test_a_channel_post_carries_a_deep_link_not_buttons_for_the_channel(bot) -> None:
    bot.tg.chat(CHANNEL, "channel", title="signals")
    await bot.member(CHANNEL, "administrator", chat_type="channel")
    (params,) = await deliver(bot, market("cascade", "critical"), signal_channel=CHANNEL)
    (row,) = params["reply_markup"]["inline_keyboard"]
    (button,) = row
    assert button["text"] == "Open in private chat" and "callback_data" not in button
    alert_id = bot.db.execute("select max(id) from alerts").fetchone()[0]
    assert button["url"] == f"https://t.me/hedgewatch_test_bot?start=alert_{alert_id}"
    (details,) = await bot.say(f"/start alert_{alert_id}", chat=TRADER)
    assert details.visible_text.startswith("cascade critical 1")
    assert f"alert #{alert_id}" in details.visible_text
    (gone,) = await bot.say("/start alert_999999", chat=TRADER)
    assert "no longer stored" in gone.visible_text


async def test_in_a_channel_only_its_admins_may_press_mute_and_nothing_is_posted(bot) -> None:
    bot.tg.chat(CHANNEL, "channel", title="signals")
    bot.tg.set_admins(CHANNEL, [5], owner=5)
    old = InlineKeyboardMarkup([[InlineKeyboardButton("Mute 1h", callback_data="mute:1h")]])
    await bot.app.bot.send_message(CHANNEL, "an alert from before", reply_markup=old)
    assert await bot.press(CHANNEL, 6, "mute:1h") == []
    refused = bot.tg.callback_answers[-1]
    assert refused["show_alert"] and "admins" in refused["text"]
    assert chats.get_settings(bot.db, CHANNEL).muted_until is None
    assert await bot.press(CHANNEL, 5, "mute:1h") == []  # a toast, never a channel post
    assert bot.tg.callback_answers[-1]["text"].startswith("Muted for 1h")
    assert chats.get_settings(bot.db, CHANNEL).muted_until == NOW_MS + 3_600_000


def test_with_the_signal_board_market_alerts_skip_the_channel(bot: Harness) -> None:
    config = bot.front.services.config.with_overrides(
        telegram={"signal_channel": CHANNEL, "signal_board": True})
    ctx = SimpleNamespace(config=config, now_ms=NOW_MS, memory=None)
    record(ctx, bot.db, PluginManager(entry_points=False), [market("cascade", "critical")])
    assert outbox.delivery_counts(bot.db) == {}
    ctx.config = bot.front.services.config.with_overrides(telegram={"signal_channel": CHANNEL})
    record(ctx, bot.db, PluginManager(entry_points=False), [market("cascade", "critical", 2)])
    assert outbox.delivery_counts(bot.db) == {"pending": 1}
