"""The hedge rule: a held leg that stops hedging its trade — its fast-window ρ² under the
threshold, or its stress beta flipped to the side that adds to the trade's loss — is told to
the owner once, with the numbers and what to do; a leg that hedges again is forgotten, so a
later breakdown is news again."""

from __future__ import annotations

import dataclasses

import pytest

from plugins.alert_rules.runner import run_alerts
from plugins.manager import PluginManager
from storage import outbox
from storage.rule_state import open_trades
from storage.trades import open_trade
from tests.alerts.conftest import BTC, OWNER, context, engine

ETH = "ETH-USDT-SWAP"


@pytest.fixture
def pm() -> PluginManager:
    return PluginManager(entry_points=False)


@pytest.fixture
def feed(db, config, walk, pm, trader):
    """The BTC long with an ETH short logged as its hedge leg; ``feed(k, rho, beta)`` runs the
    rules on the engine's result with ETH's ρ and stress β to BTC set, ``k`` cycles on."""
    step = walk[0]
    open_trade(db, user_id=OWNER, chat_id=OWNER, symbol=ETH, side="short", size=10.0,
               entry=float(step.snap.last_price(ETH)), leverage=10,
               opened_at=step.snap.server_time_ms, fee_rate=0.0005, parent_id=trader.trade_id)
    trades = open_trades(db)
    base = engine(step, trades)
    i, j = base.index(BTC), base.index(ETH)

    async def go(k: int, rho: float | None = None, beta: float | None = None):
        r = base
        if rho is not None:
            m = base.rho_fast.copy()
            m[j, i] = m[i, j] = rho
            r = dataclasses.replace(r, rho_fast=m)
        if beta is not None:
            b = base.stress_beta.copy()
            b[j, i] = beta
            r = dataclasses.replace(r, stress_beta=b)
        r = dataclasses.replace(r, time_ms=base.time_ms + k * 900_000)
        ctx = context(db, config, step, r, trades=trades,
                      now_ms=step.snap.server_time_ms + k * 900_000)
        return [a for a in await run_alerts(ctx, db, pm) if a.kind == "hedge"]

    return go, base, i, j


async def test_a_working_hedge_is_quiet(feed):
    go, base, i, j = feed
    assert base.rho_fast[j, i] ** 2 > 0.25 and base.stress_beta[j, i] > 0  # the sim's real
    assert await go(0) == []


async def test_a_correlation_breakdown_is_told_once_with_numbers_and_what_to_do(feed, db):
    go = feed[0]
    (a,) = await go(0, rho=0.3)
    assert a.severity == "warning" and a.trade_id == 1 and a.owner_chat_id == OWNER
    assert a.payload["leg_id"] == 2 and a.payload["weak"] and not a.payload["flipped"]
    assert a.payload["r2_fast"] == pytest.approx(0.09)
    assert str(a.title) == "Hedge #2 ETH short no longer hedges #1 BTC long: its correlation fell"
    assert any("ρ² of ETH with BTC over the last 1d: 0.09, under 0.25" in x
               for x in map(str, a.body))
    assert "/close 2" in str(a.action) and "/hedge 1" in str(a.action)
    assert await go(1, rho=0.2) == []  # still broken: said once
    assert await go(2, rho=0.55) == []  # ρ² 0.30: not yet clearly hedging again
    assert await go(3, rho=0.3) == []  # … so this is the same breakdown
    assert await go(4) == []  # hedging again (the sim's ρ): forgotten, silently
    assert [x.payload["weak"] for x in await go(5, rho=0.1)] == [True]  # news again
    hedge_ids = {x[0] for x in db.execute("select id from alerts where kind = 'hedge'")}
    to = {d.chat_id for d in outbox.due_deliveries(db, 10**15) if d.alert_id in hedge_ids}
    assert to == {OWNER}  # the owner's private chat, and no one else


async def test_a_stress_beta_flip_is_a_breakdown_even_with_high_correlation(feed):
    go = feed[0]
    (a,) = await go(0, beta=-0.8)  # a short leg whose asset falls when BTC rises in stress
    assert a.payload["flipped"] and not a.payload["weak"]
    assert str(a.title).endswith("its stress beta flipped")
    assert any("Stress β of ETH on BTC: -0.80 — in a sell-off the short leg would lose with "
               "your long" in x for x in map(str, a.body))
    assert await go(1, beta=-0.8) == []
