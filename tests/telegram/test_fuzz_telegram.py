"""Hostile input through the real application: every registered command (a plugin's too),
every reply one Telegram accepts — the fake Bot API parses it with exactly Telegram's tag set
(``tests/fakes/telegram_validate.py``) — and never the apology for a crash."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chat.commands.base import Reply
from chat.telegram.handlers import SORRY
from chat.telegram.render import ButtonStore, render, send
from tests.fuzzing import ARGS, Parrot, fuzz_settings, plugin_manager

pytestmark = pytest.mark.fuzz
NAMES = sorted(c.name for c in plugin_manager().collect("hedgewatch_register_commands"))
GROUP = -100314


@pytest.fixture
async def fuzz_bot(make_bot):
    async with make_bot(extra=[Parrot()]) as harness:
        yield harness


@fuzz_settings(60)
@given(name=st.sampled_from(NAMES), args=ARGS, where=st.sampled_from(["private", "group"]))
async def test_random_arguments_give_replies_telegram_accepts(fuzz_bot, caplog, name, args,
                                                              where) -> None:
    bot = fuzz_bot
    if not bot.chat_row(1):
        await bot.say("/start", chat=1)
        bot.tg.set_admins(GROUP, [1])
    chat = 1 if where == "private" else GROUP
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        sent = await bot.say(" ".join([f"/{name}", *args]), chat=chat, user=1)
    assert sent, (name, args)
    assert bot.tg.rejected == [], bot.tg.rejected
    shown = "\n".join(m.visible_text for m in sent)
    assert SORRY not in shown and not caplog.records, (name, args, shown)
    assert bot.replies[-1].kind != "failure", (name, args, bot.replies[-1].text)
    group_text = "\n".join(m.visible_text for m in sent if m.chat_id == GROUP)
    assert "Logged #" not in group_text and "Realised" not in group_text  # never in a group


def test_the_plugin_command_is_among_the_fuzzed() -> None:
    assert "parrot" in NAMES and "hedge" in NAMES


LINES = st.lists(st.text(max_size=600), min_size=1, max_size=20)
LABELS = st.text(min_size=1, max_size=80).filter(str.strip)
COMMAND_TEXT = st.text(min_size=1, max_size=120).filter(str.strip).map(lambda t: "/" + t)


@fuzz_settings(60)
@given(lines=LINES, buttons=st.lists(st.lists(st.tuples(LABELS, COMMAND_TEXT), min_size=1,
                                              max_size=3), max_size=3),
       caption=st.one_of(st.none(), st.text(max_size=2000)))
async def test_any_reply_renders_within_telegram_limits(bot, lines, buttons, caption) -> None:
    chart = (lambda: b"\x89PNG\r\n\x1a\n" + bytes(100)) if caption is not None else None
    reply = Reply(text=lines, buttons=buttons, chart=chart, caption=caption or None)
    rendered = await render(reply, ButtonStore())
    await send(bot.app.bot, 1, rendered)
    assert bot.tg.rejected == [], bot.tg.rejected[-1]
