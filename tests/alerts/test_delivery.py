"""Delivery through the real PTB bot (AIORateLimiter) and the fake Bot API: rendering limits,
buttons, retries on 502s, 429s, blocked and migrated chats — nothing lost, nothing twice.
The sender's clock is simulated (``SimClock``): backoffs are waited by moving it between
drains, as the service drains again when the next delivery is due."""

from __future__ import annotations

from collections import Counter

import pytest

from chat.alert_render import render_alert
from chat.sender import Sender, make_bot
from chat.telegram_html import visible_text
from plugins.alert_rules.base import Alert
from settings import Config
from storage import outbox
from storage.chats import get_settings, set_subscriptions
from tests.alerts.sim_clock import SimClock, drain_until_settled, total
from tests.fakes.telegram_server import FakeTelegram, FloodControl

T0 = 1_772_323_200_000


def alert(key: str = "1", kind: str = "cascade", severity: str = "warning", chart=None,
          body=("Score 55/100",)) -> Alert:
    return Alert(kind, f"{kind}:{key}", severity, "Cascade level HIGH <55>", tuple(body),
                 "Cut leverage & add margin", T0, 60_000, 3_600_000, chart=chart,
                 cooldown_key=f"test:{key}", subject=f"test:{key}")


def subscribe(db, chat_ids, kinds=("cascade",)) -> None:
    with db.conn:
        for c in chat_ids:
            set_subscriptions(db, c, list(kinds), chat_type="private" if c > 0 else "group")


def sender_for(db, tg: FakeTelegram, **kw) -> Sender:
    config = Config().with_overrides(telegram={"api_url": tg.base_url, "max_retries": 5})
    kw.setdefault("per_chat_interval", 0.05)
    kw.setdefault("clock", SimClock(T0))
    kw.setdefault("seed", 1)
    return Sender(db, make_bot(config, tg.token), config, **kw)


def per_chat(tg: FakeTelegram) -> Counter:
    return Counter(m.chat_id for m in tg.sent)


async def test_an_alert_is_rendered_escaped_with_buttons_and_marked_sent(db):
    subscribe(db, [11, 12])
    outbox.record_alerts(db, [alert(body=["<script> & co", "x" * 6000])], now_ms=T0)
    async with FakeTelegram() as tg:
        s = sender_for(db, tg)
        report = await s.drain()
        await s.bot.shutdown()
    assert report.sent == 2 and per_chat(tg) == {11: 1, 12: 1}
    msg = tg.sent[0]
    assert "<script> & co" in msg.visible_text and len(msg.visible_text) <= 4096
    buttons = [b for row in msg.reply_markup["inline_keyboard"] for b in row]
    assert [b["text"] for b in buttons] == ["Mute 1h", "Details"]
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons)
    rows = db.execute("select chat_id, status, message_id from deliveries order by chat_id")
    assert [tuple(r) for r in rows] == [(11, "sent", msg.message_id), (12, "sent", 1)]


async def test_a_chart_is_drawn_once_and_uploaded_once(db):
    subscribe(db, [21, 22, 23])
    chart = {"type": "gauge", "symbol": "BTC-USDT-SWAP", "side": "long", "price": 90000,
             "liquidation_price": 86000, "distance_pct": 4.4, "distance_sigma": 1.2,
             "touch_prob": 0.3, "threshold_sigma": 2.0}
    outbox.record_alerts(db, [alert(chart=chart, body=["y" * 3000])], now_ms=T0)
    async with FakeTelegram() as tg:
        s = sender_for(db, tg, concurrency=1)
        await s.drain()
        await s.bot.shutdown()
    assert all(m.photo for m in tg.sent) and len(tg.sent) == 3
    assert all(len(m.visible_text) <= 1024 for m in tg.sent)
    uploads = [p for m, p in tg.calls if m.lower() == "sendphoto" and isinstance(p["photo"],
                                                                                   bytes)]
    assert len(uploads) == 1  # the others reuse the file_id


async def test_502s_are_retried_with_backoff_and_nothing_is_sent_twice(db):
    subscribe(db, [31, 32, 33])
    outbox.record_alerts(db, [alert("a"), alert("b")], now_ms=T0)
    async with FakeTelegram() as tg:
        tg.fail_next("sendMessage", 4, status=502)
        tg.fail_next("sendMessage", 1, kind="drop")
        clock = SimClock(T0)
        s = sender_for(db, tg, clock=clock)
        reports = await drain_until_settled(s, clock)
        await s.bot.shutdown()
    assert per_chat(tg) == {31: 2, 32: 2, 33: 2}
    report = total(reports)
    assert report.retried == 4 and report.unanswered == 1 and report.failed == 0
    assert len(reports) > 1  # the backoff was waited between drains, not within one
    assert outbox.delivery_counts(db) == {"sent": 6}


async def test_blocked_chat_is_marked_inactive_and_migrated_group_follows(db):
    subscribe(db, [41, 42, -500])
    outbox.record_alerts(db, [alert("a"), alert("b")], now_ms=T0)
    async with FakeTelegram() as tg:
        tg.block(41)
        tg.migrate(-500, -1009999)
        s = sender_for(db, tg)
        report = await s.drain()
        await s.bot.shutdown()
    assert per_chat(tg) == {42: 2, -1009999: 2}
    assert report.blocked == 1 and report.migrated == 1
    assert not get_settings(db, 41).active
    assert get_settings(db, -1009999).subscriptions == ("cascade",)
    assert not get_settings(db, -500).active
    # later alerts go to the new id and skip the blocked chat
    outbox.record_alerts(db, [alert("c")], now_ms=T0 + 1)
    chats = {r[0] for r in db.execute("select chat_id from deliveries where alert_id = 3")}
    assert chats == {42, -1009999}


async def test_flood_limits_are_waited_out_for_their_retry_after(db):
    """The fake's group limit (2 a second, on the simulated clock) is tighter than PTB's: the
    429s are waited out between drains, per group, and nothing is lost or sent twice."""
    groups = [-600 - i for i in range(3)]
    subscribe(db, groups)
    outbox.record_alerts(db, [alert(str(i)) for i in range(4)], now_ms=T0)
    clock = SimClock(T0)
    flood = FloodControl(group_limit=2, group_window=1.0)
    async with FakeTelegram(flood=flood, clock=clock) as tg:
        s = sender_for(db, tg, clock=clock)
        report = total(await drain_until_settled(s, clock))
        await s.bot.shutdown()
    assert per_chat(tg) == {g: 4 for g in groups}
    assert report.failed == 0 and report.flood_waits == len(groups)
    assert clock.ms - T0 >= 1000  # one retry_after (1 s) passed on the sender's clock
    assert not tg.early_retries and any(r.status == 429 for r in tg.rejected)


def test_rendering_stays_within_telegram_limits():
    stored = outbox.StoredAlert(7, "cascade", "critical", None, None, T0,
                                alert(body=["é" * 5000]).to_record())
    r = render_alert(stored)
    assert len(visible_text(r.html)) <= 4096 and len(visible_text(r.caption)) <= 1024
    assert "&lt;55&gt;" in r.html and r.buttons[1][1] == "alert:7"


@pytest.mark.slow
async def test_one_alert_to_1000_subscribers_under_flood_control(db):
    privates = list(range(100_001, 100_986))
    groups = [-700_000 - i for i in range(15)]
    subscribe(db, privates + groups)
    outbox.record_alerts(db, [alert("big")], now_ms=T0)
    async with FakeTelegram() as tg:  # 30/s overall, 20/min per group
        tg.block(privates[3])
        tg.migrate(groups[0], -100_777_000)
        tg.fail_next("sendMessage", 3, status=502)
        clock = SimClock(T0)
        s = sender_for(db, tg, clock=clock)
        report = total(await drain_until_settled(s, clock))
        await s.bot.shutdown()
    counts = per_chat(tg)
    expected = set(privates + groups) - {privates[3], groups[0]} | {-100_777_000}
    assert set(counts) == expected
    assert max(counts.values()) == 1  # nothing twice
    assert report.blocked == 1 and report.migrated == 1
    assert outbox.delivery_counts(db) == {"sent": 999, "failed": 1}
    # how fast is a figure for make bench (bench/bench_delivery.py), not an assertion here


def test_console_sender_prints_what_a_phone_shows(db):
    import io

    from chat.console_sender import ConsoleSender

    subscribe(db, [51])
    outbox.record_alerts(db, [alert()], now_ms=T0)
    out = io.StringIO()
    assert ConsoleSender(db, out).drain() == 1
    text = out.getvalue()
    assert "Cascade level HIGH <55>" in text and "[Mute 1h]  [Details]" in text
    assert "<b>" not in text and outbox.delivery_counts(db) == {"sent": 1}
    assert ConsoleSender(db, out).drain() == 0
