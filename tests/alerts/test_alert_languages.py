"""Every built-in alert kind, raised by the real rules on the simulated market (and by the
account sync), reads entirely in Chinese, and has no unmarked word in the pseudo-locale: the
title, body, action, the labels around them and the buttons, as the sender renders them from
what the outbox recorded once per language."""

from __future__ import annotations

import dataclasses

import pytest

from chat.alert_render import render_alert
from core.alerts import BUILTIN_KINDS
from core.recommend import HeldHedge, take_profit_signals
from i18n import use
from i18n.languages import PSEUDO, RENDERED
from plugins.accounts.alerts import closed_alert, failing_alert, recovered_alert
from plugins.alert_rules.runner import run_alerts
from plugins.manager import PluginManager
from plugins.strategies.registry import load_strategies
from storage import outbox, user_alerts
from storage.accounts import Account
from storage.rule_state import open_trades
from storage.trades import close_trade, open_trade
from tests.alerts.conftest import BAR_MS, BTC, OWNER, context, engine
from tests.i18n.untranslated import english_runs, plain_words

ETH = "ETH-USDT-SWAP"


@pytest.fixture
def pm() -> PluginManager:
    return PluginManager(entry_points=False)


@pytest.fixture(autouse=True)
def _pseudo_rendered_too(monkeypatch):
    monkeypatch.setattr("i18n.languages.RENDERED", [*RENDERED, PSEUDO])
    monkeypatch.setattr("storage.outbox.RENDERED", [*RENDERED, PSEUDO])


async def raise_every_kind(db, config, walk, pm, trader) -> None:
    """Drive the rules through the simulated cascade: each built-in kind is recorded."""
    strategies = load_strategies(pm)
    await run_alerts(context(db, config, walk[0], strategies=strategies), db, pm)  # rebalance
    hot = engine(walk[84], [trader])
    await run_alerts(context(db, config, walk[84], dataclasses.replace(hot, market_spike=True),
                             strategies=strategies), db, pm)  # cascade, liquidation, regime
    await run_alerts(context(db, config, walk[96]), db, pm)  # funding
    stale = dataclasses.replace(walk[96].snap,
                                server_time_ms=walk[96].snap.server_time_ms + 3 * BAR_MS)
    await run_alerts(context(db, config, walk[96], snap=stale), db, pm)  # data: stale
    await run_alerts(context(db, config, walk[0], None, exchange_error="HTTP 503"), db, pm)
    # at 2× the long is safe, so its one advice is about the hedge: a held ETH short whose
    # correlation with it broke (hedge), in profit during the cascade (take profit)
    db.execute("update trades set leverage = 2, margin = size * entry / 2 where id = ?",
               [trader.trade_id])
    db.conn.commit()
    price = float(walk[84].snap.last_price(ETH))
    open_trade(db, user_id=OWNER, chat_id=OWNER, symbol=ETH, side="short", size=5.0,
               entry=price * 1.05, leverage=10, opened_at=walk[0].snap.server_time_ms,
               fee_rate=0.0005, parent_id=trader.trade_id)
    trades = open_trades(db)
    calm = engine(walk[0], trades)
    i, j = calm.index(BTC), calm.index(ETH)
    rho = calm.rho_fast.copy()
    rho[i, j] = rho[j, i] = 0.05
    calm = dataclasses.replace(calm, rho_fast=rho, time_ms=calm.time_ms + BAR_MS)
    await run_alerts(context(db, config, walk[0], calm, trades=trades,
                             now_ms=walk[0].snap.server_time_ms + BAR_MS), db, pm)
    held = [HeldHedge(0, ETH, "short", 5.0, price * 1.05)]
    r = engine(walk[84], trades, held)
    prices = dict(zip(r.symbols, r.prices.tolist(), strict=True))
    r = dataclasses.replace(r, take_profit=tuple(take_profit_signals(held, prices, "high", 2)))
    await run_alerts(context(db, config, walk[84], r, trades=trades), db, pm)
    # a user's own alert, crossed
    user_alerts.add_rule(db, OWNER, "price", ">", 1.0, "BTC > 1", now_ms=0, symbol=BTC)
    await run_alerts(context(db, config, walk[0]), db, pm, only=["user_rules"])
    # a configured symbol the exchange does not list (to the operators)
    ctx = context(db, config, walk[0])
    ctx = dataclasses.replace(ctx, missing={"ETHH": "unknown symbol on okx (did you mean "
                                            "ETH-USDT-SWAP?)"})
    await run_alerts(ctx, db, pm, only=["unknown_symbol"])
    # the account sync: a key that stopped reading, reading again, a trade closed on the
    # exchange by a liquidation
    account = Account(id=1, user_id=OWNER, exchange="okx", created_at=0)
    closed = close_trade(db, OWNER, trader.trade_id, exit_price=trader.entry * 0.9,
                         closed_at=1, reason="liquidated")
    assert closed is not None
    outbox.record_alerts(db, [
        # (an exchange's own error text is quoted as it came; here only its code)
        failing_alert(account, "okx 50113", 10),
        recovered_alert(account, 10, 10 + 600_000),
        closed_alert(closed, exchange="okx", open_legs=[], data_age_ms=0)], now_ms=20)


async def test_every_alert_kind_reads_in_chinese_and_has_no_unmarked_word(
        db, config, walk, pm, trader):
    config = config.with_overrides(telegram={"admins": [OWNER]})
    await raise_every_kind(db, config, walk, pm, trader)
    stored = [outbox.load_alert(db, r[0]) for r in db.execute("select id from alerts")]
    assert {a.kind for a in stored} >= {k.name for k in BUILTIN_KINDS}, \
        "a kind was not raised: " + str({k.name for k in BUILTIN_KINDS}
                                        - {a.kind for a in stored})
    left: dict[str, list[str]] = {}
    for alert in stored:
        for lang, find in (("zh_Hans", english_runs), (PSEUDO, plain_words)):
            with use(lang):
                shown = render_alert(alert, now_ms=alert.created_at + 60_000,
                                     tz="Asia/Shanghai")
            texts = [shown.plain, *(label for label, _data in shown.buttons)]
            words = [w for t in texts for w in find(t)]
            if words:
                left.setdefault(f"{alert.kind} ({lang})", []).extend(words)
    assert not left, "\n".join(f"{k}: {sorted(set(v))[:10]}" for k, v in left.items())
