"""Chat lifecycle: chats are registered when the bot joins or is first spoken to, marked
inactive when it is blocked or removed (rows and the trade log are kept), and moved when a
group becomes a supergroup (``storage.outbox.migrate_chat``: chats, trades and unsent
deliveries in one transaction).

``deliver`` sends a rendered reply and applies the lifecycle on the way: ``Forbidden`` marks
the chat inactive, ``ChatMigrated`` moves the chat's data and sends to the new id.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlite_utils import Database
from telegram import Bot, Message
from telegram.error import ChatMigrated, Forbidden

from chat.telegram.render import Rendered, send
from storage import chats, outbox

log = logging.getLogger(__name__)

JOINED = frozenset({"member", "administrator", "creator"})
GONE = frozenset({"left", "kicked"})


def touch_chat(db: Database, chat_id: int, chat_type: str, now_ms: int,
               title: str | None = None) -> None:
    """Register a chat on first contact and reactivate it if it had been marked inactive."""
    chats.ensure_chat(db, chat_id, chat_type, now_ms=now_ms, title=title)
    if not chats.get_settings(db, chat_id).active:
        chats.set_active(db, chat_id, True, now_ms=now_ms)
        log.info("chat %s is reachable again: marked active", chat_id)


def mark_inactive(db: Database, chat_id: int, chat_type: str, now_ms: int, why: str) -> None:
    """The bot can't post there any more (blocked, kicked, left): keep the row, stop sending."""
    chats.ensure_chat(db, chat_id, chat_type, now_ms=now_ms)
    chats.set_active(db, chat_id, False, now_ms=now_ms)
    outbox.fail_chat(db, chat_id, why, now_ms)
    log.info("chat %s marked inactive: %s", chat_id, why)


def migrate_chat(db: Database, old_id: int, new_id: int, now_ms: int) -> None:
    """A group became supergroup ``new_id``: move its settings, trades and unsent deliveries
    (one transaction; idempotent, so the service message and a ``ChatMigrated`` may both
    arrive)."""
    outbox.migrate_chat(db, old_id, new_id, now_ms)
    log.info("chat %s migrated to %s", old_id, new_id)


def member_status_change(db: Database, chat_id: int, chat_type: str, status: str, now_ms: int,
                         title: str | None = None) -> str | None:
    """Apply a ``my_chat_member`` change; returns "joined", "gone" or None (no change)."""
    if status in JOINED:
        touch_chat(db, chat_id, chat_type, now_ms, title)
        return "joined"
    if status in GONE:
        mark_inactive(db, chat_id, chat_type, now_ms, f"bot {status}")
        return "gone"
    return None


async def deliver(bot: Bot, db: Database, chat_id: int, chat_type: str, rendered: Rendered,
                  now_ms: int, thread_id: int | None = None, on_migrate: Any = None
                  ) -> list[Message] | None:
    """Send; None when the chat can't be reached (then it is marked inactive)."""
    try:
        return await send(bot, chat_id, rendered, thread_id)
    except Forbidden as e:
        mark_inactive(db, chat_id, chat_type, now_ms, str(e)[:200])
        return None
    except ChatMigrated as e:
        new_id = int(e.new_chat_id)
        migrate_chat(db, chat_id, new_id, now_ms)
        if on_migrate is not None:
            on_migrate(chat_id, new_id)
        try:  # topics don't survive an upgrade from a basic group: no thread id
            return await send(bot, new_id, rendered, None)
        except Forbidden as e2:
            mark_inactive(db, new_id, "supergroup", now_ms, str(e2)[:200])
            return None
