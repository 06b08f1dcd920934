"""The real PTB Application against the fake Bot API, with SQLite in tmp_path and the sim market.

``bot`` is a running harness (default config); ``make_bot(**telegram_overrides, extra=[...])``
builds one with other ``[telegram]`` settings or extra commands. ``await bot.say(text, ...)``
injects a message and returns the messages the bot sent while handling it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

from chat.commands.base import Command, Reply
from chat.context import Services
from chat.telegram import build_application, start_telegram, stop_telegram
from chat.telegram.handlers import FRONT, TelegramFront
from plugins.exchanges.sim_market import SimMarket
from plugins.manager import PluginManager
from settings import Config
from storage import open_database
from tests.fakes.telegram_server import FakeTelegram, FloodControl, SentMessage

FIXED_NOW = 1_772_323_200.0  # the sim clock, in seconds


def registered_commands() -> list[Command]:
    return PluginManager(entry_points=False).collect("hedgewatch_register_commands")


@pytest.fixture(scope="session")
def sim_market() -> SimMarket:
    """One simulated market for the session: generating the paths takes about a second."""
    return SimMarket(Config().exchange.model_copy(update={"name": "sim"}))


class Harness:
    """A running bot and the fake it talks to."""

    def __init__(self, tg: FakeTelegram, app: Application, db: Any) -> None:
        self.tg, self.app, self.db = tg, app, db
        self.front: TelegramFront = app.bot_data[FRONT]
        self.replies: list[Reply] = []
        self.front.observer = self.replies.append
        self._done: dict[int, asyncio.Event] = {}
        app.add_handler(TypeHandler(Update, self._mark_done), group=99)

    async def _mark_done(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        self._event(update.update_id).set()

    def _event(self, update_id: int) -> asyncio.Event:
        return self._done.setdefault(update_id, asyncio.Event())

    async def handled(self, update: dict[str, Any], timeout: float = 15.0) -> None:
        await asyncio.wait_for(self._event(update["update_id"]).wait(), timeout)

    async def _run(self, inject: Any) -> list[SentMessage]:
        before = len(self.tg.messages)
        await self.handled(inject())
        return self.tg.messages[before:]

    async def say(self, text: str, chat: int = 1, user: int | None = None,
                  chat_type: str | None = None, thread_id: int | None = None,
                  is_forum: bool = False) -> list[SentMessage]:
        """A user's message; the messages (sends and edits, any chat) the bot answered with."""
        kind = chat_type or ("private" if chat > 0 else
                             "supergroup" if str(chat).startswith("-100") else "group")
        uid = user if user is not None else (chat if chat > 0 else 1)
        return await self._run(lambda: self.tg.inject_message(chat, uid, text, kind, thread_id,
                                                              is_forum))

    async def press(self, chat: int, user: int, data: str | None = None,
                    message_id: int | None = None) -> list[SentMessage]:
        return await self._run(lambda: self.tg.inject_callback(chat, user, message_id, data))

    async def member(self, chat: int, status: str, chat_type: str | None = None,
                     user: int | None = None) -> list[SentMessage]:
        return await self._run(lambda: self.tg.inject_my_chat_member(
            chat, status, chat_type=chat_type, user_id=user))

    def chat_row(self, chat_id: int) -> dict[str, Any] | None:
        rows = list(self.db["chats"].rows_where("id = ?", [chat_id]))
        return rows[0] if rows else None


@contextlib.asynccontextmanager
async def running_bot(tmp_path: Path, sim_market: SimMarket, *,
                      extra: Sequence[Command] = (), flood: FloodControl | None = None,
                      webhook_secret: str | None = None, accounts: Any = None,
                      **telegram: Any) -> AsyncIterator[Harness]:
    """``accounts(db)`` makes the connected-accounts service (``plugins.accounts``)."""
    async with FakeTelegram(flood=flood or FloodControl(enabled=False)) as tg:
        telegram.setdefault("api_url", tg.base_url)
        config = Config().with_overrides(exchange={"name": "sim"}, telegram=telegram,
                                         storage={"path": str(tmp_path / "hw.db")})
        commands = [*registered_commands(), *extra]
        db = open_database(config.storage.path)
        services = Services(config, db, sim_market, commands={c.name: c for c in commands},
                            clock=lambda: FIXED_NOW,
                            accounts=accounts(db) if accounts is not None else None)
        app = build_application(config, tg.token, services, warm=True,
                                webhook_secret=webhook_secret)
        harness = Harness(tg, app, db)
        await start_telegram(app, poll_timeout=1)
        try:
            yield harness
        finally:
            await stop_telegram(app)
            db.conn.close()


@pytest.fixture
def make_bot(tmp_path: Path, sim_market: SimMarket):
    """``async with make_bot(admins=[9], extra=[MyCommand()]) as bot: ...``"""
    def make(**kwargs: Any) -> contextlib.AbstractAsyncContextManager[Harness]:
        return running_bot(tmp_path, sim_market, **kwargs)
    return make


@pytest.fixture
async def bot(make_bot) -> AsyncIterator[Harness]:
    async with make_bot() as harness:
        yield harness


# --- test-only commands (registered like a plugin's) -------------------------------------


class Echo(Command):
    """``/echo <chars> <lines>``: a long reply full of characters that need escaping."""

    name = "echo"
    summary = "test: a long reply"
    usage = "/echo <chars> <lines>"
    examples = ("/echo 10 2",)

    def parse(self, args: list[str]) -> tuple[int, int]:
        return int(args[0]), int(args[1])

    async def answer(self, request: tuple[int, int], ctx: Any) -> Reply:
        chars, lines = request
        line = ("<b>&amp; 😀 " * chars)[:chars]
        return Reply(text=[f"{n}: {line}" for n in range(lines)])


LOG_THIS = "/open btc long 0.5 @60000 10x"


class Suggest(Command):
    """A reply with buttons, as /hedge gives: (label, command text)."""

    name = "suggest"
    summary = "test: a reply with buttons"
    usage = "/suggest"
    examples = ("/suggest",)

    async def answer(self, request: None, ctx: Any) -> Reply:
        long_note = LOG_THIS + " " + "a-long-note-" * 8
        return Reply(text=["Hedge: short 0.3 ETH"], buttons=[
            [("Log this trade", LOG_THIS), ("Alert me on rebalance", "/subscribe rebalance")],
            [("Log with a note", long_note)]])


class Boom(Command):
    """A command whose chart fails to draw (the text must still arrive)."""

    name = "boom"
    summary = "test: a broken chart"
    usage = "/boom"
    examples = ("/boom",)

    async def answer(self, request: None, ctx: Any) -> Reply:
        def chart() -> bytes:
            raise RuntimeError("no chart today")
        return Reply(text=["the words survive"], chart=chart)
