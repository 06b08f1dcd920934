""""More" under a long answer expands it in place (editMessageText) through the real PTB
Application and the fake Bot API: in a private chat, and in a group for any member."""

from __future__ import annotations

GROUP = -100990
ADMIN, MEMBER = 31, 32


def buttons(message) -> list[tuple[str, str]]:
    return [(b["text"], b["callback_data"]) for row in message.reply_markup["inline_keyboard"]
            for b in row]


async def test_more_replaces_the_first_screen_with_the_whole_answer(bot) -> None:
    (msg,) = await bot.say("/hedge btc 0.5 10x", chat=1)
    assert msg.visible_text.startswith("Hedge: short ")
    assert len(msg.visible_text.splitlines()) <= 10
    more = buttons(msg)[0]
    assert more == ("More", "m:hedge btc 0.5 10x full")
    sent = await bot.press(1, 1, more[1], message_id=msg.message_id)
    (edit,) = sent
    assert edit.method == "editMessageText" and edit.message_id == msg.message_id
    assert "Strategies:" in edit.visible_text and "Counterweights" in edit.visible_text
    assert ("More", more[1]) not in buttons(edit)  # expanded: the other buttons stay
    assert [label for label, _ in buttons(edit)] == ["Log this trade", "Alert me on rebalance"]
    assert bot.tg.rejected == []


async def test_anyone_in_a_group_may_expand(bot) -> None:
    bot.tg.set_admins(GROUP, [ADMIN], owner=ADMIN)
    (msg,) = await bot.say("/market", chat=GROUP, user=ADMIN)
    (label, data) = buttons(msg)[0]
    assert (label, data) == ("More", "m:market full")
    (edit,) = await bot.press(GROUP, MEMBER, data, message_id=msg.message_id)
    assert edit.method == "editMessageText" and edit.chat_id == GROUP
    assert "pts" in edit.visible_text  # every factor's points: the whole answer
    assert len(bot.tg.sent_to(GROUP)) == 1  # expanded in place, nothing new posted


async def test_a_full_line_needs_no_button(bot) -> None:
    (msg,) = await bot.say("/hedge btc 0.5 10x full", chat=1)
    assert "Strategies:" in msg.visible_text
    assert all(label != "More" for label, _ in buttons(msg))
