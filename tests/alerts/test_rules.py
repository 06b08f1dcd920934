"""Each built-in rule fires when it should, not again within its cooldown, and nothing but
``data`` fires on stale data — on engine results from the simulated market."""

from __future__ import annotations

import dataclasses
import json

import pytest

from core.recommend import HeldHedge, take_profit_signals
from plugins import hookimpl
from plugins.alert_rules.base import Alert, AlertRule
from plugins.alert_rules.cascade_rules import LEVEL_SEVERITY
from plugins.alert_rules.runner import load_rules, run_alerts
from plugins.manager import PluginManager
from plugins.strategies.registry import load_strategies
from storage.rule_state import open_trades
from storage.trades import open_trade
from tests.alerts.conftest import BAR_MS, BTC, OWNER, context, engine


@pytest.fixture
def pm() -> PluginManager:
    return PluginManager(entry_points=False)


def kinds(alerts: list[Alert]) -> list[str]:
    return sorted(a.kind for a in alerts)


def deliveries_to(db, chat_id) -> list[str]:
    return [r[0] for r in db.execute(
        "select a.kind from deliveries d join alerts a on a.id = d.alert_id where d.chat_id = ?",
        [chat_id]).fetchall()]


def test_builtin_rules_register_through_hedgewatch_register_alert_rules(pm):
    names = [r.name for r in load_rules(pm)]
    assert set(names) == {"regime", "cascade", "cascade_watch", "liquidation", "rebalance",
                          "take_profit", "hedge", "funding", "data", "unknown_symbol",
                          "user_rules"}


async def test_calm_market_raises_nothing(db, config, walk, pm, trader):
    assert await run_alerts(context(db, config, walk[0]), db, pm) == []


async def test_cascade_level_rise_fires_with_its_factors_then_not_again(db, config, walk, pm,
                                                                          trader):
    await run_alerts(context(db, config, walk[0]), db, pm)
    got = await run_alerts(context(db, config, walk[84]), db, pm)
    cascade = [a for a in got if a.kind == "cascade"]
    assert len(cascade) == 1
    a = cascade[0]
    level = a.payload["level"]  # the sim's books and liquidations decide how far it goes
    assert level in ("elevated", "high", "cascade")
    assert a.dedup_key == f"cascade:{level}:{walk[84].snap.last_bar_close_ms}"
    assert a.payload["contributions"]
    assert a.severity == LEVEL_SEVERITY[level] and a.data_age_ms == 0
    # still in the episode an hour later: no news
    again = await run_alerts(context(db, config, walk[88]), db, pm)
    assert "cascade" not in kinds(again)


async def test_cascade_easing_is_told_once_after_the_minimum_time(db, config, walk, pm,
                                                                  trader):
    hot, calm = engine(walk[84], [trader]), engine(walk[0], [trader])  # 104 is still high
    t0, now0 = hot.time_ms, walk[84].snap.server_time_ms

    def at(r, bars):  # the same reading, ``bars`` bars after the first one
        return context(db, config, walk[84], dataclasses.replace(r, time_ms=t0 + bars * BAR_MS),
                       now_ms=now0 + bars * BAR_MS)

    first = await run_alerts(at(hot, 0), db, pm)
    raised = [a.dedup_key.split(":")[1] for a in first if a.kind == "cascade"]
    assert len(raised) == 1 and raised[0] != "calm"
    # calm 15 minutes later, then elevated again: a dancing reading, not news
    assert "cascade" not in kinds(await run_alerts(at(calm, 1), db, pm))
    assert "cascade" not in kinds(await run_alerts(at(hot, 2), db, pm))
    # calm for [alerts] clear_after (1h): eased, once
    for bars in (3, 4, 5, 6):
        assert "cascade" not in kinds(await run_alerts(at(calm, bars), db, pm))
    eased = [a for a in await run_alerts(at(calm, 7), db, pm) if a.kind == "cascade"]
    assert [a.dedup_key for a in eased] == [f"cascade:calm:{t0}"]
    assert "cascade" not in kinds(await run_alerts(at(calm, 8), db, pm))


async def test_liquidation_risk_goes_to_the_owner_only_once_per_cooldown(db, config, walk, pm,
                                                                         trader):
    got = await run_alerts(context(db, config, walk[84]), db, pm)
    liq = [a for a in got if a.kind == "liquidation"]
    assert len(liq) == 1
    a = liq[0]
    assert a.owner_chat_id == OWNER and a.trade_id == trader.trade_id
    assert a.payload["touch_prob_24h"] > config.risk.liquidation_alert_prob
    assert a.chart and a.chart["type"] == "gauge"
    assert deliveries_to(db, OWNER).count("liquidation") == 1
    assert "liquidation" not in deliveries_to(db, config.telegram.signal_channel)
    later = await run_alerts(context(db, config, walk[88]), db, pm)
    assert "liquidation" not in kinds(later)


async def test_funding_extremes_fire_once_per_funding_time(db, config, walk, pm, trader):
    assert "funding" not in kinds(await run_alerts(context(db, config, walk[0]), db, pm))
    got = [a for a in await run_alerts(context(db, config, walk[96]), db, pm)
           if a.kind == "funding"]
    assert len(got) == 1
    extremes = got[0].payload["extremes"]
    assert extremes and all(abs(x["rate"]) >= 0.001 for x in extremes)
    assert [abs(x["rate"]) for x in extremes] == sorted((abs(x["rate"]) for x in extremes),
                                                       reverse=True)
    assert {x["symbol"] for x in extremes} <= set(walk[96].snap.symbols)
    # the same funding time an hour later: nothing new
    again = await run_alerts(context(db, config, walk[96], now_ms=walk[96].snap.server_time_ms
                                     + 3 * 3_600_000), db, pm)
    assert "funding" not in kinds(again)
    # deliveries: the subscribed chat and the signal channel
    assert "funding" in deliveries_to(db, OWNER)
    assert "funding" in deliveries_to(db, config.telegram.signal_channel)


async def test_regime_spike_on_then_off(db, config, walk, pm, trader):
    r = engine(walk[84], [trader])
    on = await run_alerts(context(db, config, walk[84], dataclasses.replace(
        r, market_spike=True)), db, pm)
    spike = [a for a in on if a.kind == "regime"]
    assert len(spike) == 1 and spike[0].severity == "warning"
    assert spike[0].chart["type"] == "heatmap"
    assert spike[0].payload["market_index"] == pytest.approx(r.view.market_index)
    still = await run_alerts(context(db, config, walk[88], dataclasses.replace(
        engine(walk[88], [trader]), market_spike=True)), db, pm)
    assert "regime" not in kinds(still)
    off = engine(walk[96], [trader])
    now = walk[96].snap.server_time_ms
    got = await run_alerts(context(db, config, walk[96], off, now_ms=now), db, pm)
    assert "regime" not in kinds(got)  # over only after [alerts] clear_after
    got = await run_alerts(context(db, config, walk[96], off, now_ms=now + 3_600_000), db, pm)
    assert [a.dedup_key.split(":")[1] for a in got if a.kind == "regime"] == ["off"]


async def test_rebalance_compares_the_target_with_the_hedge_actually_held(db, config, walk, pm,
                                                                          trader):
    strategies = load_strategies(pm)
    first = [a for a in await run_alerts(context(db, config, walk[0], strategies=strategies),
                                         db, pm) if a.kind == "rebalance"]
    # nothing logged as held: the strategy's hedge is advice to add, told once
    assert len(first) == 1 and first[0].payload["action"] == "add_hedge"
    assert first[0].payload["held"] == []
    assert "Held: no hedge (none logged)" in list(map(str, first[0].body))
    target = first[0].payload["target"]
    assert first[0].payload["hedged_command"].startswith(f"/hedged {trader.trade_id} ")
    again = await run_alerts(context(db, config, walk[0], strategies=strategies,
                                     now_ms=walk[0].snap.server_time_ms + BAR_MS), db, pm)
    assert "rebalance" not in kinds(again)  # the same target was told already
    # the trader puts the hedge on and logs it: holding it, nothing to say
    for sym, side, size in target:
        open_trade(db, user_id=OWNER, chat_id=OWNER, symbol=sym, side=side, size=size,
                   entry=100.0, leverage=10, opened_at=walk[0].snap.server_time_ms,
                   fee_rate=0.0005, parent_id=trader.trade_id)
    ctx = context(db, config, walk[0], strategies=strategies)
    assert ctx.advice[trader.trade_id].action in ("hold", "add_margin", "reduce_size")
    assert ctx.held[trader.trade_id] == tuple(tuple(x) for x in target)
    # in a cascade the 10× long nears liquidation: that is its one advice, not the hedge
    hot = context(db, config, walk[84], strategies=strategies)
    assert hot.advice[trader.trade_id].action == "add_margin"
    assert "rebalance" not in kinds(await run_alerts(hot, db, pm))
    # at 2× it is safe; the legs are closed and the trader was last told "no hedge": the
    # strategy's target is news again
    db.execute("update trades set leverage = 2, margin = size * entry / 2 where id = ?",
               [trader.trade_id])
    db.execute("update recommendations set legs = '[]'")
    db.execute("update trades set closed_at = 1, exit_price = 100, close_reason = 'closed' "
               "where parent_id is not null")
    db.conn.commit()
    got = [a for a in await run_alerts(context(db, config, walk[88], strategies=strategies),
                                       db, pm) if a.kind == "rebalance"]
    assert len(got) == 1 and got[0].owner_chat_id == OWNER
    assert got[0].payload["gap_fraction"] > config.strategies.rebalance_threshold
    told = db.execute("select legs from recommendations order by id desc limit 1").fetchone()
    assert json.loads(told[0]) == got[0].payload["target"]  # the next reference


async def test_take_profit_on_a_hedge_in_profit_during_a_cascade(db, config, walk, pm):
    step = walk[84]
    eth = "ETH-USDT-SWAP"
    price = float(step.snap.close[-1, step.snap.index(eth)])
    main = open_trade(db, user_id=OWNER, chat_id=OWNER, symbol="BTC-USDT-SWAP", side="long",
                      size=1.0, entry=walk[0].entry, leverage=2,  # far from liquidation
                      opened_at=walk[0].snap.server_time_ms, fee_rate=0.0005)
    open_trade(db, user_id=OWNER, chat_id=OWNER, symbol=eth, side="short", size=5.0,
               entry=price * 1.05, leverage=10, opened_at=walk[0].snap.server_time_ms,
               fee_rate=0.0005, parent_id=main.id)
    trades = open_trades(db)
    held = [HeldHedge(0, eth, "short", 5.0, price * 1.05)]
    r = engine(step, trades, held)
    prices = dict(zip(r.symbols, r.prices.tolist(), strict=True))
    r = dataclasses.replace(r, take_profit=tuple(take_profit_signals(held, prices, "high", 2)))
    got = [a for a in await run_alerts(context(db, config, step, r, trades=trades), db, pm)
           if a.kind == "take_profit"]
    assert len(got) == 1 and got[0].symbol == eth and got[0].payload["pnl"] > 0
    assert got[0].owner_chat_id == OWNER


async def test_stale_data_raises_only_a_data_alert_then_recovery(db, config, walk, pm, trader):
    step = walk[96]  # cascade, liquidation and funding would all fire on fresh data
    stale = dataclasses.replace(step.snap, server_time_ms=step.snap.server_time_ms + 3 * BAR_MS)
    ctx = context(db, config, step, snap=stale)
    assert ctx.stale and ctx.data_age_ms == 3 * BAR_MS
    got = await run_alerts(ctx, db, pm)
    assert kinds(got) == ["data"] and got[0].dedup_key.startswith("data:stale:")
    fresh = await run_alerts(context(db, config, step), db, pm)
    assert "data" not in kinds(fresh)  # fresh again: the other rules run at once ...
    assert {"cascade", "liquidation", "funding"} <= set(kinds(fresh))
    later = await run_alerts(context(db, config, step, now_ms=step.snap.server_time_ms
                                     + 5_000 + config.alerts.data_clear_after.ms), db, pm)
    # ... and the recovery is told once the data has stayed fresh for data_clear_after
    assert [a.dedup_key.split(":")[1] for a in later if a.kind == "data"] == ["recovered"]


async def test_unreachable_exchange_raises_a_critical_data_alert(db, config, walk, pm, trader):
    ctx = context(db, config, walk[0], None, snap=walk[0].snap, exchange_error="HTTP 503")
    got = await run_alerts(ctx, db, pm)
    assert kinds(got) == ["data"] and got[0].severity == "critical"
    assert "HTTP 503" in " ".join(map(str, got[0].body))


class Boom(AlertRule):
    name = "boom"
    kind = "regime"

    def evaluate(self, ctx):
        ctx.memory.set("boom", "x", 1, now_ms=ctx.now_ms)
        raise RuntimeError("rule bug")


class Always(AlertRule):
    name = "always"
    kind = "regime"

    def evaluate(self, ctx):
        return [self.alert(ctx, f"always:{ctx.time_ms}", "info", "hello", ["x"], "nothing")]


class RulesPlugin:
    @staticmethod
    @hookimpl
    def hedgewatch_register_alert_rules():
        return [Boom(), Always()]


async def test_a_crashing_rule_is_isolated_by_name_and_hedgewatch_on_alert_is_notified(
        db, config, walk, pm, trader):
    seen: list[Alert] = []

    class Listener:
        @staticmethod
        @hookimpl
        def hedgewatch_on_alert(alert):
            seen.append(alert)

    pm.register(RulesPlugin(), name="test-rules")
    pm.register(Listener(), name="test-listener")
    try:
        got = await run_alerts(context(db, config, walk[0]), db, pm)
    finally:
        pm.unregister("test-rules")
        pm.unregister("test-listener")
    assert [a.dedup_key for a in got] == [f"regime:always:{walk[0].snap.last_bar_close_ms}"]
    assert seen == got
    assert any(f.plugin == "test-rules" and f.hook == "alert rule boom" and "rule bug" in f.error
               for f in pm.failures)
    assert db.execute("select count(*) from rule_state where rule = 'boom'").fetchone()[0] == 0


def test_an_alert_for_a_trade_needs_its_owner():
    with pytest.raises(ValueError):
        Alert("liquidation", "liquidation:1:warning:0", "warning", "t", (), "a", 0, 0, 1)
    assert Alert("cascade", "cascade:high:5", "warning", "t", (), "a", 0, 0,
                 1).cooldown_key == "cascade:high"
    assert BTC


async def test_a_trade_past_its_liquidation_price_is_told_once_to_check_the_account(
        db, config, walk, pm):
    entry = walk[0].entry * 1.15  # a 20× long opened well above today's price
    open_trade(db, user_id=OWNER, chat_id=OWNER, symbol=BTC, side="long", size=0.2,
               entry=entry, leverage=20, opened_at=0, fee_rate=0.0005)
    got = [a for a in await run_alerts(context(db, config, walk[0]), db, pm)
           if a.kind == "liquidation"]
    assert len(got) == 1 and got[0].payload["past"] and got[0].severity == "critical"
    assert "liquidated" in str(got[0].action) and "add margin" not in str(got[0].action).lower()
    later = await run_alerts(context(db, config, walk[96], now_ms=walk[96].snap.server_time_ms
                                     + 10 * 3_600_000), db, pm)
    assert "liquidation" not in kinds(later)
