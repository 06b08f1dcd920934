"""Inline buttons: a reply's (label, command) buttons, and the alerts' "Mute 1h" / "Details"."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from chat.alert_render import render_alert
from chat.telegram.render import callback_keyboard
from plugins.alert_rules.base import Alert
from storage import chats, outbox
from storage.trades import list_trades
from tests.telegram.conftest import LOG_THIS, Suggest

GROUP = -100880
ADMIN, MEMBER, STRANGER = 21, 22, 23
NOW_MS = 1_772_323_200_000


def buttons(message) -> list[tuple[str, str]]:
    return [(b["text"], b["callback_data"]) for row in message.reply_markup["inline_keyboard"]
            for b in row]


async def test_reply_buttons_run_their_command_as_the_presser(make_bot) -> None:
    async with make_bot(extra=[Suggest()]) as bot:
        (msg,) = await bot.say("/suggest", chat=1)
        (log, alert), (longer,) = [buttons(msg)[:2], buttons(msg)[2:]]
        assert log == ("Log this trade", "c:" + LOG_THIS[1:])
        assert longer[1].startswith("k:") and all(len(d.encode()) <= 64 for _, d in
                                                  buttons(msg))
        (answer,) = await bot.press(1, 1, alert[1])
        assert chats.get_settings(bot.db, 1).subscriptions == ("rebalance",)
        (answer,) = await bot.press(1, 1, log[1], message_id=msg.message_id)
        assert answer.visible_text.startswith("Logged #1 BTC-USDT-SWAP long 0.5")
        await bot.press(1, 1, longer[1], message_id=msg.message_id)
        trades = list_trades(bot.db, 1)
        assert len(trades) == 2 and trades[0].note and "a-long-note-" in trades[0].note
        assert len(bot.tg.callback_answers) == 3 and bot.tg.rejected == []


async def test_buttons_in_a_group_answer_personal_things_privately(make_bot) -> None:
    async with make_bot(extra=[Suggest()]) as bot:
        await bot.say("/start", chat=MEMBER)
        await bot.say("/suggest", chat=GROUP, user=MEMBER)
        sent = await bot.press(GROUP, MEMBER, "c:" + LOG_THIS[1:])
        assert [m.chat_id for m in sent] == [MEMBER] and "Logged #1" in sent[0].visible_text
        assert bot.tg.callback_answers[-1]["text"] == "Answered in our private chat."
        assert await bot.press(GROUP, STRANGER, "c:" + LOG_THIS[1:]) == []
        answer = bot.tg.callback_answers[-1]
        assert answer["show_alert"] and "t.me/hedgewatch_test_bot" in answer["text"]
        assert list_trades(bot.db, STRANGER) == []
        assert len(bot.tg.sent_to(GROUP)) == 1  # only the /suggest answer


async def test_an_expired_button_says_so(bot) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("old", callback_data="k:0123abcd")]])
    await bot.app.bot.send_message(1, "an old message", reply_markup=markup)
    assert await bot.press(1, 1) == []
    assert "expired" in bot.tg.callback_answers[-1]["text"]


def market_alert(n: int = 1) -> Alert:
    return Alert(kind="cascade", dedup_key=f"cascade:high:{n}", severity="warning",
                 title="Cascade risk <high> & rising", body=("score 0.81",),
                 action="Cut leverage below 5x", time_ms=NOW_MS, data_age_ms=60_000,
                 cooldown_ms=0, payload={"score": 0.8123, "note": "<i>x</i>"}, simulated=True)


async def post_alert(bot, chat_id: int, alert: Alert) -> int:
    """Record the alert and post it as the alerts sender would; returns its id."""
    outbox.record_alerts(bot.db, [alert], now_ms=NOW_MS)
    (alert_id,) = [r["id"] for r in bot.db["alerts"].rows_where(
        "dedup_key = ?", [alert.dedup_key])]
    rendered = render_alert(outbox.load_alert(bot.db, alert_id))
    await bot.app.bot.send_message(chat_id, rendered.html, parse_mode="HTML",
                                   reply_markup=callback_keyboard([rendered.buttons]))
    return alert_id


async def test_alert_mute_and_details_in_a_private_chat(bot) -> None:
    await bot.say("/start", chat=1)
    alert_id = await post_alert(bot, 1, market_alert())
    (answer,) = await bot.press(1, 1, "mute:1h")
    assert "Muted for 1h" in answer.visible_text
    assert chats.get_settings(bot.db, 1).muted_until == NOW_MS + 3_600_000
    (details,) = await bot.press(1, 1, f"alert:{alert_id}")
    text = details.visible_text
    assert "Cascade risk <high> & rising" in text and "score: 0.8123" in text
    assert "note: <i>x</i>" in text and "SIMULATED" in text
    assert bot.tg.rejected == []


async def test_alert_buttons_in_a_group(bot) -> None:
    bot.tg.set_admins(GROUP, [ADMIN], owner=ADMIN)
    await bot.say("/start", chat=MEMBER)
    alert_id = await post_alert(bot, GROUP, market_alert())
    assert await bot.press(GROUP, MEMBER, "mute:1h") == []
    assert bot.tg.callback_answers[-1]["show_alert"]
    assert "admins" in bot.tg.callback_answers[-1]["text"]
    assert chats.get_settings(bot.db, GROUP).muted_until is None
    (answer,) = await bot.press(GROUP, ADMIN, "mute:1h")
    assert answer.chat_id == GROUP and chats.get_settings(bot.db, GROUP).muted_until
    sent = await bot.press(GROUP, MEMBER, f"alert:{alert_id}")
    assert [m.chat_id for m in sent] == [MEMBER]  # details privately, not into the group
    assert await bot.press(GROUP, STRANGER, f"alert:{alert_id}") == []
    assert "t.me/hedgewatch_test_bot" in bot.tg.callback_answers[-1]["text"]


async def test_details_of_someone_elses_trade_alert_are_refused(bot) -> None:
    trade_alert = Alert(kind="liquidation", dedup_key="liq:1:1", severity="critical",
                        title="Liquidation near", body=("BTC long 0.5 @60000",),
                        action="Add margin", time_ms=NOW_MS, data_age_ms=0, cooldown_ms=0,
                        trade_id=1, owner_chat_id=1)
    alert_id = await post_alert(bot, 1, trade_alert)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Details",
                                                         callback_data=f"alert:{alert_id}")]])
    await bot.app.bot.send_message(2, "forwarded", reply_markup=markup)
    assert await bot.press(2, 2) == []
    assert "someone else's" in bot.tg.callback_answers[-1]["text"]
    assert await bot.press(1, 1, f"alert:{alert_id}")  # the owner sees them
    gone = InlineKeyboardMarkup([[InlineKeyboardButton("Details", callback_data="alert:99999")]])
    await bot.app.bot.send_message(1, "an alert since pruned", reply_markup=gone)
    assert await bot.press(1, 1, "alert:99999") == []
    assert "no longer stored" in bot.tg.callback_answers[-1]["text"]


async def test_hedge_buttons_log_the_trade_and_subscribe(bot) -> None:
    (answer,) = [m for m in await bot.say("/hedge btc 0.5 10x", chat=1) if m.reply_markup]
    labels = [label for label, _ in buttons(answer)]
    assert labels == ["More", "Log this trade", "Alert me on rebalance"]
    log_data = buttons(answer)[1][1]
    assert log_data.startswith("c:open BTC-USDT-SWAP long 0.5 @")
    (logged,) = await bot.press(1, 1, log_data)
    assert logged.visible_text.startswith("Logged #1 BTC-USDT-SWAP long 0.5")
    await bot.press(1, 1, "c:subscribe rebalance", message_id=answer.message_id)
    assert chats.get_settings(bot.db, 1).subscriptions == ("rebalance",)
    assert bot.tg.rejected == []


async def test_i_put_this_on_logs_the_legs_once(bot) -> None:
    """/open → "Hedge it" (/hedge 1) → "I put this on": the strategy's legs are logged under
    the trade; pressing the button again logs nothing more."""
    (logged,) = await bot.say("/open btc long 0.5 @60000 10x", chat=1)
    assert [label for label, _ in buttons(logged)] == ["Hedge it", "Risk"]
    replies = await bot.press(1, 1, buttons(logged)[0][1], message_id=logged.message_id)
    (hedge,) = [m for m in replies if m.reply_markup]
    assert "Held: no hedge logged" in hedge.visible_text
    more, put_on = buttons(hedge)
    assert more == ("More", "m:hedge 1 full")
    assert put_on[0].startswith("I put this on (") and put_on[1].startswith("c:hedged 1 ")
    (first,) = await bot.press(1, 1, put_on[1], message_id=hedge.message_id)
    assert first.visible_text.startswith("Logged the hedge of #1: #2 ")
    (second,) = await bot.press(1, 1, put_on[1], message_id=hedge.message_id)
    assert second.visible_text.startswith("Already logged: #1 holds #2 ")
    legs = list(bot.db["trades"].rows_where("parent_id = 1"))
    assert len(legs) == 1 and legs[0]["closed_at"] is None
    (positions,) = await bot.say("/positions", chat=1)
    lines = positions.visible_text.splitlines()
    assert lines[0].startswith("#1 BTC-USDT-SWAP long") and lines[1].strip().startswith("└ #2 ")
