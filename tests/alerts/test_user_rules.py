"""Users' own alerts (/alert) fire once when crossed, re-arm only past a margin, survive a
restart and reach their owner alone; /threshold changes what the built-in rules say to whom.
Real SQLite, the simulated market, the real rule runner and outbox."""

from __future__ import annotations

import dataclasses

import pytest

from core.alerts import Alert
from plugins.alert_rules.runner import run_alerts
from plugins.manager import PluginManager
from storage import open_database, thresholds, user_alerts
from storage.chats import set_subscriptions
from storage.outbox import record_alerts
from storage.rule_state import RuleMemory
from tests.alerts.conftest import BTC, OWNER, context, engine

USER = 7001
ETH = "ETH-USDT-SWAP"


@pytest.fixture
def pm() -> PluginManager:
    return PluginManager(entry_points=False)


async def cycle(db, config, walk, pm, k=0, prices=None, now_shift=0):
    """One watch cycle at step ``k`` with some prices set; the users' alerts it recorded."""
    step = walk[k]
    result = engine(step)
    if prices:
        p = result.prices.copy()
        for sym, v in prices.items():
            p[result.index(sym)] = v
        result = dataclasses.replace(result, prices=p)
    ctx = context(db, config, step, result, now_ms=step.snap.server_time_ms + 5_000 + now_shift)
    return [a for a in await run_alerts(ctx, db, pm, only=["user_rules"]) if a.kind == "rule"]


def price_rule(db, user, op, level):
    return user_alerts.add_rule(db, user, "price", op, level, f"BTC {op} {level:g}", now_ms=0,
                                symbol=BTC)


async def test_a_price_alert_fires_once_when_crossed_then_only_after_rearming(db, config,
                                                                              walk, pm):
    p = float(engine(walk[0]).prices[engine(walk[0]).index(BTC)])
    level = round(p * 0.9)
    rule = price_rule(db, USER, "<", level)
    assert await cycle(db, config, walk, pm, prices={BTC: p}) == []
    (fired,) = await cycle(db, config, walk, pm, prices={BTC: level * 0.99})
    assert fired.owner_chat_id == USER and fired.severity == "warning"
    assert str(fired.title).startswith("BTC below ") and fired.payload["fired"] == 1
    assert f"/alerts delete {rule.id}" in str(fired.action)
    # still below, then just above the level but inside the margin, then below again: quiet
    for price in (level * 0.98, level * 1.003, level * 0.99):
        assert await cycle(db, config, walk, pm, prices={BTC: price}) == []
    # back above by more than the margin: re-armed, and the next crossing is told
    assert await cycle(db, config, walk, pm, prices={BTC: level * 1.01}) == []
    (again,) = await cycle(db, config, walk, pm, prices={BTC: level * 0.99})
    assert again.payload["fired"] == 2 and again.dedup_key != fired.dedup_key


async def test_a_fired_alert_stays_fired_across_a_restart(tmp_path, config, walk, pm):
    path = tmp_path / "restart.db"
    db = open_database(path)
    p = float(engine(walk[0]).prices[engine(walk[0]).index(BTC)])
    price_rule(db, USER, ">", round(p * 1.1))
    assert len(await cycle(db, config, walk, pm, prices={BTC: p * 1.2})) == 1
    db.conn.close()
    db = open_database(path)  # the bot restarts: the rule and its state are on disk
    assert [r.text for r in user_alerts.user_rules(db, USER)] == [f"BTC > {round(p * 1.1)}"]
    assert RuleMemory(db).get("user_rules", "1")["armed"] is False
    assert await cycle(db, config, walk, pm, prices={BTC: p * 1.2}) == []
    assert await cycle(db, config, walk, pm, prices={BTC: p}) == []  # re-arms
    assert len(await cycle(db, config, walk, pm, prices={BTC: p * 1.2})) == 1


async def test_alerts_reach_their_owner_only(db, config, walk, pm):
    everything = ["regime", "cascade", "funding", "data", "rule"]
    for chat in (USER + 1, -100123):
        set_subscriptions(db, chat, everything, chat_type="private" if chat > 0 else "group")
    p = float(engine(walk[0]).prices[engine(walk[0]).index(BTC)])
    price_rule(db, USER, "<", round(p * 0.9))
    (a,) = await cycle(db, config, walk, pm, prices={BTC: p * 0.8})
    chats = [r[0] for r in db.execute(
        "select d.chat_id from deliveries d join alerts a on a.id = d.alert_id "
        "where a.dedup_key = ?", [a.dedup_key])]
    assert chats == [USER]  # not the subscribed chats, not the signal channel


async def test_a_move_alert_fires_on_the_move_over_its_window(db, config, walk, pm):
    snap = walk[88].snap
    j = snap.symbols.index(ETH)
    move = (snap.close[-1, j] / snap.close[-5, j] - 1) * 100  # 1h = 4 bars of 15 min
    assert abs(move) > 0.05
    for value in (abs(move) * 0.9, abs(move) * 1.5):
        user_alerts.add_rule(db, USER, "move", ">=", round(value, 4), f"ETH move {value:.4f}%"
                             " 1h", now_ms=0, symbol=ETH, window_ms=3_600_000)
    (a,) = await cycle(db, config, walk, pm, k=88)
    assert a.payload["rule_id"] == 1 and a.payload["value"] == pytest.approx(move)
    assert f"{move:+.1f}% in 1h" in str(a.title)


async def test_a_trade_distance_alert_reads_only_its_owners_trade(db, config, walk, pm,
                                                                  trader):
    r = engine(walk[0], [trader])
    dist = float(r.risk.distance_pct[0])
    for user in (OWNER, USER):  # USER names OWNER's trade: never told about it
        user_alerts.add_rule(db, user, "distance", "<", round(dist + 1, 2),
                             f"trade #1 distance < {dist + 1:.2f}%", now_ms=0, trade_id=1)
    step = walk[0]
    ctx = context(db, config, step, r)
    got = [a for a in await run_alerts(ctx, db, pm, only=["user_rules"])]
    assert [(a.owner_chat_id, a.severity) for a in got] == [(OWNER, "critical")]
    assert str(got[0].title) == f"Trade #1 is {dist:.1f}% from liquidation"


async def test_an_owners_distance_threshold_raises_the_liquidation_alert(db, config, walk,
                                                                         pm, trader):
    r = engine(walk[0], [trader])
    dist = float(r.risk.distance_pct[0])

    async def liquidation_alerts():
        ctx = context(db, config, walk[0], r)
        return [a for a in await run_alerts(ctx, db, pm, only=["liquidation"])]

    assert await liquidation_alerts() == []  # a calm market: the config's thresholds hold
    thresholds.set_threshold(db, OWNER, "liquidation", "distance", f"{dist + 2:g}", now_ms=0)
    (a,) = await liquidation_alerts()
    assert a.owner_chat_id == OWNER and a.trade_id == 1
    assert f"Inside your /threshold of {dist + 2:g}% from liquidation" in list(map(str, a.body))
    assert str(a.title).endswith(f"{dist:.1f}% away")


def cascade(level: str, key: str, **extra) -> Alert:
    return Alert(kind="cascade", dedup_key=f"cascade:{key}", severity="warning",
                 title=level, body=(), action="", time_ms=0, data_age_ms=0, cooldown_ms=0,
                 payload={"level": level, **extra})


def test_a_chats_cascade_threshold_filters_cascade_alerts(db):
    quiet, everyone = -1001, -1002
    for chat in (quiet, everyone):
        set_subscriptions(db, chat, ["cascade"], chat_type="group")
    thresholds.set_threshold(db, quiet, "cascade", "level", "high", now_ms=0)

    def receivers(alert):
        record_alerts(db, [alert], now_ms=1)
        return [r[0] for r in db.execute(
            "select d.chat_id from deliveries d join alerts a on a.id = d.alert_id "
            "where a.dedup_key = ? order by d.chat_id", [alert.dedup_key])]

    assert receivers(cascade("elevated", "e1")) == [everyone]
    assert receivers(cascade("high", "h1")) == [everyone, quiet]
    # the end of an episode reaches a chat that was told of its peak
    assert receivers(cascade("calm", "c1", peak="elevated")) == [everyone]
    assert receivers(cascade("calm", "c2", peak="cascade")) == [everyone, quiet]

