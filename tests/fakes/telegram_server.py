"""A fake Telegram Bot API server: real HTTP on 127.0.0.1 for python-telegram-bot to talk to.

Point PTB at it with ``Application.builder().token(tg.token).base_url(tg.base_url)
.base_file_url(tg.base_file_url)``. It answers ``/bot<TOKEN>/<method>`` with real Bot API shapes,
validates like Telegram (``telegram_validate.py``), enforces flood limits, and lets a test inject
updates and faults. Three ways to run it:

* in the test's loop: ``async with FakeTelegram() as tg`` (or the ``fake_telegram`` fixture);
* in a background thread: ``tg = FakeTelegram().start_in_thread()`` ... ``tg.stop_thread()``;
* in another process: ``python -m tests.fakes.telegram_server --port 0 --log log.json
  --ready-file port.txt``; drive it with ``control(url, "inject_message", chat_id=1, ...)``
  (``POST /_fake/<helper>``) and read ``GET /_fake/log`` or the JSON log file.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import os
import signal
import threading
import time
import urllib.request
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.fakes.telegram_validate import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    ApiError,
    bad_request,
    check_commands,
    check_reply_markup,
    parse_text,
)

DEFAULT_TOKEN = "123456789:AAFakeTokenForTestsOnly_hedgewatch00"
SEND_METHODS = ("sendmessage", "sendphoto")
_INT_FIELDS = {"chat_id", "message_id", "user_id", "offset", "limit", "message_thread_id",
               "reply_to_message_id", "cache_time", "max_connections"}
_FLOAT_FIELDS = {"timeout"}
_BOOL_FIELDS = {"show_alert", "drop_pending_updates", "disable_notification", "protect_content",
                "disable_web_page_preview", "has_spoiler", "allow_paid_broadcast"}
_JSON_FIELDS = {"reply_markup", "allowed_updates", "commands", "scope", "entities",
                "caption_entities", "link_preview_options", "reply_parameters"}
_DEFAULT_UPDATES = {"message", "edited_message", "channel_post", "edited_channel_post",
                    "callback_query", "my_chat_member", "inline_query", "chosen_inline_result"}
_ADMIN_RIGHTS = ("can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages",
                 "can_manage_video_chats", "can_restrict_members", "can_promote_members",
                 "can_change_info", "can_invite_users", "can_post_stories", "can_edit_stories",
                 "can_delete_stories")


@dataclass
class SentMessage:
    """One outgoing message as the fake stored it (sends and edits)."""

    method: str
    chat_id: int
    message_id: int
    thread_id: int | None
    text: str | None  # the raw text or caption as sent (HTML source)
    parse_mode: str | None
    reply_markup: dict | None
    photo: bool
    caption: str | None
    visible_text: str  # what Telegram shows: tags stripped, entities decoded
    time: float


@dataclass
class Rejected:
    """A request the fake refused, with the HTTP status and Telegram's description."""

    method: str
    chat_id: Any
    status: int
    description: str
    retry_after: int | None
    time: float


@dataclass
class FloodControl:
    """Telegram's flood limits. Shrink the windows to make tests fast.

    Overall ``global_limit`` per ``global_window`` s; per group/channel (negative id)
    ``group_limit`` per ``group_window`` s; per private chat a token bucket of ``private_rate``/s
    holding up to ``private_burst``. An excess answers 429 with ``retry_after`` in whole seconds.
    """

    enabled: bool = True
    global_limit: int = 30
    global_window: float = 1.0
    group_limit: int = 20
    group_window: float = 60.0
    private_rate: float = 1.0
    private_burst: int = 3
    _global: deque = field(default_factory=deque, repr=False)
    _groups: dict = field(default_factory=dict, repr=False)
    _private: dict = field(default_factory=dict, repr=False)

    def wait_needed(self, chat_id: int, now: float) -> float:
        """Seconds until ``chat_id`` may receive another message (0 when it may now)."""
        if not self.enabled:
            return 0.0
        waits = [_window_wait(self._global, self.global_limit, self.global_window, now)]
        if chat_id < 0:
            hist = self._groups.setdefault(chat_id, deque())
            waits.append(_window_wait(hist, self.group_limit, self.group_window, now))
        else:
            tokens, last = self._private.get(chat_id, (float(self.private_burst), now))
            tokens = min(float(self.private_burst), tokens + (now - last) * self.private_rate)
            self._private[chat_id] = (tokens, now)
            if tokens < 1.0:
                waits.append((1.0 - tokens) / self.private_rate)
        return max(waits)

    def record(self, chat_id: int, now: float) -> None:
        if not self.enabled:
            return
        self._global.append(now)
        if chat_id < 0:
            self._groups.setdefault(chat_id, deque()).append(now)
        else:
            tokens, _ = self._private.get(chat_id, (float(self.private_burst), now))
            self._private[chat_id] = (tokens - 1.0, now)

    def reset(self) -> None:
        self._global.clear()
        self._groups.clear()
        self._private.clear()


def _window_wait(hist: deque, limit: int, window: float, now: float) -> float:
    while hist and hist[0] <= now - window:
        hist.popleft()
    return hist[0] + window - now if len(hist) >= limit else 0.0


@dataclass
class _Chat:
    id: int
    type: str
    title: str | None = None
    username: str | None = None
    is_forum: bool = False
    blocked: bool = False  # private: user blocked the bot; group: bot kicked/left
    migrated_to: int | None = None
    admins: list[int] = field(default_factory=list)
    owner: int | None = None

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private":
            out["first_name"] = self.title or f"User{self.id}"
        else:
            out["title"] = self.title or f"Chat {self.id}"
        if self.username:
            out["username"] = self.username
        if self.is_forum:
            out["is_forum"] = True
        return out


def _user(user_id: int, *, is_bot: bool = False, username: str | None = None) -> dict[str, Any]:
    return {"id": user_id, "is_bot": is_bot, "first_name": f"User{user_id}",
            "username": username or f"user{user_id}", "language_code": "en"}


def _command_entities(text: str) -> list[dict[str, Any]]:
    if not text.startswith("/"):
        return []
    word = text.split(maxsplit=1)[0]
    return [{"type": "bot_command", "offset": 0, "length": len(word.encode("utf-16-le")) // 2}]


class FakeTelegram:
    """The fake Bot API. Helpers are thread-safe; answers come from the server's event loop."""

    def __init__(self, token: str = DEFAULT_TOKEN, *, bot_username: str = "hedgewatch_test_bot",
                 flood: FloodControl | None = None, log_path: str | Path | None = None,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        self.token = token
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
        self.webhook: dict[str, Any] | None = None
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.allowed_updates: list[str] | None = None
        self._lock = threading.RLock()
        self._chats: dict[int, _Chat] = {}
        self._stored: dict[tuple[int, int], dict[str, Any]] = {}  # (chat, message_id) -> msg
        self._msg_ids: dict[int, itertools.count] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._open_queries: set[str] = set()
        self._query_ids = itertools.count(1)
        self._faults: dict[str, list[dict[str, Any]]] = {}
        self._poll_generation = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed: asyncio.Event | None = None
        self._closing: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._handlers: dict[str, Callable[[dict[str, Any]], Any]] = {
            name[4:].replace("_", "").lower(): getattr(self, name)
            for name in dir(self) if name.startswith("_on_")
        }

    # ---------------------------------------------------------------- lifecycle
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    async def start(self) -> FakeTelegram:
        self._loop = asyncio.get_running_loop()
        self._changed, self._closing = asyncio.Event(), asyncio.Event()
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        app.router.add_get("/_fake/log", self._control_log)
        app.router.add_post("/_fake/{helper}", self._control)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._closing is not None:
            self._closing.set()
            self._wake()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.write_log()

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def start_in_thread(self, timeout: float = 5.0) -> FakeTelegram:
        """Serve from a daemon thread with its own loop; returns once the port is bound."""
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            loop.run_until_complete(self.start())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.stop())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-telegram", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise RuntimeError("fake Telegram server did not start")
        return self

    def stop_thread(self) -> None:
        if self._thread and self._loop:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._thread = None

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

    # ---------------------------------------------------------------- test helpers
    def chat(self, chat_id: int, chat_type: str | None = None, *, is_forum: bool = False,
             title: str | None = None, username: str | None = None) -> _Chat:
        """Get or create a chat (type guessed from the id's sign when not given)."""
        with self._lock:
            chat = self._chats.get(chat_id)
            if chat is None:
                guessed = "private" if chat_id > 0 else (
                    "supergroup" if str(chat_id).startswith("-100") else "group")
                chat = _Chat(chat_id, chat_type or guessed)
                self._chats[chat_id] = chat
            elif chat_type:
                chat.type = chat_type
            chat.is_forum = chat.is_forum or is_forum
            chat.title = title or chat.title
            chat.username = username or chat.username
            return chat

    def _enqueue(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            update = {"update_id": next(self._update_ids), kind: payload}
            self._updates.append(update)
        self._wake()
        return update

    def inject_message(self, chat_id: int, user_id: int, text: str, chat_type: str = "private",
                       thread_id: int | None = None, is_forum: bool = False,
                       **extra: Any) -> dict[str, Any]:
        """Queue a user's message (a channel post for channels); commands get their entity."""
        chat = self.chat(chat_id, chat_type, is_forum=is_forum)
        with self._lock:
            msg: dict[str, Any] = {"message_id": self._next_msg_id(chat_id),
                                   "date": int(time.time()), "chat": chat.json(), "text": text}
            if chat.type == "channel":
                msg["sender_chat"] = chat.json()
            else:
                msg["from"] = _user(user_id)
            if entities := _command_entities(text):
                msg["entities"] = entities
            if thread_id is not None and chat.is_forum:
                msg["message_thread_id"] = thread_id
                msg["is_topic_message"] = True
            msg.update(extra)
            self._stored[(chat_id, msg["message_id"])] = msg
        return self._enqueue("channel_post" if chat.type == "channel" else "message", msg)

    def inject_callback(self, chat_id: int, user_id: int, message_id: int | None = None,
                        data: str | None = None) -> dict[str, Any]:
        """Queue a button press on a message the bot sent (its last keyboard by default)."""
        with self._lock:
            if message_id is None:
                message_id = next(
                    (m.message_id for m in reversed(self.messages) if m.chat_id == chat_id
                     and m.reply_markup and "inline_keyboard" in m.reply_markup), None)
            msg = self._stored.get((chat_id, message_id))  # type: ignore[arg-type]
            if msg is None:
                raise KeyError(f"no bot message {message_id} in chat {chat_id}")
            buttons = [b.get("callback_data") for row in
                       msg.get("reply_markup", {}).get("inline_keyboard", []) for b in row]
            if data is None:
                data = next((b for b in buttons if b), None)
            if data not in buttons:
                raise ValueError(f"callback_data {data!r} is not on message {message_id}")
            query_id = str(next(self._query_ids))
            self._open_queries.add(query_id)
            query = {"id": query_id, "from": _user(user_id), "message": msg,
                     "chat_instance": str(abs(chat_id)), "data": data}
        return self._enqueue("callback_query", query)

    def inject_my_chat_member(self, chat_id: int, new_status: str, *, user_id: int | None = None,
                              old_status: str | None = None,
                              chat_type: str | None = None) -> dict[str, Any]:
        """Queue the bot's own membership change: added ("member"/"administrator"), removed
        ("left"/"kicked"; in a private chat "kicked" means blocked). Applies it to the chat."""
        chat = self.chat(chat_id, chat_type)
        with self._lock:
            chat.blocked = new_status in ("left", "kicked")
            if old_status is None:
                old_status = "left" if new_status in ("member", "administrator") else "member"
            bot = self._bot_user()
            payload = {"chat": chat.json(), "from": _user(user_id or abs(chat_id)),
                       "date": int(time.time()), "old_chat_member": _member(bot, old_status),
                       "new_chat_member": _member(bot, new_status)}
        return self._enqueue("my_chat_member", payload)

    def set_admins(self, chat_id: int, user_ids: list[int], owner: int | None = None) -> None:
        with self._lock:
            chat = self.chat(chat_id)
            chat.admins, chat.owner = list(user_ids), owner

    def block(self, chat_id: int) -> None:
        """The user blocked the bot (private) or the bot was kicked (group): sends get 403."""
        self.chat(chat_id).blocked = True

    def unblock(self, chat_id: int) -> None:
        self.chat(chat_id).blocked = False

    def migrate(self, chat_id: int, new_id: int, notify: bool = False) -> None:
        """The group became supergroup ``new_id``; sends to the old id get 400 with
        ``migrate_to_chat_id``. ``notify`` also queues the service messages Telegram sends."""
        old = self.chat(chat_id, "group")
        old.migrated_to = new_id
        new = self.chat(new_id, "supergroup", title=old.title)
        new.admins, new.owner = list(old.admins), old.owner
        if notify:
            self.inject_message(chat_id, 1, "", "group", migrate_to_chat_id=new_id)
            self.inject_message(new_id, 1, "", "supergroup", migrate_from_chat_id=chat_id)

    def fail_next(self, method: str, times: int = 1, *, kind: str = "error", status: int = 502,
                  description: str = "Bad Gateway", parameters: dict | None = None,
                  delay: float = 30.0) -> None:
        """Make the next ``times`` calls of ``method`` ("*" for any) fail. ``kind``: "error"
        (answer ``status``/``description``), "timeout" (handle the call normally but only after
        ``delay`` s, so a message may be delivered although the client gave up) or "drop" (close
        the connection without an answer or any effect)."""
        fault = {"kind": kind, "status": status, "description": description,
                 "parameters": parameters, "delay": delay}
        with self._lock:
            self._faults.setdefault(method.lower(), []).extend([fault] * times)

    def set_flood(self, **limits: Any) -> None:
        """Change flood limits (FloodControl fields) and forget past traffic."""
        with self._lock:
            for key, value in limits.items():
                setattr(self.flood, key, value)
            self.flood.reset()

    @property
    def sent(self) -> list[SentMessage]:
        """Delivered sendMessage/sendPhoto calls (no edits)."""
        with self._lock:
            return [m for m in self.messages if m.method.lower() in SEND_METHODS]

    def sent_to(self, chat_id: int) -> list[SentMessage]:
        return [m for m in self.sent if m.chat_id == chat_id]

    async def wait_for_messages(self, n: int, timeout: float = 5.0,
                                chat_id: int | None = None) -> list[SentMessage]:
        """Wait until ``n`` messages were delivered (to ``chat_id``); works from any loop."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.sent if chat_id is None else self.sent_to(chat_id)
            if len(got) >= n:
                return got
            if time.monotonic() > deadline:
                raise TimeoutError(f"expected {n} messages, got {len(got)}: {got}")
            await asyncio.sleep(0.01)

    def pending_updates(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._updates)

    def snapshot(self) -> dict[str, Any]:
        """Everything a test may want to read, as JSON-ready data (also the log file)."""
        with self._lock:
            return {
                "url": self.url, "token": self.token,
                "messages": [asdict(m) for m in self.messages],
                "rejected": [asdict(r) for r in self.rejected],
                "calls": [m for m, _ in self.calls],
                "counters": {str(k): dict(v) for k, v in self.counters.items()},
                "callback_answers": list(self.callback_answers),
                "webhook": self.webhook,
                "commands": [{"scope": s, "language_code": lc, "commands": c}
                             for (s, lc), c in self.commands.items()],
                "pending_updates": len(self._updates),
            }

    def write_log(self) -> None:
        if self.log_path is None:
            return
        tmp = self.log_path.with_suffix(self.log_path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.snapshot(), indent=1, default=str))
        os.replace(tmp, self.log_path)

    # ---------------------------------------------------------------- HTTP plumbing
    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401,
                                      "description": "Unauthorized"}, status=401)
        method = request.match_info["method"].lower()
        params = await _read_params(request)
        with self._lock:
            self.calls.append((request.match_info["method"], params))
            queue = self._faults.get(method) or self._faults.get("*")
            fault = queue.pop(0) if queue else None
        try:
            if fault is not None:
                await self._apply_fault(request, fault)
            handler = self._handlers.get(method)
            if handler is None:
                raise ApiError(404, "Not Found")
            result = handler(params)
            if asyncio.iscoroutine(result):
                result = await result
        except ApiError as err:
            self._reject(request.match_info["method"], params.get("chat_id"), err)
            return web.json_response(err.body(), status=err.status)
        self.write_log()
        return web.json_response({"ok": True, "result": result})

    async def _apply_fault(self, request: web.Request, fault: dict[str, Any]) -> None:
        if fault["kind"] == "timeout":
            assert self._closing is not None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), fault["delay"])
        elif fault["kind"] == "drop":
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError  # aiohttp drops the connection without an answer
        if fault["kind"] == "error":
            raise ApiError(fault["status"], fault["description"], fault["parameters"])

    def _reject(self, method: str, chat_id: Any, err: ApiError) -> None:
        retry = (err.parameters or {}).get("retry_after")
        with self._lock:
            self.rejected.append(Rejected(method, chat_id, err.status, err.description, retry,
                                          time.time()))
            if isinstance(chat_id, int):
                counter = self.counters.setdefault(chat_id, Counter())
                counter["rejected"] += 1
                counter[str(err.status)] += 1
        self.write_log()

    async def _control(self, request: web.Request) -> web.Response:
        helper = request.match_info["helper"]
        allowed = {"inject_message", "inject_callback", "inject_my_chat_member", "set_admins",
                   "block", "unblock", "migrate", "fail_next", "set_flood"}
        if helper not in allowed:
            return web.json_response({"ok": False, "description": f"no helper {helper}"}, 404)
        kwargs = await request.json() if request.can_read_body else {}
        try:
            result = getattr(self, helper)(**kwargs)
        except (KeyError, ValueError, TypeError) as exc:
            return web.json_response({"ok": False, "description": str(exc)}, status=400)
        return web.json_response({"ok": True, "result": result}, dumps=_dumps)

    async def _control_log(self, request: web.Request) -> web.Response:
        return web.json_response(self.snapshot(), dumps=_dumps)

    # ---------------------------------------------------------------- chats and messages
    def _bot_user(self) -> dict[str, Any]:
        return {**_user(self.bot_id, is_bot=True, username=self.bot_username),
                "first_name": "Hedgewatch Test"}

    def _next_msg_id(self, chat_id: int) -> int:
        return next(self._msg_ids.setdefault(chat_id, itertools.count(1)))

    def _resolve(self, params: dict[str, Any]) -> _Chat:
        raw = params.get("chat_id")
        if isinstance(raw, str) and raw.startswith("@"):
            found = next((c for c in self._chats.values() if c.username == raw[1:]), None)
            if found is None:
                raise bad_request("chat not found")
            return found
        if not isinstance(raw, int):
            raise bad_request("chat not found")
        return self.chat(raw)

    def _writable(self, params: dict[str, Any]) -> _Chat:
        chat = self._resolve(params)
        if chat.migrated_to is not None:
            raise bad_request("group chat was upgraded to a supergroup chat",
                              {"migrate_to_chat_id": chat.migrated_to})
        if chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user" if chat.type == "private"
                           else f"Forbidden: bot was kicked from the {chat.type} chat")
        return chat

    def _send(self, method: str, params: dict[str, Any], *, photo: bool) -> dict[str, Any]:
        with self._lock:
            chat = self._writable(params)
            key, limit = ("caption", CAPTION_LIMIT) if photo else ("text", TEXT_LIMIT)
            parsed = parse_text(params.get(key), params.get("parse_mode"), limit=limit,
                                caption=photo)
            markup = params.get("reply_markup")
            check_reply_markup(markup)
            if photo and not params.get("photo"):
                raise bad_request("there is no photo in the request")
            now = time.monotonic()
            wait = self.flood.wait_needed(chat.id, now)
            if wait > 0:
                retry = max(1, math.ceil(wait))
                raise ApiError(429, f"Too Many Requests: retry after {retry}",
                               {"retry_after": retry})
            self.flood.record(chat.id, now)
            msg: dict[str, Any] = {"message_id": self._next_msg_id(chat.id),
                                   "date": int(time.time()), "chat": chat.json()}
            if chat.type == "channel":
                msg["sender_chat"] = chat.json()
            else:
                msg["from"] = self._bot_user()
            thread_id = params.get("message_thread_id") if chat.is_forum else None
            if thread_id is not None:
                msg["message_thread_id"], msg["is_topic_message"] = thread_id, True
            if photo:
                msg["photo"] = _photo_sizes(params["photo"], msg["message_id"])
                if parsed.text:
                    msg["caption"] = parsed.text
                if parsed.entities:
                    msg["caption_entities"] = parsed.entities
            else:
                msg["text"] = parsed.text
                if parsed.entities:
                    msg["entities"] = parsed.entities
            if isinstance(markup, dict) and "inline_keyboard" in markup:
                msg["reply_markup"] = markup
            self._stored[(chat.id, msg["message_id"])] = msg
            self.messages.append(SentMessage(
                method, chat.id, msg["message_id"], thread_id,
                None if photo else params.get("text"), params.get("parse_mode"),
                markup, photo, params.get("caption"), parsed.text, time.time()))
            self.counters.setdefault(chat.id, Counter())["delivered"] += 1
            return msg

    def _edit(self, params: dict[str, Any], *, text: bool) -> dict[str, Any] | bool:
        if params.get("inline_message_id"):
            return True
        with self._lock:
            chat = self._writable(params)
            msg = self._stored.get((chat.id, params.get("message_id")))  # type: ignore[arg-type]
            if msg is None or ("from" in msg and msg["from"]["id"] != self.bot_id):
                raise bad_request("message to edit not found")
            markup = params.get("reply_markup")
            check_reply_markup(markup)
            new = dict(msg)
            new["reply_markup"] = markup if isinstance(markup, dict) else None
            parsed = None
            if text:
                if "text" not in msg:
                    raise bad_request("there is no text in the message to edit")
                parsed = parse_text(params.get("text"), params.get("parse_mode"),
                                    limit=TEXT_LIMIT)
                new["text"], new["entities"] = parsed.text, parsed.entities
            if all(new.get(k) == msg.get(k) for k in ("text", "entities", "reply_markup")):
                raise bad_request("message is not modified: specified new message content and "
                                  "reply markup are exactly the same as a current content and "
                                  "reply markup of the message")
            new = {k: v for k, v in new.items() if v}
            new["edit_date"] = int(time.time())
            self._stored[(chat.id, msg["message_id"])] = new
            self.messages.append(SentMessage(
                "editMessageText" if text else "editMessageReplyMarkup", chat.id,
                msg["message_id"], msg.get("message_thread_id"), params.get("text"),
                params.get("parse_mode"), markup, "photo" in msg, None,
                parsed.text if parsed else msg.get("text", ""), time.time()))
            return new

    # ---------------------------------------------------------------- Bot API methods
    def _on_get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**self._bot_user(), "can_join_groups": True,
                "can_read_all_group_messages": False, "supports_inline_queries": False}

    async def _on_get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = float(params.get("timeout") or 0)
        if isinstance(params.get("allowed_updates"), list):
            self.allowed_updates = params["allowed_updates"] or None
        self._poll_generation += 1
        generation = self._poll_generation
        deadline = time.monotonic() + timeout
        while True:
            assert self._changed is not None and self._closing is not None
            changed = self._changed
            if generation != self._poll_generation:
                raise ApiError(409, "Conflict: terminated by other getUpdates request; make sure "
                                    "that only one bot instance is running")
            ready = self._take_updates(offset, limit)
            left = deadline - time.monotonic()
            if ready or left <= 0 or self._closing.is_set():
                return ready
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), left)

    def _take_updates(self, offset: int, limit: int) -> list[dict[str, Any]]:
        wanted = set(self.allowed_updates or _DEFAULT_UPDATES)
        with self._lock:
            self._updates = [u for u in self._updates if wanted.intersection(u)]
            if offset < 0:
                self._updates = self._updates[offset:]
            elif offset > 0:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            return self._updates[:limit]

    def _on_delete_webhook(self, params: dict[str, Any]) -> bool:
        with self._lock:
            self.webhook = None
            if params.get("drop_pending_updates"):
                self._updates.clear()
        return True

    def _on_set_webhook(self, params: dict[str, Any]) -> bool:
        url = str(params.get("url") or "")
        if not url:
            return self._on_delete_webhook(params)
        if not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not (1 <= len(secret) <= 256 and
                                       all(c.isalnum() or c in "_-" for c in secret)):
            raise bad_request("secret token contains unallowed characters")
        with self._lock:
            self.webhook = {k: v for k, v in params.items() if k != "certificate"}
            if params.get("drop_pending_updates"):
                self._updates.clear()
        return True

    def _on_get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"url": (self.webhook or {}).get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self._updates)}

    def _on_send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._send("sendMessage", params, photo=False)

    def _on_send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._send("sendPhoto", params, photo=True)

    def _on_edit_message_text(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        return self._edit(params, text=True)

    def _on_edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        return self._edit(params, text=False)

    def _on_answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id"))
        with self._lock:
            if query_id not in self._open_queries:
                raise bad_request("query is too old and response timeout expired or query ID "
                                  "is invalid")
            self._open_queries.discard(query_id)
            self.callback_answers.append({"id": query_id, "text": params.get("text"),
                                          "show_alert": bool(params.get("show_alert"))})
        return True

    def _on_get_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._resolve(params)
        gifts = dict.fromkeys(("unlimited_gifts", "limited_gifts", "unique_gifts",
                               "premium_subscription", "gifts_from_channels"), False)
        return {**chat.json(), "accent_color_id": 0, "max_reaction_count": 11,
                "accepted_gift_types": gifts}

    def _on_get_chat_administrators(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        chat = self._resolve(params)
        if chat.type == "private":
            raise bad_request("there are no administrators in the private chat")
        owner = [_member(_user(chat.owner), "creator")] if chat.owner else []
        return owner + [_member(_user(uid), "administrator") for uid in chat.admins
                        if uid != chat.owner]

    def _on_get_chat_member(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._resolve(params)
        uid = int(params.get("user_id") or 0)
        if uid == self.bot_id:
            status = "kicked" if chat.blocked else (
                "administrator" if uid in chat.admins else "member")
            return _member(self._bot_user(), status)
        status = ("creator" if uid == chat.owner else
                  "administrator" if uid in chat.admins else "member")
        return _member(_user(uid), status)

    @staticmethod
    def _scope_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    def _on_set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = check_commands(params.get("commands"))
        with self._lock:
            self.commands[self._scope_key(params)] = commands
        return True

    def _on_delete_my_commands(self, params: dict[str, Any]) -> bool:
        with self._lock:
            self.commands.pop(self._scope_key(params), None)
        return True

    def _on_get_my_commands(self, params: dict[str, Any]) -> list[dict[str, str]]:
        return self.commands.get(self._scope_key(params), [])

    def _on_close(self, params: dict[str, Any]) -> bool:
        return True

    def _on_log_out(self, params: dict[str, Any]) -> bool:
        return True


def _member(user: dict[str, Any], status: str) -> dict[str, Any]:
    out: dict[str, Any] = {"status": status, "user": user}
    if status == "creator":
        out["is_anonymous"] = False
    elif status == "administrator":
        out.update(dict.fromkeys(_ADMIN_RIGHTS, False), can_manage_chat=True)
    elif status == "kicked":
        out["until_date"] = 0
    return out


def _photo_sizes(photo: Any, message_id: int) -> list[dict[str, Any]]:
    size = len(photo) if isinstance(photo, bytes) else 0
    if size > 10 * 1024 * 1024:
        raise bad_request("file is too big")
    return [{"file_id": f"photo{message_id}_{w}", "file_unique_id": f"u{message_id}_{w}",
             "width": w, "height": w * 3 // 4, "file_size": size} for w in (90, 320, 800)]


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Query string plus a JSON, urlencoded or multipart body, coerced like the Bot API does."""
    raw: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            raw.update(await request.json())
        else:
            for key, value in (await request.post()).items():
                raw[key] = value.file.read() if isinstance(value, web.FileField) else value
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str):
            if key in _JSON_FIELDS:
                with contextlib.suppress(ValueError):
                    value = json.loads(value)
            elif key in _INT_FIELDS or key in _FLOAT_FIELDS:
                with contextlib.suppress(ValueError):
                    value = float(value) if key in _FLOAT_FIELDS else int(value)
            elif key in _BOOL_FIELDS:
                value = value.lower() == "true"
        params[key] = value
    return params


def _dumps(obj: Any) -> str:
    return json.dumps(obj, default=str)


def control(url: str, helper: str, **kwargs: Any) -> Any:
    """Call a helper on a fake running in another process (``url`` is ``FakeTelegram.url``)."""
    req = urllib.request.Request(f"{url}/_fake/{helper}", data=json.dumps(kwargs).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())["result"]


def read_log(url: str) -> dict[str, Any]:
    """The snapshot of a fake running in another process."""
    with urllib.request.urlopen(f"{url}/_fake/log", timeout=10) as resp:
        return json.loads(resp.read())


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    """A running fake in the test's loop (register with ``pytest_plugins`` or import it)."""
    async with FakeTelegram() as server:
        yield server


def serve(port: int = 0, log_path: str | None = None, token: str = DEFAULT_TOKEN,
          ready_file: str | None = None, flood: FloodControl | None = None) -> None:
    """Serve until SIGTERM/SIGINT; print the port, write it to ``ready_file``, log to JSON."""

    async def main() -> None:
        server = FakeTelegram(token, port=port, log_path=log_path, flood=flood)
        await server.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        server.write_log()
        if ready_file:
            Path(ready_file).write_text(str(server.port))
        print(f"FAKE_TELEGRAM_PORT={server.port}", flush=True)
        await stop.wait()
        await server.stop()

    asyncio.run(main())


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--port", type=int, default=0)
    cli.add_argument("--log", help="JSON log file, rewritten after every call")
    cli.add_argument("--token", default=DEFAULT_TOKEN)
    cli.add_argument("--ready-file", help="file to write the bound port to")
    cli.add_argument("--no-flood", action="store_true", help="disable flood control")
    args = cli.parse_args()
    serve(args.port, args.log, args.token, args.ready_file,
          FloodControl(enabled=not args.no_flood))
