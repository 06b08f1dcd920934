"""Issue 27's acceptance: real HTTP requests to the intake on 127.0.0.1, the real PTB
Application and alert sender against the fake Bot API, real SQLite. A valid signal reaches
its route's chat (or topic) enriched with the numbers ``/risk`` and ``/hedge`` give for the
same position; a wrong secret is 401 and sends nothing; a malformed body 400; a repeat within
the dedup window is sent once; a flood on one route is bounded and its last state arrives."""

from __future__ import annotations

import asyncio
import json

from storage import tv_routes
from storage.outbox import delivery_counts
from storage.trades import list_trades
from tests.tradingview.conftest import ADMIN, GROUP

SYMBOL = "BTC-USDT-SWAP"


async def mark(tv, symbol: str = SYMBOL) -> float:
    snap = await tv.bot.front.services.snapshot()
    return round(snap.last_price(symbol), 1)


def strategy_alert(close: float, **extra) -> dict:
    """What TradingView posts for the strategy template once it filled the placeholders."""
    return {"passphrase": "{PASS}", "ticker": "BTCUSDT.P", "exchange": "OKX",
            "close": str(close), "interval": "15", "action": "buy", "contracts": "0.5",
            "position_size": "0.5", "leverage": 10, "message": "breakout long", **extra}


def stored_numbers(tv) -> list[dict]:
    rows = tv.db.execute("select payload from alerts where kind = 'tradingview' "
                         "order by id").fetchall()
    return [json.loads(r[0])["numbers"] for r in rows]


async def test_a_strategy_alert_reaches_the_group_with_the_numbers_of_risk_and_hedge(tv):
    route = tv.route(GROUP)
    close = await mark(tv)
    resp = await tv.post(route, strategy_alert(close, sl=str(round(close * 0.97, 1))))
    assert resp.status_code == 200, resp.text
    sent = await tv.drain()
    assert [m.chat_id for m in sent] == [GROUP]
    text = sent[0].visible_text
    words = f"btc long 0.5 @{close:.10g} 10x"
    await tv.bot.say(f"/risk {words}", chat=ADMIN)
    risk = tv.bot.replies[-1].data
    await tv.bot.say(f"/hedge {words}", chat=ADMIN)
    hedge = tv.bot.replies[-1].data
    numbers = stored_numbers(tv)[0]
    for key in ("liquidation_price", "distance_pct", "touch_prob_24h", "touch_prob_1h",
                "safe_leverage"):
        assert numbers["risk"][key] == risk[key], key
    assert numbers["hedge"]["legs"] == hedge["legs"]
    assert numbers["hedge"]["regime"] == hedge["regime"]
    assert numbers["hedge"]["cascade"] == hedge["cascade"]
    assert f"Liquidation {risk['liquidation_price']:,.2f}" in text
    assert f"touch 24h {risk['touch_prob_24h'] * 100:.2f} %" in text
    assert f"Hedge: {hedge['legs'][0]['text']}" in text
    assert f"Cascade {hedge['cascade']['level']} · regime {hedge['regime']}" in text
    assert "TradingView: BUY BTC-USDT-SWAP" in text and "(15m)" in text
    assert "breakout long" in text and "SL " in text
    assert "old" in text.splitlines()[-1]  # the data's age, as every alert says it
    assert len(text.splitlines()) <= 10
    assert tv.passphrases[route.id] not in (sent[0].text or "")
    buttons = [b["text"] for row in sent[0].reply_markup["inline_keyboard"] for b in row]
    assert "Hedge it" in buttons and "Details" in buttons


async def test_an_indicator_text_alert_reaches_its_forum_topic(tv):
    tv.tg.chat(GROUP, "supergroup", is_forum=True)
    route = tv.route(GROUP, thread_id=7)
    close = await mark(tv)
    body = f"BINANCE:BTCUSDT.P short size=0.2 @{close} 5x RSI overbought passphrase={{PASS}}"
    resp = await tv.post(route, body)
    assert resp.status_code == 200, resp.text
    sent = await tv.drain()
    assert [(m.chat_id, m.thread_id) for m in sent] == [(GROUP, 7)]
    assert "Short 0.2 BTC 5x" in sent[0].visible_text
    assert "RSI overbought" in sent[0].visible_text
    assert "passphrase" not in sent[0].visible_text


async def test_a_wrong_or_missing_secret_is_401_and_nothing_is_sent(tv):
    route = tv.route()
    close = await mark(tv)
    wrong = strategy_alert(close, passphrase="guess")
    missing = {k: v for k, v in strategy_alert(close).items() if k != "passphrase"}
    assert (await tv.post(route, wrong)).status_code == 401
    assert (await tv.post(route, missing)).status_code == 401
    header = await tv.post(route, strategy_alert(close),
                           headers={"X-Hedgewatch-Passphrase": "guess"})
    assert header.status_code == 401
    assert await tv.drain() == []
    assert stored_numbers(tv) == []
    verdicts = [r.verdict for r in tv_routes.recent_intake(tv.db)]
    assert verdicts == ["refused"] * 3


async def test_the_header_passphrase_is_enough(tv):
    route = tv.route()
    body = {k: v for k, v in strategy_alert(await mark(tv)).items() if k != "passphrase"}
    resp = await tv.post(route, body,
                         headers={"X-Hedgewatch-Passphrase": tv.passphrases[route.id]})
    assert resp.status_code == 200, resp.text
    assert len(await tv.drain()) == 1


async def test_a_malformed_body_is_400_with_the_reason_and_nothing_is_sent(tv):
    route = tv.route()
    cases = {
        '{"passphrase": "{PASS}", "ticker": "BTCUSDT.P", "close": {{close}}}':
            "left {{close}} unfilled",
        '["{PASS}"]': "object",
        '{"passphrase": "{PASS}", "ticker": "BTCUSDT.P", "close": "sixty"}': "number",
        '{"passphrase": "{PASS}", "ticker": "BTCUSDT.P", "side": "up"}': "side",
        "   ": "empty",
    }
    for body, why in cases.items():
        resp = await tv.post(route, body, content_type="application/json")
        assert resp.status_code == 400, body
        assert why in resp.text, (body, resp.text)
    bad_utf8 = await tv.post(route, b"\xff\xfe", content_type="text/plain")
    assert bad_utf8.status_code == 400
    assert await tv.drain() == []
    assert {r.verdict for r in tv_routes.recent_intake(tv.db)} == {"malformed"}


async def test_a_repeat_within_the_dedup_window_is_sent_once(tv):
    route = tv.route()
    body = strategy_alert(await mark(tv))
    first, again = await tv.post(route, body), await tv.post(route, body)
    assert first.status_code == again.status_code == 200
    assert "duplicate" in again.text
    assert len(await tv.drain()) == 1
    tv.advance(11 * 60)  # past [tradingview] dedup_window (10m): a new signal
    assert "relayed" in (await tv.post(route, body)).text
    assert len(await tv.drain()) == 1
    verdicts = [r.verdict for r in reversed(tv_routes.recent_intake(tv.db))]
    assert verdicts == ["relayed", "duplicate", "relayed"]


async def test_a_flood_on_one_route_is_bounded_and_its_last_state_arrives(make_tv):
    async with make_tv(tradingview={"route_rate": 6, "route_period": "10m"}) as tv:
        route = tv.route()
        close = await mark(tv)
        sent = []
        for i in range(100):  # as fast as they come; the service drains after each
            resp = await tv.post(route, strategy_alert(close + i, message=f"signal {i}"))
            assert resp.status_code == 200, resp.text
            sent += await tv.drain()
        assert len(sent) <= 6
        tv.advance(100)  # one slot of the route's rate (10 min / 6)
        sent += await tv.drain()
        assert len(sent) <= 7
        last = sent[-1].visible_text
        assert "signal 99" in last and f"@ {close + 99:,.2f}" in last
        assert "updates on this since" in last  # what the held ones were, in one line
        verdicts = [r.verdict for r in tv_routes.recent_intake(tv.db, limit=200)]
        assert len(verdicts) == 100 and set(verdicts) == {"relayed", "held"}
        assert delivery_counts(tv.db).get("pending", 0) == 0


async def test_an_unknown_ticker_is_relayed_with_a_warning(tv):
    route = tv.route()
    resp = await tv.post(route, {"passphrase": "{PASS}", "ticker": "BINANCE:NOPEUSDT.P",
                                 "action": "buy", "close": "1.5"})
    assert resp.status_code == 200
    sent = await tv.drain()
    assert len(sent) == 1
    assert "has no BINANCE:NOPEUSDT.P" in sent[0].visible_text or \
        "has no NOPEUSDT.P" in sent[0].visible_text
    assert "⚠" in sent[0].visible_text


async def test_a_revoked_route_is_404_and_an_address_off_the_allow_list_403(make_tv):
    async with make_tv(tradingview={"allowed_ips": ["52.89.214.238"]}) as tv:
        route = tv.route()
        body = strategy_alert(await mark(tv))
        assert (await tv.post(route, body)).status_code == 403  # 127.0.0.1 is not allowed
    async with make_tv() as tv:
        route = tv.route()
        tv_routes.revoke_route(tv.db, route.id, 0)
        assert (await tv.post(route, strategy_alert(1.0))).status_code == 404
        assert (await tv.post("not-a-route", strategy_alert(1.0))).status_code == 404
        assert await tv.drain() == []


async def test_a_log_route_records_the_signal_as_its_owners_trade_once(tv):
    route = tv.route(log_trades=True)
    close = await mark(tv)
    body = strategy_alert(close)
    await tv.post(route, body)
    tv.advance(11 * 60)
    await tv.post(route, body)  # after the dedup window: relayed again, logged once
    trades = list_trades(tv.db, ADMIN)
    assert [(t.symbol, t.side, t.size, t.entry, t.leverage) for t in trades] == [
        (SYMBOL, "long", 0.5, close, 10.0)]


async def test_a_signal_taken_during_a_telegram_outage_is_sent_when_it_is_back(tv):
    route = tv.route()
    tv.tg.set_outage(502)
    assert (await tv.post(route, strategy_alert(await mark(tv)))).status_code == 200
    assert await tv.drain() == []
    tv.tg.set_outage(None)
    tv.advance(60)
    sent = await tv.drain()
    assert len(sent) == 1 and "TradingView: BUY" in sent[0].visible_text


async def test_a_failure_computing_the_numbers_still_relays_the_signal(tv, monkeypatch, caplog):
    async def broken(*args, **kwargs):
        raise ZeroDivisionError("a strategy's bug")

    monkeypatch.setattr("chat.tradingview.intake.assess_position", broken)
    route = tv.route()
    resp = await tv.post(route, strategy_alert(await mark(tv)))
    assert resp.status_code == 200
    sent = await tv.drain()
    assert len(sent) == 1 and "the numbers failed" in sent[0].visible_text
    assert "a strategy's bug" in caplog.text  # for the operator, with its traceback


async def test_numbers_not_ready_in_time_relay_the_signal_without_them(make_tv, monkeypatch):
    release = asyncio.Event()

    async def slow(*args, **kwargs):
        await release.wait()  # the market does not answer while TradingView waits

    monkeypatch.setattr("chat.tradingview.intake.assess_position", slow)
    async with make_tv(tradingview={"enrich_timeout": "200ms"}) as tv:
        route = tv.route()
        resp = await tv.post(route, strategy_alert(60000.0))
        release.set()
        assert resp.status_code == 200
        sent = await tv.drain()
        assert len(sent) == 1 and "not ready within 200ms" in sent[0].visible_text


async def test_a_hundred_at_once_on_one_route_all_answered_and_the_newest_goes(make_tv):
    async with make_tv(tradingview={"route_rate": 6, "route_period": "10m"}) as tv:
        route = tv.route()
        close = await mark(tv)
        answers = await asyncio.gather(*(
            tv.post(route, strategy_alert(close + i, message=f"burst {i}")) for i in range(100)))
        assert [a.status_code for a in answers] == [200] * 100
        tv.advance(100)
        sent = await tv.drain()
        tv.advance(100)
        sent += await tv.drain()
        assert 1 <= len(sent) <= 7
        newest = tv.db.execute("select payload from alerts order by id desc limit 1"
                               ).fetchone()[0]
        assert json.loads(newest)["title"] in sent[-1].visible_text
        assert "updates on this since" in sent[-1].visible_text
        assert delivery_counts(tv.db).get("pending", 0) == 0


async def test_a_relayed_signal_reads_in_each_language_and_its_numbers_stay_english(tv):
    route = tv.route()
    resp = await tv.post(route, {"passphrase": "{PASS}", "ticker": "BINANCE:NOPEUSDT.P",
                                 "action": "sell", "close": "1.5"})
    assert resp.status_code == 200 and "has no" in resp.text  # TradingView reads English
    payload = json.loads(tv.db.execute("select payload from alerts where kind = 'tradingview'"
                                       ).fetchone()[0])
    zh, en = payload["text"]["zh_Hans"], payload["text"]["en"]
    assert zh["title"].startswith("TradingView：卖出 ") and en["title"].startswith(
        "TradingView: SELL ")
    assert zh["body"][0] == "空" and "没有" in zh["body"][-1]
    assert zh["action"] == "请检查交易对：此信号转发时没有风险数据。"
    assert "has no" in payload["numbers"]["warnings"][0]  # Details and --json: English
