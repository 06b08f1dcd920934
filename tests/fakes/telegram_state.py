"""What the fake Telegram server remembers, and the chat look-ups its two halves share.

``FakeTelegramState`` holds the chats, stored messages, queued updates, scripted faults and the
records a test reads. ``BotApiMethods`` (``telegram_methods.py``) answers the bot from it,
``FakeTelegramControls`` (``telegram_controls.py``) lets the test change and read it, and
``FakeTelegram`` (``telegram_server.py``) serves both over HTTP.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.fakes.loopback import LoopThread
from tests.fakes.telegram_flood import FloodControl
from tests.fakes.telegram_objects import FakeChat, Rejected, SentMessage, user_json
from tests.fakes.telegram_validate import ApiError, bad_request

DEFAULT_TOKEN = "123456789:AAFakeTokenForTestsOnly_hedgewatch00"


class FakeTelegramState:
    """The fake's state. Guard it with ``_lock``: helpers may run on any thread."""

    def __init__(self, token: str = DEFAULT_TOKEN, *, bot_username: str = "hedgewatch_test_bot",
                 flood: FloodControl | None = None, log_path: str | Path | None = None,
                 host: str = "127.0.0.1", port: int = 0,
                 clock: Callable[[], float] | None = None) -> None:
        self.token = token
        # flood limits and flooded chats run on this clock (a test's simulated one if given)
        self.clock = clock or time.monotonic
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.flood = flood or FloodControl()
        self.log_path = Path(log_path) if log_path else None
        self.host, self.port = host, port
        self.messages: list[SentMessage] = []  # every delivered send and edit, in order
        self.rejected: list[Rejected] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []  # (method, params) of every call
        self.counters: dict[int, Counter] = {}  # chat_id -> {"delivered", "rejected", "429"...}
        self.callback_answers: list[dict[str, Any]] = []
        self.deleted: list[tuple[int, int]] = []  # (chat, message id) of deleteMessage calls
        self.pinned: dict[int, int] = {}  # chat -> pinned message id (pinChatMessage)
        self.webhook: dict[str, Any] | None = None
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.user_languages: dict[int, str] = {}  # user id -> its app's language_code
        self.allowed_updates: list[str] | None = None
        self._lock = threading.RLock()
        self._chats: dict[int, FakeChat] = {}
        self._stored: dict[tuple[int, int], dict[str, Any]] = {}  # (chat, message_id) -> msg
        self._msg_ids: dict[int, itertools.count] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._open_queries: set[str] = set()
        self._query_ids = itertools.count(1)
        self._faults: dict[str, list[dict[str, Any]]] = {}
        # lasting conditions (set_outage, set_latency, flood_chat) and what they caused
        self._outage: dict[str, Any] | None = None
        self._latency: tuple[float, frozenset[str]] | None = None
        self._flooded: dict[int, tuple[float, bool]] = {}  # chat -> (429 until, told yet)
        self.early_retries: Counter = Counter()  # chat -> sends after a 429, too early
        self.in_flight = 0  # calls being handled (latency can keep them after the client left);
        # long polls (getUpdates) are not counted
        self._poll_generation = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed: asyncio.Event | None = None
        self._closing: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self._thread: LoopThread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _wake(self) -> None:
        """Wake long polls; callable from any thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return

        def swap() -> None:
            ev, self._changed = self._changed, asyncio.Event()
            if ev is not None:
                ev.set()

        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            swap()
        else:
            loop.call_soon_threadsafe(swap)

    def chat(self, chat_id: int, chat_type: str | None = None, *, is_forum: bool = False,
             title: str | None = None, username: str | None = None) -> FakeChat:
        """Get or create a chat (type guessed from the id's sign when not given)."""
        with self._lock:
            chat = self._chats.get(chat_id)
            if chat is None:
                guessed = "private" if chat_id > 0 else (
                    "supergroup" if str(chat_id).startswith("-100") else "group")
                chat = FakeChat(chat_id, chat_type or guessed)
                self._chats[chat_id] = chat
            elif chat_type:
                chat.type = chat_type
            chat.is_forum = chat.is_forum or is_forum
            chat.title = title or chat.title
            chat.username = username or chat.username
            return chat

    def _bot_user(self) -> dict[str, Any]:
        return {**user_json(self.bot_id, is_bot=True, username=self.bot_username),
                "first_name": "Hedgewatch Test"}

    def _next_msg_id(self, chat_id: int) -> int:
        return next(self._msg_ids.setdefault(chat_id, itertools.count(1)))

    def _resolve(self, params: dict[str, Any]) -> FakeChat:
        raw = params.get("chat_id")
        if isinstance(raw, str) and raw.startswith("@"):
            found = next((c for c in self._chats.values() if c.username == raw[1:]), None)
            if found is None:
                raise bad_request("chat not found")
            return found
        if not isinstance(raw, int):
            raise bad_request("chat not found")
        return self.chat(raw)

    def _writable(self, params: dict[str, Any]) -> FakeChat:
        chat = self._resolve(params)
        if chat.migrated_to is not None:
            raise bad_request("group chat was upgraded to a supergroup chat",
                              {"migrate_to_chat_id": chat.migrated_to})
        if chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user" if chat.type == "private"
                           else f"Forbidden: bot was kicked from the {chat.type} chat")
        return chat
