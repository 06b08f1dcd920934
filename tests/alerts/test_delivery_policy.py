"""The delivery policy piece by piece, through the real PTB bot and the fake Bot API on a
simulated clock: backoff waited across drains, ``retry_after`` to the millisecond, retries
bounded by age (``expired``, and the next alert saying so), superseded alerts folded, the
backlog ordered, unanswered attempts never sent a third time, timeouts from the config."""

from __future__ import annotations

import pytest

from chat.sender import Sender, make_bot
from settings import Config
from storage import outbox
from tests.alerts.delivery_scenario import T0, market_alert, subscribe, trade_alert
from tests.alerts.sim_clock import SimClock, drain_until_settled
from tests.fakes.telegram_server import FakeTelegram

CHATS = [301, 302, 303]


def sender(db, tg: FakeTelegram, clock: SimClock, **telegram) -> Sender:
    config = Config().with_overrides(telegram={"api_url": tg.base_url, **telegram})
    return Sender(db, make_bot(config, tg.token), config, per_chat_interval=0.0, clock=clock,
                  seed=3)


def rows(db) -> list[dict]:
    return [dict(r) for r in db.query("select * from deliveries order by id")]


def send_calls(tg: FakeTelegram) -> int:
    return sum(1 for m, _ in tg.calls if m.lower() in ("sendmessage", "sendphoto"))


async def test_a_drain_tries_once_and_the_backoff_is_waited_on_the_clock(db):
    subscribe(db, CHATS, ("cascade",))
    outbox.record_alerts(db, [market_alert("cascade", "high", "warning", 0)], now_ms=T0)
    clock = SimClock(T0)
    async with FakeTelegram(clock=clock) as tg:
        tg.set_outage(502)
        s = sender(db, tg, clock)
        first = await s.drain()
        assert send_calls(tg) == 3 and first.retried == 3  # one attempt each, no sleeping
        waits = [r["next_attempt_at"] - T0 for r in rows(db)]
        assert all(500 <= w <= 1000 for w in waits) and len(set(waits)) > 1  # jittered
        assert (await s.drain()).retried == 0 and send_calls(tg) == 3  # not due yet
        delays, due = [], first.next_due_ms
        for _ in range(6):  # the outage goes on: each retry waits about twice as long
            clock.to(due)
            report = await s.drain()
            delays.append(report.next_due_ms - due)
            due = report.next_due_ms
        assert delays[:4] == sorted(delays[:4]) and delays[0] <= 2000  # 1 s, 2 s, 4 s...
        assert 15_000 <= delays[-1] <= 30_000  # ... up to the cap (30 s, times 0.5-1)
        assert send_calls(tg) < 3 + 6 * 3  # after the first pass, one probe per drain
        tg.set_outage(None)
        clock.to(due)
        assert (await s.drain()).sent == 3
        await s.bot.shutdown()
    assert s.totals.sent == 3 and s.totals.retried >= 3 + 6  # cumulative, for metrics
    assert s.telegram_errors == {"network": s.retries} and s.retries == s.totals.retried


async def test_retry_after_is_waited_exactly_and_not_by_the_rate_limiter(db):
    subscribe(db, CHATS[:1], ("cascade",))
    outbox.record_alerts(db, [market_alert("cascade", "high", "warning", 0)], now_ms=T0)
    clock = SimClock(T0)
    async with FakeTelegram(clock=clock) as tg:
        tg.fail_next("sendMessage", 1, status=429, description="Too Many Requests: retry "
                     "after 37", parameters={"retry_after": 37})
        s = sender(db, tg, clock, max_retries=5)
        report = await s.drain()
        assert report.flood_waits == 1 and send_calls(tg) == 1  # handed back, not slept on
        assert report.next_due_ms == T0 + 37_000
        clock.to(T0 + 36_999)
        assert (await s.drain()).sent == 0 and send_calls(tg) == 1
        clock.to(T0 + 37_000)
        assert (await s.drain()).sent == 1
        await s.bot.shutdown()
    assert s.telegram_errors == {"flood": 1} and s.retries == 1


async def test_an_alert_is_retried_until_its_age_then_expires_and_the_next_one_says_so(db):
    subscribe(db, CHATS[:1], ("cascade",))
    chat = CHATS[0]
    outbox.record_alerts(db, [market_alert("cascade", "high", "warning", 0, "Cascade HIGH"),
                              trade_alert(9, chat, "critical", 0, 0.6)], now_ms=T0)
    clock = SimClock(T0)
    async with FakeTelegram(clock=clock) as tg:
        tg.set_outage(502)
        s = sender(db, tg, clock)
        while clock.ms < T0 + 40 * 60_000:  # 40 minutes down: past the warning's 30
            report = await s.drain()
            clock.to(min(report.next_due_ms, T0 + 40 * 60_000))
        status = {r["alert_id"]: r["status"] for r in rows(db)}
        assert status == {1: "expired", 2: "pending"}  # the critical has 2 h
        tg.set_outage(None)
        outbox.record_alerts(db, [market_alert("cascade", "cascade", "critical", 2400,
                                               "Cascade CASCADE")], now_ms=clock.ms)
        await drain_until_settled(s, clock)
        await s.bot.shutdown()
    assert {r["alert_id"]: r["status"] for r in rows(db)} == {1: "expired", 2: "sent",
                                                             3: "sent"}
    texts = [m.visible_text for m in tg.sent_to(chat)]
    assert len(texts) == 2 and not any("Cascade HIGH\n" in t for t in texts)
    cascade = next(t for t in texts if "Cascade CASCADE" in t)
    assert ("Delivery was blocked for 30 min from 00:00 UTC: the alert on this then "
            "(\u201cCascade HIGH\u201d) expired undelivered.") in cascade
    assert s.totals.expired == 1


async def test_superseded_alerts_fold_into_the_newest_and_it_says_how_many(db):
    subscribe(db, CHATS[:1], ("cascade", "funding"))
    clock = SimClock(T0)
    async with FakeTelegram(clock=clock) as tg:
        tg.set_outage(502)
        s = sender(db, tg, clock)
        for minute, level in enumerate(("elevated", "high", "cascade")):
            clock.to(T0 + minute * 60_000)
            outbox.record_alerts(db, [market_alert("cascade", level, "warning", minute * 60,
                                                   f"Cascade {level}")], now_ms=clock.ms)
            await s.drain()
        clock.to(T0 + 180_000)  # news on another subject, as Telegram comes back
        outbox.record_alerts(db, [market_alert("funding", "hot", "warning", 180, "Funding")],
                             now_ms=clock.ms)
        tg.set_outage(None)
        await drain_until_settled(s, clock)
        await s.bot.shutdown()
    assert [r["status"] for r in rows(db)] == ["folded", "folded", "sent", "sent"]
    assert {r["folded_into"] for r in rows(db)[:2]} == {3}
    funding, cascade = tg.sent_to(CHATS[0])  # same severity: the newest first
    assert "3 updates on this since 00:00 UTC while Telegram was unreachable; this is the " \
           "latest. Earlier: 00:00 Cascade elevated; 00:01 Cascade high." in cascade.visible_text
    assert "updates" not in funding.visible_text


async def test_after_an_outage_the_most_severe_then_the_newest_goes_first(db):
    subscribe(db, CHATS[:1], ("cascade", "funding", "regime"))
    clock = SimClock(T0)
    outbox.record_alerts(db, [market_alert("regime", "on", "info", 0, "A info"),
                              market_alert("funding", "hot", "warning", 0, "B warning"),
                              market_alert("cascade", "high", "critical", 0, "C critical")],
                         now_ms=T0)
    clock.advance(60)
    outbox.record_alerts(db, [market_alert("funding", "cold", "info", 60, "D info newer")],
                         now_ms=clock.ms)
    async with FakeTelegram(clock=clock) as tg:
        s = sender(db, tg, clock)
        await drain_until_settled(s, clock)
        await s.bot.shutdown()
    firsts = [m.visible_text.split("\n")[0].split(" ", 1)[1] for m in tg.sent_to(CHATS[0])]
    assert firsts == ["C critical", "B warning", "D info newer", "A info"]


async def test_an_attempt_left_in_flight_after_an_unanswered_one_is_not_sent_again(db):
    """The crash bound and the timeout bound together: a delivery whose first attempt got no
    answer and whose retry was in flight at a kill may have arrived twice: it is recorded
    ``unconfirmed``, not sent a third time."""
    subscribe(db, CHATS[:2], ("cascade",))
    outbox.record_alerts(db, [market_alert("cascade", "high", "warning", 0)], now_ms=T0)
    one, two = (r["id"] for r in rows(db))
    outbox.mark_sending(db, one, T0)
    outbox.mark_retry(db, one, "no answer", T0, T0, unanswered=True)
    for d in (one, two):
        outbox.mark_sending(db, d, T0)  # ... and then the process was killed
    clock = SimClock(T0)
    async with FakeTelegram(clock=clock) as tg:
        s = sender(db, tg, clock)
        report = await s.drain()
        await s.bot.shutdown()
    assert report.recovered == 1 and report.sent == 1
    assert [(r["status"], r["unanswered"]) for r in rows(db)] == [("unconfirmed", 2),
                                                                  ("sent", 1)]
    assert [m.chat_id for m in tg.sent] == [CHATS[1]]


@pytest.mark.parametrize("where", ["make_bot", "application"])
async def test_timeouts_and_pool_size_come_from_the_config(where, tmp_path):
    from chat.context import Services
    from chat.telegram import build_application

    config = Config().with_overrides(telegram={
        "api_url": "http://127.0.0.1:9/bot", "read_timeout": "7s", "connect_timeout": "2s",
        "write_timeout": "3s", "pool_timeout": "4s", "connection_pool_size": 40})
    if where == "make_bot":
        bot = make_bot(config, "1:x")
    else:
        bot = build_application(config, "1:x", Services(config, None, None), warm=False).bot
    request = bot.request
    assert request.read_timeout == 7.0
    limits = request._client.timeout  # httpx's, as PTB built it from our values
    assert (limits.connect, limits.write, limits.pool) == (2.0, 3.0, 4.0)
    assert Sender(None, bot, config).concurrency == 40 - 16  # room left for replies


async def test_the_service_drains_again_when_a_retry_falls_due(tmp_path):
    """``bot.py run`` in process with the cycle an hour apart: a delivery that failed in the
    catch-up cycle's drain goes out seconds later, by the one-off ``delivery_retry`` job."""
    import asyncio
    import time

    from jobs.service import serve
    from runtime import build_runtime
    from settings.secrets import Secrets
    from storage import open_database

    db_path = tmp_path / "hw.db"
    db = open_database(db_path)
    subscribe(db, [401], ("funding",))
    now = int(time.time() * 1000)
    alert = market_alert("funding", "hot", "warning", 0, "Retried by the service")
    outbox.record_alerts(db, [alert], now_ms=now)
    db.close()
    async with FakeTelegram() as tg:
        tg.fail_next("sendMessage", 2, status=502)
        config = Config().with_overrides(
            exchange={"name": "sim"}, storage={"path": str(db_path)},
            telegram={"api_url": tg.base_url},
            schedule={"interval": "1h", "cascade_interval": "1h", "cascade_symbols": []})
        rt = build_runtime(config, Secrets(telegram_token=tg.token), entry_points=False)
        stop = asyncio.Event()
        task = asyncio.create_task(serve(rt, stop))
        try:
            got = await tg.wait_for_messages(1, timeout=30, chat_id=401)
        finally:
            stop.set()
            assert await asyncio.wait_for(task, 60) == 0
    assert "Retried by the service" in got[0].visible_text
    assert sum(r.status == 502 for r in tg.rejected) == 2
