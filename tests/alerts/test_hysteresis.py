"""Market-wide alerts with hysteresis: readings dancing around a threshold — the cascade score
at a level's boundary, the regime spike flag, the data age at the stale limit — give one
raise and one recovery per episode; a second episode gets its own; the margin and the
minimum time (``[alerts]`` keys) are honoured. The real rules run through the real outbox on
an engine result from the simulated market, with the reading replaced bar by bar."""

from __future__ import annotations

import dataclasses
import json

import pytest

from core.cascade import level_of
from plugins.alert_rules.episodes import Episode, step
from plugins.alert_rules.runner import build_context, run_alerts
from plugins.manager import PluginManager
from settings import Config
from storage.chats import set_subscriptions
from tests.alerts.conftest import BAR_MS, OWNER, engine

MIN = 60_000


@pytest.fixture
def pm() -> PluginManager:
    return PluginManager(entry_points=False)


class Replay:
    """One reading per 15-minute bar through the named rules; remembers every alert."""

    def __init__(self, db, config: Config, pm, walk, rules: list[str]) -> None:
        self.db, self.config, self.pm, self.rules = db, config, pm, rules
        self.step = walk[0]
        self.base = engine(self.step)
        self.bar = 0
        self.alerts: list = []
        set_subscriptions(db, OWNER, ["regime", "cascade", "data"])

    async def read(self, *, score: float | None = None, spike: bool | None = None,
                   z: float | None = None, age_ms: int = 0, down: bool = False,
                   flow: dict[str, float] | None = None) -> list:
        self.bar += 1
        r, snap = self.base, self.step.snap
        t = snap.last_bar_close_ms + self.bar * BAR_MS  # this bar's close
        c = r.cascade
        if score is not None:
            c = dataclasses.replace(c, score=score, level=level_of(score))
        if z is not None:
            c = dataclasses.replace(c, factors={**c.factors, "corr_z": z})
        if flow is not None:  # the watch's fresh book depth, liquidations, ...
            c = dataclasses.replace(c, factors={**c.factors, **flow})
        r = dataclasses.replace(r, cascade=c, time_ms=t - age_ms,
                                market_spike=bool(spike) if spike is not None else False)
        # the latest bar closed ``age_ms`` before the exchange's clock
        shift = t - age_ms - snap.last_bar_close_ms
        snap = dataclasses.replace(snap, times=snap.times + shift, server_time_ms=t)
        ctx = build_context(self.db, self.config, None if down else r, snap, now_ms=t + 5_000,
                            trades=[], exchange_error="HTTP 503" if down else None)
        got = [a for a in await run_alerts(ctx, self.db, self.pm, only=self.rules)]
        self.alerts += got
        return got

    def keys(self, kind: str) -> list[str]:
        return [a.dedup_key.split(":", 1)[1].rsplit(":", 1)[0] for a in self.alerts
                if a.kind == kind]


# --- the pure state machine ------------------------------------------------------------------

ORDER = ("calm", "elevated", "high")


def test_a_state_is_entered_at_once_and_left_only_after_the_minimum_time():
    ep = Episode("calm")
    s = step(ep, ORDER, "high", "high", stamp=100, now_ms=0, min_ms=60)
    assert (s.event, s.episode.state, s.episode.started_ms, s.episode.peak) == \
        ("enter", "high", 100, "high")
    ep = s.episode
    for now in (10, 40, 69):  # out of it by the margin, not yet long enough
        s = step(ep, ORDER, "calm", "calm", stamp=100, now_ms=now, min_ms=60)
        assert s.event is None and s.episode.state == "high"
        ep = s.episode
    assert ep.leaving_ms == 10
    s = step(ep, ORDER, "calm", "calm", stamp=100, now_ms=70, min_ms=60)
    assert s.event == "clear" and s.episode.state == "calm"
    assert s.previous.started_ms == 100 and s.episode.entered_ms == 101  # keys never repeat


def test_a_reading_within_the_margin_keeps_the_state_and_resets_the_clock():
    ep = step(Episode("calm"), ORDER, "high", "high", stamp=1, now_ms=0, min_ms=60).episode
    ep = step(ep, ORDER, "calm", "calm", stamp=1, now_ms=10, min_ms=60).episode
    ep = step(ep, ORDER, "elevated", "high", stamp=1, now_ms=50, min_ms=60).episode
    assert ep.leaving_ms is None and ep.state == "high"
    s = step(ep, ORDER, "calm", "elevated", stamp=1, now_ms=80, min_ms=60)
    assert s.event is None  # the clock started again at 80
    s = step(s.episode, ORDER, "calm", "elevated", stamp=1, now_ms=140, min_ms=60)
    assert s.event == "ease" and s.episode.state == "elevated"  # a quiet step down


def test_the_watch_may_enter_and_confirm_but_never_leave():
    ep = step(Episode("calm"), ORDER, "elevated", "elevated", stamp=1, now_ms=0,
              min_ms=0, can_leave=False).episode
    assert ep.state == "elevated"
    s = step(ep, ORDER, "calm", "calm", stamp=2, now_ms=10_000, min_ms=0, can_leave=False)
    assert s.event is None and s.episode == ep


# --- cascade ---------------------------------------------------------------------------------


async def test_a_cascade_score_dancing_around_a_level_raises_once_and_eases_once(
        db, config, walk, pm):
    rp = Replay(db, config, pm, walk, ["cascade"])
    await rp.read(score=10)
    for i in range(28):  # seven hours dancing around "high" (50)
        await rp.read(score=52.0 if i % 2 else 48.0)
    assert rp.keys("cascade") == ["elevated", "high"]  # 48 then 52: each level once
    for _ in range(3):  # calm for 45 minutes: under the minimum time
        await rp.read(score=20)
    await rp.read(score=51)
    assert rp.keys("cascade") == ["elevated", "high"]
    for _ in range(5):  # calm for an hour: the episode is over, told once
        await rp.read(score=20)
    for _ in range(4):
        await rp.read(score=12)
    assert rp.keys("cascade") == ["elevated", "high", "calm"]
    eased = rp.alerts[-1]
    assert eased.severity == "info" and eased.payload["peak"] == "high"
    assert eased.payload["episode_started_ms"] == rp.alerts[0].time_ms
    assert "peaked at high" in " ".join(map(str, eased.body))
    # a second episode: its own raise and its own end
    await rp.read(score=55)
    for _ in range(5):
        await rp.read(score=5)
    assert rp.keys("cascade") == ["elevated", "high", "calm", "high", "calm"]
    assert len({a.dedup_key for a in rp.alerts}) == 5


async def test_the_cascade_margin_is_honoured(db, config, walk, pm):
    rp = Replay(db, config, pm, walk, ["cascade"])
    margin = config.alerts.cascade_margin
    await rp.read(score=35)  # elevated (30)
    for _ in range(12):  # three hours just inside the margin: still elevated
        await rp.read(score=30 - margin + 0.1)
    assert rp.keys("cascade") == ["elevated"]
    for _ in range(4):  # just outside it: the minimum time starts, and ends
        await rp.read(score=30 - margin - 0.1)
    assert rp.keys("cascade") == ["elevated"]
    await rp.read(score=30 - margin - 0.1)
    assert rp.keys("cascade") == ["elevated", "calm"]


async def test_a_fall_to_a_lower_level_is_quiet_and_a_new_rise_is_told(db, config, walk, pm):
    rp = Replay(db, config, pm, walk, ["cascade"])
    await rp.read(score=72)
    for _ in range(5):
        await rp.read(score=35)  # the cascade level is left for elevated: nothing to say
    assert rp.keys("cascade") == ["cascade"]
    await rp.read(score=56)  # high again, entered from elevated: news
    assert rp.keys("cascade") == ["cascade", "high"]
    assert rp.alerts[-1].payload["previous"] == "elevated"


async def test_the_hysteresis_keys_are_configurable(db, walk, pm):
    config = Config().with_overrides(alerts={"clear_after": "30m", "cascade_margin": 1.0})
    rp = Replay(db, config, pm, walk, ["cascade"])
    await rp.read(score=40)
    await rp.read(score=28.5)  # 1.5 under 30: out by the margin of 1
    await rp.read(score=28.5)
    assert rp.keys("cascade") == ["elevated"]
    await rp.read(score=28.5)  # 30 minutes out
    assert rp.keys("cascade") == ["elevated", "calm"]


async def test_the_cascade_watch_shares_the_episode_with_the_cycle(db, config, walk, pm):
    rp = Replay(db, config, pm, walk, ["cascade"])
    await rp.read(score=10)  # a calm cycle: its candle inputs are what the watch builds on
    rp.rules = ["cascade_watch"]
    await rp.read(flow={"depth_drop": 0.65})  # the books thin: the watch sees it first
    assert rp.keys("cascade") == ["high"]
    rp.rules = ["cascade"]
    await rp.read(score=53)  # the cycle agrees: already told
    assert rp.keys("cascade") == ["high"]
    rp.rules = ["cascade_watch"]
    for _ in range(8):  # the watch never says it is over
        await rp.read(score=0)
    assert rp.keys("cascade") == ["high"]
    rp.rules = ["cascade"]
    for _ in range(5):
        await rp.read(score=0)
    assert rp.keys("cascade") == ["high", "calm"]


# --- regime ----------------------------------------------------------------------------------


async def test_a_flapping_spike_flag_raises_once_and_clears_once(db, config, walk, pm):
    rp = Replay(db, config, pm, walk, ["regime"])
    z_on = config.engine.regime_z
    for i in range(28):  # seven hours with the flag flipping and z around the threshold
        await rp.read(spike=i % 2 == 0, z=z_on + (0.2 if i % 2 == 0 else -0.3))
    assert rp.keys("regime") == ["on"]
    for _ in range(8):  # flag off, z within the margin: still a spike
        await rp.read(spike=False, z=z_on - config.alerts.regime_margin + 0.1)
    assert rp.keys("regime") == ["on"]
    for _ in range(5):  # under the margin for an hour: over
        await rp.read(spike=False, z=0.5)
    assert rp.keys("regime") == ["on", "off"]
    assert rp.alerts[-1].payload["episode_started_ms"] == rp.alerts[0].time_ms
    await rp.read(spike=True, z=3.0)  # a second spike: its own raise and end
    for _ in range(5):
        await rp.read(spike=False, z=0.0)
    assert rp.keys("regime") == ["on", "off", "on", "off"]
    assert len({a.dedup_key for a in rp.alerts}) == 4


# --- data ------------------------------------------------------------------------------------


async def test_data_age_dancing_around_the_stale_limit_gives_one_stale_and_one_recovery(
        db, config, walk, pm):
    rp = Replay(db, config, pm, walk, ["data"])
    limit = config.alerts.stale_after * config.schedule.interval.ms  # 30 min
    await rp.read(age_ms=5 * MIN)
    for i in range(28):
        await rp.read(age_ms=limit + (MIN if i % 2 == 0 else -MIN))
    assert rp.keys("data") == ["stale"]
    # fresh, but not by the margin (under half the limit): not yet recovered
    for _ in range(6):
        await rp.read(age_ms=limit // 2 + MIN)
    assert rp.keys("data") == ["stale"]
    for _ in range(2):  # fresh by the margin for 15 minutes: under data_clear_after (30m)
        await rp.read(age_ms=2 * MIN)
    assert rp.keys("data") == ["stale"]
    await rp.read(age_ms=2 * MIN)
    assert rp.keys("data") == ["stale", "recovered"]
    rec = rp.alerts[-1]
    assert rec.severity == "info" and "Fresh data for 30 min" in str(rec.body[0])


async def test_a_second_outage_gets_its_own_recovery(db, config, walk, pm):
    rp = Replay(db, config, pm, walk, ["data"])
    for _ in range(2):
        await rp.read(down=True)
    for _ in range(3):
        await rp.read(age_ms=MIN)
    assert rp.keys("data") == ["down", "recovered"]
    assert rp.alerts[0].severity == "critical"
    for _ in range(2):  # the exchange goes away again
        await rp.read(down=True)
    for _ in range(3):
        await rp.read(age_ms=MIN)
    assert rp.keys("data") == ["down", "recovered", "down", "recovered"]
    assert len({a.dedup_key for a in rp.alerts}) == 4
    # and each recovery reached the subscribed chat
    sent = db.execute("select count(*) from deliveries d join alerts a on a.id = d.alert_id "
                      "where a.dedup_key like 'data:recovered:%' and d.chat_id = ?",
                      [OWNER]).fetchone()[0]
    assert sent == 2


async def test_stale_then_unreachable_in_one_outage_is_raised_for_each_then_one_recovery(
        db, config, walk, pm):
    rp = Replay(db, config, pm, walk, ["data"])
    await rp.read(age_ms=45 * MIN)
    await rp.read(down=True)
    await rp.read(down=True)
    await rp.read(age_ms=45 * MIN)
    for _ in range(4):
        await rp.read(age_ms=MIN)
    assert rp.keys("data") == ["stale", "down", "recovered"]
    assert rp.alerts[-1].payload["peak"] == "down"
    assert "unreachable" in " ".join(map(str, rp.alerts[-1].body))


async def test_an_older_versions_memory_is_taken_over(db, config, walk, pm):
    """After an upgrade a running outage still gets its recovery, and is not raised again."""
    db["rule_state"].insert({"rule": "data", "key": "status", "value": '"stale"',
                             "updated_at": 0})
    rp = Replay(db, config, pm, walk, ["data"])
    await rp.read(age_ms=45 * MIN)
    assert rp.keys("data") == []
    for _ in range(3):
        await rp.read(age_ms=MIN)
    assert rp.keys("data") == ["recovered"]
    row = db.execute("select value from rule_state where rule = 'data' and key = 'episode'"
                     ).fetchone()
    assert Episode.from_json(json.loads(row[0])).state == "ok"
