"""The fake Telegram server's records and the Bot API JSON objects it builds.

``SentMessage`` and ``Rejected`` are what a test reads back; ``FakeChat`` is the fake's state of
one chat; the functions build Bot API ``User``, ``ChatMember``, ``MessageEntity`` and
``PhotoSize`` objects in the shapes python-telegram-bot parses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.fakes.telegram_validate import bad_request

ADMIN_RIGHTS = ("can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages",
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
    document: dict[str, Any] | None = None  # sendDocument: file_name, file_size, content
    at: float = 0.0  # the fake's clock when stored (a test's simulated clock, if it gave one)


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
class FakeChat:
    """One chat as the fake knows it; ``json()`` is its Bot API ``Chat`` object."""

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


def user_json(user_id: int, *, is_bot: bool = False, username: str | None = None,
              language_code: str = "en") -> dict[str, Any]:
    """A Bot API ``User`` (its Telegram app set to ``language_code``)."""
    return {"id": user_id, "is_bot": is_bot, "first_name": f"User{user_id}",
            "username": username or f"user{user_id}", "language_code": language_code}


def member_json(user: dict[str, Any], status: str) -> dict[str, Any]:
    """A Bot API ``ChatMember`` of the given status (all admin rights off but managing)."""
    out: dict[str, Any] = {"status": status, "user": user}
    if status == "creator":
        out["is_anonymous"] = False
    elif status == "administrator":
        out.update(dict.fromkeys(ADMIN_RIGHTS, False), can_manage_chat=True)
    elif status == "kicked":
        out["until_date"] = 0
    return out


def command_entities(text: str) -> list[dict[str, Any]]:
    """The ``bot_command`` entity Telegram adds to a message starting with ``/``."""
    if not text.startswith("/"):
        return []
    word = text.split(maxsplit=1)[0]
    return [{"type": "bot_command", "offset": 0, "length": len(word.encode("utf-16-le")) // 2}]


def document_json(document: Any, filename: str | None, message_id: int) -> dict[str, Any]:
    """A sent ``Document`` (plus its ``content``, for tests); bots may send up to 50 MB."""
    if not isinstance(document, bytes):
        raise bad_request("wrong file identifier/HTTP URL specified")
    if len(document) > 50 * 1024 * 1024:
        raise bad_request("file is too big")
    return {"file_id": f"doc{message_id}", "file_unique_id": f"ud{message_id}",
            "file_name": filename or "document", "file_size": len(document),
            "content": document}


def photo_sizes(photo: Any, message_id: int) -> list[dict[str, Any]]:
    """The ``PhotoSize`` list of a sent photo; Telegram refuses photos over 10 MB."""
    size = len(photo) if isinstance(photo, bytes) else 0
    if size > 10 * 1024 * 1024:
        raise bad_request("file is too big")
    return [{"file_id": f"photo{message_id}_{w}", "file_unique_id": f"u{message_id}_{w}",
             "width": w, "height": w * 3 // 4, "file_size": size} for w in (90, 320, 800)]
