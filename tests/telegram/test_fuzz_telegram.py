"""Random input through the real application: every reply must be one Telegram accepts."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chat.commands.base import Reply
from chat.telegram.render import ButtonStore, render, send
from tests.telegram.conftest import registered_commands

NAMES = [c.name for c in registered_commands()]
GROUP = -100314
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])
# words a trader might type, and characters that break HTML or length counting
WORDS = st.sampled_from(["btc", "ETH", "long", "short", "0.5", "@60000", "10x", "5ct", "$5000",
                         "with", "1h", "all", "<b>", "&amp;", "</i>", "😀", "severity", "tz",
                         "Europe/Berlin", "cascade", "-1", "1e308", "nan", "@", "3", "x" * 70])
ARGS = st.lists(st.one_of(WORDS, st.text(min_size=1, max_size=40).filter(str.strip)),
                max_size=6).map(" ".join)


@SETTINGS
@given(name=st.sampled_from(NAMES), args=ARGS, where=st.sampled_from(["private", "group"]))
async def test_random_arguments_give_replies_telegram_accepts(bot, name, args, where) -> None:
    if not bot.chat_row(1):
        await bot.say("/start", chat=1)
        bot.tg.set_admins(GROUP, [1])
    chat = 1 if where == "private" else GROUP
    sent = await bot.say(f"/{name} {args}", chat=chat, user=1)
    assert sent, (name, args)
    assert bot.tg.rejected == [], bot.tg.rejected
    group_text = "\n".join(m.visible_text for m in bot.tg.sent_to(GROUP))
    assert "Logged #" not in group_text and "Realised" not in group_text


LINES = st.lists(st.text(max_size=600), min_size=1, max_size=20)
LABELS = st.text(min_size=1, max_size=80).filter(str.strip)
COMMAND_TEXT = st.text(min_size=1, max_size=120).filter(str.strip).map(lambda t: "/" + t)


@SETTINGS
@given(lines=LINES, buttons=st.lists(st.lists(st.tuples(LABELS, COMMAND_TEXT), min_size=1,
                                              max_size=3), max_size=3),
       caption=st.one_of(st.none(), st.text(max_size=2000)))
async def test_any_reply_renders_within_telegram_limits(bot, lines, buttons, caption) -> None:
    chart = (lambda: b"\x89PNG\r\n\x1a\n" + bytes(100)) if caption is not None else None
    reply = Reply(text=lines, buttons=buttons, chart=chart, caption=caption or None)
    rendered = await render(reply, ButtonStore())
    await send(bot.app.bot, 1, rendered)
    assert bot.tg.rejected == [], bot.tg.rejected[-1]
