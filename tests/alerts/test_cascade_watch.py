"""The cascade rule and the one-minute watch on one scale: the watch puts the minute's book
depth and liquidation flow on top of the last cycle's candle inputs and may raise the level
between cycles, under the cycle's hysteresis; a level capped for lack of inputs says so and
names what is missing; every raise says what its level has meant on real data.

The real rules run through the real outbox; the readings are built with the real
``cascade_reading`` from chosen inputs so each test knows the score it expects."""

from __future__ import annotations

import dataclasses

import pytest

from core.cascade import FACTORS, cascade_reading
from core.evaluate import EngineResult
from plugins.alert_rules.cascade_history import load_history
from plugins.alert_rules.runner import run_alerts
from plugins.manager import PluginManager
from storage.chats import set_subscriptions
from tests.alerts.conftest import BAR_MS, OWNER, context, engine

MIN = 60_000
CALM_CANDLES = {k: r.lo for k, r in FACTORS.items() if r.core}
QUIET_FLOW = {"depth_drop": 0.0, "liq_ratio": 1.0, "oi_drop": 0.0, "taker_sell": 0.5}
FLOOD = {"depth_drop": FACTORS["depth_drop"].hi, "liq_ratio": FACTORS["liq_ratio"].hi}


@pytest.fixture
def pm() -> PluginManager:
    return PluginManager(entry_points=False)


@pytest.fixture(scope="module")
def base(walk) -> EngineResult:
    return engine(walk[0])


class Clock:
    """Runs one rule on a chosen reading at a chosen time after the walk's first bar."""

    def __init__(self, db, config, pm, walk, base: EngineResult) -> None:
        self.db, self.config, self.pm, self.step, self.base = db, config, pm, walk[0], base
        self.t0 = walk[0].snap.last_bar_close_ms
        set_subscriptions(db, OWNER, ["cascade"])

    async def run(self, rule: str, inputs: dict[str, float], after_ms: int) -> list:
        t = self.t0 + after_ms
        r = dataclasses.replace(self.base, cascade=cascade_reading(inputs, t), time_ms=t)
        snap = dataclasses.replace(self.step.snap, times=self.step.snap.times + after_ms,
                                   server_time_ms=t)
        ctx = context(self.db, self.config, self.step, r, snap=snap, trades=[],
                      now_ms=t + 5_000)
        return [a for a in await run_alerts(ctx, self.db, self.pm, only=[rule])
                if a.kind == "cascade"]


@pytest.fixture
def clock(db, config, pm, walk, base) -> Clock:
    return Clock(db, config, pm, walk, base)


async def test_the_watch_raises_the_level_between_cycles_from_depth_and_liquidations(clock):
    assert await clock.run("cascade", {**CALM_CANDLES, **QUIET_FLOW}, 0) == []  # calm cycle
    got = await clock.run("cascade_watch", {**QUIET_FLOW, **FLOOD}, 3 * MIN)
    assert len(got) == 1
    a = got[0]
    # the cycle's calm candles (0) with the books and liquidations at full: 100·(1 − ½·½)
    assert a.payload["score"] == pytest.approx(75.0)
    assert a.payload["level"] == "cascade" and a.severity == "critical"
    assert a.payload["source"] == "cascade_watch" and not a.payload["capped"]
    body = "\n".join(map(str, a.body))
    assert FACTORS["depth_drop"].label in body and FACTORS["liq_ratio"].label in body
    # the next cycle sees the same books: the level is not announced a second time
    assert await clock.run("cascade", {**CALM_CANDLES, **FLOOD}, BAR_MS) == []


async def test_the_watch_keeps_the_cycles_hysteresis(clock):
    await clock.run("cascade", {**CALM_CANDLES, **QUIET_FLOW}, 0)
    first = await clock.run("cascade_watch", FLOOD, MIN)
    assert [a.payload["level"] for a in first] == ["cascade"]
    # books flicker between thin and normal minute by minute: no second raise, no all-clear
    for m in range(2, 10):
        flow = FLOOD if m % 2 else QUIET_FLOW
        assert await clock.run("cascade_watch", flow, m * MIN) == []
    # only the full cycle says the episode is over, after clear_after under the margin
    eased = []
    for k in range(1, 8):
        eased += await clock.run("cascade", {**CALM_CANDLES, **QUIET_FLOW}, k * BAR_MS)
    assert [str(a.title) for a in eased] == ["Cascade risk has eased"]


async def test_the_watch_is_silent_without_a_recent_cycle_reading(clock, config):
    assert await clock.run("cascade_watch", FLOOD, MIN) == []  # no cycle yet
    await clock.run("cascade", {**CALM_CANDLES, **QUIET_FLOW}, 0)
    late = 2 * config.schedule.interval.ms + MIN  # the cycle's candles are too old now
    assert await clock.run("cascade_watch", FLOOD, late) == []


async def test_a_capped_level_says_why_and_names_what_is_missing(clock):
    few = {"vol_ratio": FACTORS["vol_ratio"].hi, "range_ratio": FACTORS["range_ratio"].hi}
    got = await clock.run("cascade", few, 0)
    assert len(got) == 1
    a = got[0]
    assert a.payload["uncapped_level"] == "cascade" and a.payload["level"] == "high"
    assert a.payload["capped"] and a.payload["confidence"] < 0.5
    assert "capped" in str(a.title) and a.severity == "warning"
    line = next(x for x in map(str, a.body) if x.startswith("Level capped"))
    assert "the score alone says cascade" in line and "cascade needs 50%" in line
    assert FACTORS["corr_z"].label in line and FACTORS["depth_drop"].label in line
    assert FACTORS["vol_ratio"].label not in line.split("missing:")[1]


async def test_every_raise_says_what_its_level_has_meant(clock):
    h = load_history()["levels"]["cascade"]
    p = h["falls"]["0.05"]["precision"]
    got = await clock.run("cascade", {**CALM_CANDLES, **FLOOD}, 0)
    assert [a.payload["level"] for a in got] == ["cascade"]
    line = got[0].payload["history"]
    assert line in list(map(str, got[0].body))
    assert f"in {p:.0%} of {h['alerts']} alerts" in line and "≥ 5% fall within 4 h" in line
