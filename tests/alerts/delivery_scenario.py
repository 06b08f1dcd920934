"""Telegram misbehaving over simulated time, and the service's drains through it.

A ``Scenario`` says what the fake Bot API does when (502 windows, latency, 429s with a
``retry_after``) and which alerts the cycle records when. ``play`` runs the real PTB
``Application`` (``build_application``, as ``bot.py run`` does) and the ``Sender`` against
the fake: the sender's clock is a ``SimClock`` moved in steps, and a drain runs as the
service would — every ``cycle_s`` (the cascade watch), after alerts are recorded, and when the
next delivery falls due. ``Outcome`` then compares the database with what the fake received.
"""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from chat.context import Services
from chat.sender import DrainReport, Sender
from chat.telegram import build_application, start_telegram, stop_telegram
from core.alerts import Alert
from settings import Config
from storage import outbox
from storage.chats import set_subscriptions
from tests.alerts.sim_clock import SimClock
from tests.fakes.telegram_server import FakeTelegram, FloodControl, SentMessage

T0 = 1_772_323_200_000  # 2026-03-01 00:00 UTC
ALERT_ID = re.compile(r"^alert:(\d+)$")


def market_alert(kind: str, state: str, severity: str, at_s: float, title: str = "") -> Alert:
    """A market-wide alert of ``kind`` in ``state``, recorded ``at_s`` into the scenario."""
    ms = T0 + round(at_s * 1000)
    return Alert(kind, f"{kind}:{state}:{ms}", severity, title or f"{kind} {state}",
                 (f"{kind} is {state}",), "Check your hedges.", ms, 0, 0)


def trade_alert(trade_id: int, owner: int, severity: str, at_s: float, prob: float) -> Alert:
    ms = T0 + round(at_s * 1000)
    return Alert("liquidation", f"liquidation:{trade_id}:{severity}:{ms}", severity,
                 f"Liquidation risk on #{trade_id}: {prob:.0%} in 24h",
                 (f"Trade #{trade_id}",), "Add margin or cut size.", ms, 0, 0,
                 trade_id=trade_id, owner_chat_id=owner)


@dataclass
class Scenario:
    """What Telegram does over simulated seconds, and what the cycle records when."""

    until_s: float
    alerts: list[tuple[float, Alert]]
    outages: list[tuple[float, float]] = field(default_factory=list)  # [start, end): 502s
    latency: list[tuple[float, float, float]] = field(default_factory=list)  # start, end, s
    floods: list[tuple[float, dict[int, int]]] = field(default_factory=list)  # chat: secs
    step_s: float = 1.0
    cycle_s: float = 60.0

    def outage_at(self, t: float) -> bool:
        return any(a <= t < b for a, b in self.outages)

    def latency_at(self, t: float) -> float | None:
        return next((s for a, b, s in self.latency if a <= t < b), None)


@dataclass
class Outcome:
    db: Any
    tg: FakeTelegram
    reports: list[DrainReport]
    calls_at: list[tuple[float, int]]  # (scenario second, send calls so far) after each drain

    def received(self) -> Counter:
        """(chat, alert id) -> copies the fake delivered, read from the Details button."""
        return Counter((m.chat_id, alert_of(m)) for m in self.tg.sent)

    def deliveries(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db.query(
            "select d.*, a.severity, a.subject, a.created_at from deliveries d "
            "join alerts a on a.id = d.alert_id order by d.id")]

    def final(self, d: dict[str, Any]) -> dict[str, Any]:
        """The delivery that went instead of ``d`` (itself unless it was folded)."""
        by_id = {x["id"]: x for x in self.deliveries()}
        while d["folded_into"] is not None:
            d = by_id[d["folded_into"]]
        return d

    def statuses(self) -> Counter:
        return Counter(d["status"] for d in self.deliveries())


def alert_of(message: SentMessage) -> int:
    buttons = [b.get("callback_data", "") for row in
               (message.reply_markup or {}).get("inline_keyboard", []) for b in row]
    ids = [int(m.group(1)) for b in buttons if (m := ALERT_ID.match(b))]
    assert len(ids) == 1, buttons
    return ids[0]


def subscribe(db: Any, chats: list[int], kinds: tuple[str, ...]) -> None:
    with db.conn:
        for c in chats:
            set_subscriptions(db, c, list(kinds), chat_type="private" if c > 0 else "group")


def scaled_config(tg: FakeTelegram, **telegram: Any) -> Config:
    """Timeouts scaled down 12.5× (read 0.4 s instead of 5 s): latency is set in the same
    ratio, so a test of it takes seconds."""
    values = {"api_url": tg.base_url, "read_timeout": "400ms", "connect_timeout": "400ms",
              "write_timeout": "400ms", "pool_timeout": "1s", **telegram}
    return Config().with_overrides(telegram=values)


@contextlib.asynccontextmanager
async def telegram_app(db: Any, clock: SimClock, flood: FloodControl | None = None,
                       **telegram: Any) -> AsyncIterator[tuple[FakeTelegram, Sender]]:
    """The fake Bot API, the real Application started as ``bot.py run`` starts it, and the
    sender on its bot with the simulated clock."""
    async with FakeTelegram(flood=flood or FloodControl(), clock=clock) as tg:
        config = scaled_config(tg, **telegram)

        def no_market() -> None:
            raise AssertionError("delivery needs no market")

        app = build_application(config, tg.token, Services(config, db, no_market),
                                warm=False)
        await start_telegram(app, poll_timeout=1)
        try:
            yield tg, Sender(db, app.bot, config, per_chat_interval=0.0, clock=clock, seed=7)
        finally:
            await stop_telegram(app)


async def play(scenario: Scenario, db: Any, tg: FakeTelegram, sender: Sender,
               clock: SimClock, limit_s: float = 6 * 3600) -> Outcome:
    """Run the scenario to its end, then on until nothing is pending."""
    pending = sorted(scenario.alerts, key=lambda x: x[0])
    floods = sorted(scenario.floods, key=lambda x: x[0])
    reports: list[DrainReport] = []
    calls_at: list[tuple[float, int]] = []
    t, next_cycle, next_due = 0.0, 0.0, None
    while True:
        tg.set_outage(502 if scenario.outage_at(t) else None)
        tg.set_latency(scenario.latency_at(t))
        while floods and floods[0][0] <= t:
            for chat, seconds in floods.pop(0)[1].items():
                tg.flood_chat(chat, seconds)
        now_alerts = []
        while pending and pending[0][0] <= t:
            now_alerts.append(pending.pop(0)[1])
        if now_alerts:
            outbox.record_alerts(db, now_alerts, now_ms=clock.ms)
        if t >= next_cycle or now_alerts or (next_due is not None and next_due <= clock.ms):
            report = await sender.drain()
            reports.append(report)
            next_due = report.next_due_ms
            calls_at.append((t, sum(1 for m, _ in tg.calls if m.lower() in ("sendmessage",
                                                                          "sendphoto"))))
            while next_cycle <= t:
                next_cycle += scenario.cycle_s
        if t >= scenario.until_s and not pending and next_due is None:
            break
        assert t < limit_s, f"still pending at {t:.0f} s: {reports[-1]}"
        t += scenario.step_s
        clock.advance(scenario.step_s)
    await tg.settle()
    return Outcome(db, tg, reports, calls_at)


def check_matches_telegram(out: Outcome) -> None:
    """The acceptance bounds: nothing left in flight, no critical alert lost, at most one
    duplicate per chat per alert, and every delivery's state agrees with the fake."""
    got = out.received()
    assert max(got.values(), default=0) <= 2, got.most_common(3)  # ≤ 1 duplicate
    for d in out.deliveries():
        n = got[(d["chat_id"], d["alert_id"])]
        status = d["status"]
        assert status not in ("pending", "sending", "failed"), d
        if status == "sent":
            assert 1 <= n <= 1 + d["unanswered"], (d, n)
        elif status == "unconfirmed":
            assert n <= d["unanswered"], (d, n)
        else:  # folded, expired: Telegram never had it
            assert n == 0, (d, n)
        if d["severity"] == "critical":
            final = out.final(d)
            assert final["status"] in ("sent", "unconfirmed"), (d, final)
            assert got[(final["chat_id"], final["alert_id"])] >= 1, (d, final)  # not lost
