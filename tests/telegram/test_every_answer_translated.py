"""Every command — its bare form, each documented example, a bad argument and its whole
answer ("full") — answered through the real PTB Application and the fake Bot API in a chat
reading Simplified Chinese: no English sentence left (commands, symbols, numbers and units
excepted), and Telegram accepts every message's HTML. Then the same in the pseudo-locale,
where any plain English word left is a string nobody marked for translation."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from i18n.languages import LANGUAGES, PSEUDO
from tests.fakes.telegram_objects import SentMessage
from tests.i18n.untranslated import english_runs, plain_words
from tests.telegram.conftest import Harness, registered_commands

ME = 4242
FIRST = ["/open btc long 0.5 @60000 10x", "/hedged 1 eth short 0.42", "/alert btc < 60000",
         "/tvroute new"]  # data the other answers can show
SKIP = {"/lang en", "/lang auto", "/lang zh"}  # they would leave the language under test


def command_lines() -> Iterator[str]:
    yield from FIRST
    for c in registered_commands():
        yield f"/{c.name}"
        yield from (e for e in c.examples if e not in SKIP)
        yield f"/{c.name} @@@ ???"
        if c.expandable:
            yield f"/{c.name} full"


def shown(message: SentMessage) -> list[str]:
    """What a reader sees of a message: its text or caption and its buttons' labels."""
    buttons = [b["text"] for row in (message.reply_markup or {}).get("inline_keyboard", [])
               for b in row]
    return [message.visible_text, *buttons]


async def leftovers(bot: Harness, find: Callable[[str], list[str]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in dict.fromkeys(command_lines()):
        for message in await bot.say(line, chat=ME):
            for text in shown(message):  # the user's own words (a trade's note) stay theirs
                if left := [w for w in find(text) if w not in line]:
                    found.setdefault(line, []).extend(left)
    return found


def report(found: dict[str, list[str]]) -> str:
    return "\n".join(f"{line}: {sorted(set(words))[:12]}" for line, words in found.items())


async def test_every_answer_reads_in_chinese(make_bot) -> None:
    async with make_bot(admins=[ME]) as bot:
        await bot.say("/lang zh", chat=ME)
        found = await leftovers(bot, english_runs)
        assert bot.tg.rejected == []  # every message's HTML was valid
    assert not found, "English left in Chinese answers:\n" + report(found)


async def test_every_user_visible_string_is_marked(make_bot, monkeypatch) -> None:
    monkeypatch.setitem(LANGUAGES, PSEUDO, "Ƥšèùđò")
    async with make_bot(admins=[ME]) as bot:
        await bot.say("/lang pseudo", chat=ME)
        found = await leftovers(bot, plain_words)
        assert bot.tg.rejected == []
    assert not found, "strings not marked for translation:\n" + report(found)


@pytest.fixture(autouse=True)
def _slow_answers_allowed(monkeypatch):
    """/backtest on the simulated market takes seconds: give each line time."""
    original = Harness.handled

    async def handled(self, update, timeout: float = 120.0):
        return await original(self, update, timeout)

    monkeypatch.setattr(Harness, "handled", handled)
