"""Issue 18's acceptance: the real PTB ``Application`` and sender against the fake Bot API
through (a) 20 minutes of 502s, (b) latency past the read timeout on every call, (c) a 429
flood with ``retry_after`` up to 60 s, (d) all of it mixed — over a simulated clock: no
critical alert lost, at most one duplicate per chat per alert, and the database's states
match what Telegram received (``check_matches_telegram``).

Time is simulated: the sender's clock and the fake's flood clock are one ``SimClock`` the
scenario moves in 1 s steps, draining as the service does. Latency cannot be simulated (it
is real HTTP), so it is scaled: read timeout 0.4 s and latency 0.8 s stand for the issue's
5 s and 8 s (the ratio is what matters); ``make bench`` runs the 8 s / 5 s case.
"""

from __future__ import annotations

from collections import Counter

import pytest

from core.alerts import Alert
from tests.alerts.delivery_scenario import (
    T0,
    Outcome,
    Scenario,
    alert_of,
    check_matches_telegram,
    market_alert,
    play,
    subscribe,
    telegram_app,
    trade_alert,
)
from tests.alerts.sim_clock import SimClock

PRIVATE = [101, 102, 103, 104, 105, 106]
GROUP = -1001500
TRADERS = {7: 201, 8: 202}  # trade id -> owner's private chat
KINDS = ("cascade", "funding", "regime", "data")


def backlog(outage_end_s: float = 1200) -> list[tuple[float, Alert]]:
    """What the cycle records through an outage: a cascade that escalates (the later state
    supersedes the earlier), funding, a liquidation that gets worse, and after it, news."""
    return [
        (0, market_alert("cascade", "high", "warning", 0, "Cascade level HIGH")),
        (0, trade_alert(7, TRADERS[7], "critical", 0, 0.55)),
        (0, trade_alert(8, TRADERS[8], "critical", 0, 0.60)),
        (300, market_alert("cascade", "cascade", "critical", 300, "Cascade level CASCADE")),
        (600, market_alert("funding", "extreme", "warning", 600, "Extreme funding")),
        (900, trade_alert(7, TRADERS[7], "critical", 900, 0.80)),
        (outage_end_s + 300, market_alert("regime", "off", "info", outage_end_s + 300,
                                          "Correlations back to baseline")),
    ]


async def run(db, scenario: Scenario, **telegram) -> Outcome:
    subscribe(db, [*PRIVATE, GROUP], KINDS)
    clock = SimClock(T0)
    async with telegram_app(db, clock, **telegram) as (tg, sender):
        return await play(scenario, db, tg, sender, clock)


def sends(out: Outcome, chat: int) -> list[tuple[str, str]]:
    """(severity, title) of what ``chat`` received, in order."""
    by_id = {r["id"]: (r["severity"], r["payload"]) for r in out.db.query(
        "select id, severity, payload from alerts")}
    return [(by_id[alert_of(m)][0], m.visible_text.split("\n")[0]) for m in out.tg.sent_to(chat)]


async def test_20_minutes_of_502s_lose_nothing_and_fold_what_was_superseded(db):
    out = await run(db, Scenario(until_s=1600, alerts=backlog(), outages=[(0, 1200)]))
    check_matches_telegram(out)
    # 7 chats get cascade (HIGH folded into CASCADE), funding and regime; trade 7's first
    # warning is folded into its worse one
    assert out.statuses() == {"sent": 3 * 7 + 2, "folded": 7 + 1}
    # the backoff was waited across the outage, not spent in seconds: after a first try of
    # each chat, one probe at a time, every 15-30 s (the 30 s cap, jittered) to its end
    def calls_by(second: float) -> int:
        return max((n for t, n in out.calls_at if t < second), default=0)

    assert calls_by(20) <= 9 + 5  # each of the 9 chats once, then probes at 1, 2, 4, 8 s
    assert 600 / 30 <= calls_by(1200) - calls_by(600) <= 600 / 15 + 2
    assert all(r.status == 502 for r in out.tg.rejected if r.method.startswith("send"))
    # after it: critical first (although older), then the rest; superseded states folded
    for chat in [*PRIVATE, GROUP]:
        got = sends(out, chat)
        assert [s for s, _ in got] == ["critical", "warning", "info"], got
        assert "Cascade level CASCADE" in got[0][1]
    text = out.tg.sent_to(PRIVATE[0])[0].visible_text
    assert "2 updates on this since 00:00 UTC while Telegram was unreachable" in text
    assert "00:00 Cascade level HIGH" in text
    worse = out.tg.sent_to(TRADERS[7])
    assert len(worse) == 1 and "80%" in worse[0].visible_text


async def test_latency_past_the_read_timeout_costs_one_copy_at_most(db):
    """0.8 s on every call against a 0.4 s read timeout: each first attempt times out
    although Telegram delivered it; its one retry waits 3× longer and is confirmed."""
    alerts = backlog()[:3]
    out = await run(db, Scenario(until_s=30, alerts=alerts, latency=[(0, 10_000, 0.8)]))
    check_matches_telegram(out)
    rows = out.deliveries()
    assert {r["status"] for r in rows} == {"sent"} and {r["unanswered"] for r in rows} == {1}
    assert set(out.received().values()) == {2}  # the one extra copy the bound allows


async def test_latency_past_even_the_longer_wait_ends_unconfirmed_never_a_third_copy(db):
    alerts = backlog()[1:2]  # one critical to one trader
    out = await run(db, Scenario(until_s=30, alerts=alerts, latency=[(0, 10_000, 1.6)]))
    check_matches_telegram(out)
    assert out.statuses() == {"unconfirmed": 1}
    assert out.received() == {(TRADERS[7], 1): 2}
    assert sum(r.failed for r in out.reports) == 0


async def test_a_429_flood_is_waited_out_exactly_per_chat(db):
    retry = {c: 4 + 7 * i for i, c in enumerate([*PRIVATE, GROUP, *TRADERS.values()])}
    assert max(retry.values()) <= 60
    out = await run(db, Scenario(until_s=120, alerts=backlog()[:3], floods=[(0, retry)]))
    check_matches_telegram(out)
    assert not out.tg.early_retries  # never called again before retry_after had passed
    assert out.statuses() == {"sent": 7 + 2}
    for chat, seconds in retry.items():  # ... and called again as soon as it had
        first = min(m.at for m in out.tg.sent_to(chat))
        assert T0 / 1000 + seconds <= first <= T0 / 1000 + seconds + 1, (chat, first)


@pytest.mark.slow
async def test_outages_latency_and_floods_mixed(db):
    scenario = Scenario(
        until_s=4000, alerts=[
            *backlog(outage_end_s=2400),
            (950, market_alert("funding", "calm", "info", 950, "Funding back to normal")),
            (1500, market_alert("data", "down", "critical", 1500, "Exchange unreachable")),
            (2500, trade_alert(8, TRADERS[8], "warning", 2500, 0.2)),
            (2600, market_alert("cascade", "calm", "info", 2600, "Cascade risk has eased"))],
        outages=[(0, 900), (1400, 2400)], latency=[(900, 1400, 0.8), (2400, 2700, 0.8)],
        floods=[(950, {PRIVATE[0]: 60, GROUP: 30}), (2490, {TRADERS[8]: 45})])
    out = await run(db, scenario)
    check_matches_telegram(out)
    assert not out.tg.early_retries
    assert set(out.statuses()) <= {"sent", "folded", "unconfirmed"}
    total = Counter()
    for r in out.reports:
        total.update({"unanswered": r.unanswered, "flood": r.flood_waits, "502": r.retried})
    assert all(total.values()) and len(total) == 3  # every fault was met, and survived
