"""The Bot API methods the fake Telegram server answers, as ``_on_<method>`` handlers.

A handler's name is the method's in snake case (``_on_send_message`` answers ``sendMessage``);
``FakeTelegram`` finds them by that prefix. Handlers take the coerced parameters and return the
``result`` or raise ``ApiError`` with Telegram's status and description.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections import Counter
from typing import Any

from tests.fakes.telegram_objects import (
    SentMessage,
    document_json,
    member_json,
    photo_sizes,
    user_json,
)
from tests.fakes.telegram_state import FakeTelegramState
from tests.fakes.telegram_validate import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    ApiError,
    bad_request,
    check_commands,
    check_reply_markup,
    parse_text,
)

_DEFAULT_UPDATES = {"message", "edited_message", "channel_post", "edited_channel_post",
                    "callback_query", "my_chat_member", "inline_query", "chosen_inline_result"}


class BotApiMethods(FakeTelegramState):
    """The Bot API as the bot sees it: sends, edits, polling, chats and commands."""

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

    def _on_send_document(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._send("sendDocument", params, photo=True, media="document")

    def _on_edit_message_text(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        return self._edit(params, text=True)

    def _on_edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        return self._edit(params, text=False)

    def _on_delete_message(self, params: dict[str, Any]) -> bool:
        """Delete a message: the bot's own anywhere, a user's in a private chat, or in a group
        where the bot is an administrator (Telegram's rules, the 48-hour limit left out)."""
        with self._lock:
            chat = self._resolve(params)
            key = (chat.id, params.get("message_id"))
            msg = self._stored.get(key)  # type: ignore[arg-type]
            if msg is None:
                raise bad_request("message to delete not found")
            own = msg.get("from", {}).get("id") == self.bot_id
            if not own and chat.type != "private" and self.bot_id not in chat.admins:
                raise bad_request("message can't be deleted")
            del self._stored[key]  # type: ignore[arg-type]
            self.deleted.append((chat.id, int(key[1])))  # type: ignore[arg-type]
        return True

    def _on_pin_chat_message(self, params: dict[str, Any]) -> bool:
        """Pin one of the chat's messages (``pinned`` records chat → message id)."""
        with self._lock:
            chat = self._writable(params)
            message_id = params.get("message_id")
            if (chat.id, message_id) not in self._stored:
                raise bad_request("message to pin not found")
            self.pinned[chat.id] = int(message_id)  # type: ignore[arg-type]
        return True

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
        owner = [member_json(user_json(chat.owner), "creator")] if chat.owner else []
        return owner + [member_json(user_json(uid), "administrator") for uid in chat.admins
                        if uid != chat.owner]

    def _on_get_chat_member(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._resolve(params)
        uid = int(params.get("user_id") or 0)
        if uid == self.bot_id:
            status = "kicked" if chat.blocked else (
                "administrator" if uid in chat.admins else "member")
            return member_json(self._bot_user(), status)
        status = ("creator" if uid == chat.owner else
                  "administrator" if uid in chat.admins else "member")
        return member_json(user_json(uid), status)

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

    # ---------------------------------------------------------------- sends and edits

    def _send(self, method: str, params: dict[str, Any], *, photo: bool,
              media: str = "photo") -> dict[str, Any]:
        """A text message, or (``photo``) a captioned ``media``: a photo or a document."""
        with self._lock:
            chat = self._writable(params)
            key, limit = ("caption", CAPTION_LIMIT) if photo else ("text", TEXT_LIMIT)
            parsed = parse_text(params.get(key), params.get("parse_mode"), limit=limit,
                                caption=photo)
            markup = params.get("reply_markup")
            check_reply_markup(markup)
            if photo and not params.get(media):
                raise bad_request(f"there is no {media} in the request")
            now = self.clock()
            self._check_flooded(chat.id, now)
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
            document = None
            if media == "document":
                document = document_json(params["document"], params.get("_filenames", {}).get(
                    "document"), msg["message_id"])
                msg["document"] = {k: v for k, v in document.items() if k != "content"}
            elif photo:
                msg["photo"] = photo_sizes(params["photo"], msg["message_id"])
            if photo:
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
                markup, media == "photo" and photo, params.get("caption"), parsed.text,
                time.time(), document, now))
            self.counters.setdefault(chat.id, Counter())["delivered"] += 1
            return msg

    def _check_flooded(self, chat_id: int, now: float) -> None:
        """A chat flooded by ``flood_chat`` answers 429 until its ``retry_after`` has passed;
        a send after a 429 and before that is counted as an early retry."""
        flood = self._flooded.get(chat_id)
        if flood is None:
            return
        until, told = flood
        if now < until:
            if told:
                self.early_retries[chat_id] += 1
            self._flooded[chat_id] = (until, True)
            retry = max(1, math.ceil(until - now))
            raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
        del self._flooded[chat_id]

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
