"""The test's side of the fake Telegram server: inject updates, script faults, read results.

Every public method here is also reachable from another process as ``POST /_fake/<name>`` (see
``control`` in ``telegram_server.py``) where it is listed there; they are thread-safe.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import asdict
from typing import Any

from tests.fakes.telegram_objects import SentMessage, command_entities, member_json, user_json
from tests.fakes.telegram_state import FakeTelegramState

SEND_METHODS = ("sendmessage", "sendphoto")


class FakeTelegramControls(FakeTelegramState):
    """Helpers a test calls to drive the fake and to see what the bot did."""

    def _enqueue(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            update = {"update_id": next(self._update_ids), kind: payload}
            self._updates.append(update)
        self._wake()
        return update

    def user(self, user_id: int) -> dict[str, Any]:
        """The ``User`` as updates carry it: its app language from ``user_languages``
        (set by a test: ``tg.user_languages[7] = "zh-hans"``), English by default."""
        return user_json(user_id, language_code=self.user_languages.get(user_id, "en"))

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
                msg["from"] = self.user(user_id)
            if entities := command_entities(text):
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
            query = {"id": query_id, "from": self.user(user_id), "message": msg,
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
            payload = {"chat": chat.json(), "from": user_json(user_id or abs(chat_id)),
                       "date": int(time.time()), "old_chat_member": member_json(bot, old_status),
                       "new_chat_member": member_json(bot, new_status)}
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

    def set_outage(self, status: int | None = 502, description: str = "Bad Gateway",
                   methods: tuple[str, ...] = SEND_METHODS) -> None:
        """Answer every call of ``methods`` with ``status`` until ``set_outage(None)``:
        Telegram's gateway down (``fail_next`` faults still come first)."""
        with self._lock:
            self._outage = None if status is None else {
                "kind": "error", "status": status, "description": description,
                "parameters": None, "methods": frozenset(m.lower() for m in methods)}

    def set_latency(self, seconds: float | None,
                    methods: tuple[str, ...] = SEND_METHODS) -> None:
        """Handle every call of ``methods`` only after ``seconds`` (None: at once again). The
        call takes effect even when the client gave up waiting, as on a slow Bot API."""
        with self._lock:
            self._latency = None if not seconds else (
                float(seconds), frozenset(m.lower() for m in methods))

    def flood_chat(self, chat_id: int, retry_after: int) -> None:
        """Sends to ``chat_id`` answer 429 with the time left of ``retry_after`` s (on the
        fake's clock) until it has passed; ``early_retries`` counts sends before then."""
        with self._lock:
            self._flooded[chat_id] = (self.clock() + retry_after, False)

    async def settle(self, timeout: float = 30.0) -> None:
        """Wait until no call is being handled (slow calls finish after the client left)."""
        deadline = time.monotonic() + timeout
        while self.in_flight:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.in_flight} calls still in flight")
            await asyncio.sleep(0.02)

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
