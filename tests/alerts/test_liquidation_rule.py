"""The liquidation rule tells a danger when it starts, again when it escalates or clearly
worsens, as a reminder while it lasts, and once when it has eased — never every hour, and not
on a reading dancing around its threshold. Its "/hedge" advice runs as written."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from chat.alert_render import render_alert
from chat.grammar import parse_position
from chat.telegram.render import ButtonStore
from plugins.alert_rules.runner import run_alerts
from plugins.manager import PluginManager
from storage import outbox
from tests.alerts.conftest import BAR_MS, context, engine

HOUR = 4 * BAR_MS


@pytest.fixture
def pm() -> PluginManager:
    return PluginManager(entry_points=False)


@pytest.fixture
def feed(db, config, walk, pm, trader):
    """``feed(hours, prob, sigma)``: the trade's risk read as given, ``hours`` after the start;
    returns the liquidation alerts recorded for it."""
    base = engine(walk[84], [trader])
    t0, now0 = base.time_ms, walk[84].snap.server_time_ms

    async def go(hours: float, prob: float, sigma: float):
        ms = round(hours * HOUR)
        risk = dataclasses.replace(base.risk, touch_prob_24h=np.array([prob]),
                                   distance_sigma_24h=np.array([sigma]))
        r = dataclasses.replace(base, risk=risk, time_ms=t0 + ms)
        got = await run_alerts(context(db, config, walk[84], r, now_ms=now0 + ms), db, pm)
        return [a for a in got if a.kind == "liquidation"]

    return go


async def test_a_danger_is_told_once_then_on_escalation_worsening_reminder_and_easing(feed,
                                                                                      config):
    assert config.alerts.reminder.ms == 4 * HOUR and config.risk.liquidation_alert_prob == 0.05
    first = await feed(0, 0.10, 2.5)
    assert [(a.severity, a.payload["why"]) for a in first] == [("warning", "new")]
    assert str(first[0].title).endswith("10% in 24h")
    # a little worse an hour later, and past the old 2h cooldown: nothing new to say
    assert await feed(1, 0.12, 2.4) == []
    assert await feed(2.5, 0.13, 2.3) == []
    # twice the probability it was told at: worth waking for
    worse = await feed(3, 0.20, 2.2)
    assert [a.payload["why"] for a in worse] == ["worse"]
    assert "(was 10%)" in str(worse[0].title)
    assert worse[0].payload["previous_touch_prob_24h"] == 0.10
    # warning → critical is told at once, even 15 minutes later
    up = await feed(3.25, 0.55, 0.9)
    assert [(a.severity, a.payload["why"]) for a in up] == [("critical", "escalated")]
    assert await feed(4, 0.50, 1.0) == []
    # still in danger four hours after the last telling: a reminder
    assert await feed(7, 0.45, 1.1) == []
    still = await feed(7.25, 0.45, 1.1)
    assert [a.payload["why"] for a in still] == ["reminder"] and "(still)" in str(still[0].title)
    assert any("Still at risk since the last warning 4h ago" in line
               for line in map(str, still[0].body))
    # clearly safe: told once, then quiet; a new danger later is news again
    eased = await feed(8, 0.01, 3.0)
    assert [(a.severity, a.payload["why"]) for a in eased] == [("info", "eased")]
    assert "has eased" in str(eased[0].title) and "add margin" not in str(eased[0].action).lower()
    assert await feed(9, 0.01, 3.0) == []
    assert [a.payload["why"] for a in await feed(9.25, 0.08, 2.5)] == ["new"]


async def test_a_reading_dancing_around_the_threshold_is_told_once(feed):
    told = []
    for k, prob in enumerate([0.06, 0.04, 0.06, 0.045, 0.07, 0.04, 0.06]):
        told += await feed(k * 0.5, prob, 2.5)
    assert [a.payload["why"] for a in told] == ["new"]


async def test_no_volatility_is_neither_danger_nor_easing(feed):
    assert [a.payload["why"] for a in await feed(0, 0.2, 1.5)] == ["new"]
    assert await feed(1, float("nan"), float("nan")) == []  # unknown is not "eased"


async def test_the_hedge_advice_runs_as_written_and_is_a_button(feed, db, trader):
    alert = (await feed(0, 0.10, 2.5))[0]
    command = alert.payload["hedge_command"]
    assert command in str(alert.action)
    args = parse_position(command.split()[1:], "/hedge btc 0.5 10x")
    assert (args.side, args.size.value, args.size.unit, args.entry, args.leverage) == (
        trader.side, pytest.approx(trader.size), "base", pytest.approx(trader.entry),
        trader.leverage)
    stored = outbox.load_alert(db, db.execute("select max(id) from alerts").fetchone()[0])
    buttons = dict(render_alert(stored).buttons)
    assert ButtonStore().decode(buttons["Hedge it"]) == command
    assert list(buttons) == ["Hedge it", "Mute 1h", "Details"]


async def test_a_warning_that_expired_unsent_is_said_again_while_the_danger_lasts(feed, db,
                                                                                  trader):
    """Telegram was down for the critical warning's whole max_delivery_age: the next cycle
    says it again (not three hours later as a reminder), without a "since" it never saw."""
    first = await feed(0, 0.55, 0.9)
    assert [a.payload["why"] for a in first] == ["new"]
    assert await feed(1, 0.56, 0.9) == []  # delivered or not, nothing new yet
    with db.conn:
        db.execute("update deliveries set status = 'expired'")
    again = await feed(2.25, 0.56, 0.9)
    assert [(a.severity, a.payload["why"]) for a in again] == [("critical", "undelivered")]
    assert not any("since the last warning" in line for line in map(str, again[0].body))
    assert await feed(2.5, 0.56, 0.9) == []  # the new one is pending: no more
