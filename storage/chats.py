"""Per-chat alert preferences: subscriptions, minimum severity, mute, timezone, language.

A chat that never changed anything reads as the defaults (no subscriptions, severity "info",
not muted, UTC). Rows are created on the first write and never deleted: a blocked or removed
chat is marked inactive.

A mute silences everything but critical alerts about the chat's own trades (a position about
to be liquidated), unless it was set with ``everything`` (``/mute all``): that choice is kept
under ``MUTE_ALL`` in the row's ``settings`` JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from core.alerts import SEVERITIES
from i18n import DEFAULT, LANGUAGES, normalize
from storage.writes import write

MUTE_ALL = "mute_all"
# delivery settings kept in the row's ``settings`` JSON (no migration needed):
RING = "ring"  # the lowest severity that rings the phone; below it arrives silently
QUIET = "quiet"  # [start, end] minutes of the day, in the chat's time zone: nothing but
#                 critical rings then
THREAD = "thread"  # the forum topic (message_thread_id) alerts go to
THREADS = "threads"  # kind -> forum topic, for kinds subscribed from their own topic
DEFAULT_RING = "critical"
LANG = "lang"  # the language chosen with /lang ("en", "zh_Hans")
LANG_SEEN = "lang_seen"  # a private chat's Telegram ``language_code``, as we speak it


def mutes_everything(settings_json: str | None) -> bool:
    """Whether a chat's mute (its ``settings`` column) also silences critical alerts about
    its own trades."""
    return bool(json.loads(settings_json or "{}").get(MUTE_ALL, False))


@dataclass(frozen=True)
class ChatSettings:
    chat_id: int
    type: str = "private"
    subscriptions: tuple[str, ...] = ()
    min_severity: str = "info"
    muted_until: int | None = None  # ms
    timezone: str = "UTC"
    active: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def is_muted(self, now_ms: int) -> bool:
        return self.muted_until is not None and self.muted_until > now_ms

    @property
    def mute_all(self) -> bool:
        """The mute also silences critical alerts about the chat's own trades."""
        return bool(self.extra.get(MUTE_ALL, False))

    @property
    def ring(self) -> str:
        """The lowest severity that rings the phone (critical always does)."""
        value = self.extra.get(RING, DEFAULT_RING)
        return value if value in SEVERITIES else DEFAULT_RING

    @property
    def quiet(self) -> tuple[int, int] | None:
        """Quiet hours as (start, end) minutes of the day in ``timezone``; None when off."""
        q = self.extra.get(QUIET)
        return (int(q[0]), int(q[1])) if isinstance(q, list) and len(q) == 2 else None

    @property
    def language(self) -> str:
        """The chat's language: the one chosen with /lang, else (private chats) the one its
        Telegram app is set to, else English."""
        for key in (LANG, LANG_SEEN):
            value = self.extra.get(key)
            if value in LANGUAGES:
                return str(value)
        return DEFAULT

    def thread_for(self, kind: str) -> int | None:
        """The forum topic alerts of ``kind`` go to (None: the chat's main thread)."""
        threads = self.extra.get(THREADS) or {}
        value = threads.get(kind, self.extra.get(THREAD))
        return int(value) if value is not None else None

    def to_dict(self, now_ms: int | None = None) -> dict[str, Any]:
        return {"chat_id": self.chat_id, "type": self.type,
                "subscriptions": list(self.subscriptions), "min_severity": self.min_severity,
                "muted_until": self.muted_until,
                "muted": self.is_muted(now_ms) if now_ms is not None else None,
                "mute_all": self.mute_all,
                "timezone": self.timezone, "active": self.active, "ring": self.ring,
                "quiet": list(self.quiet) if self.quiet else None,
                "thread": self.extra.get(THREAD), "threads": self.extra.get(THREADS) or {},
                "language": self.language, "language_chosen": self.extra.get(LANG)}


def ensure_chat(db: Database, chat_id: int, chat_type: str = "private", *, now_ms: int = 0,
                title: str | None = None) -> None:
    """Create the chat's row with defaults if it does not exist yet."""
    with write(db):
        if not list(db["chats"].rows_where("id = ?", [chat_id])):
            db["chats"].insert({"id": chat_id, "type": chat_type, "title": title,
                                "settings": "{}", "subscriptions": "[]",
                                "min_severity": "info", "timezone": "UTC", "active": 1,
                                "created_at": now_ms, "updated_at": now_ms})


def known(db: Database, chat_id: int) -> bool:
    """Has this chat a row (the bot has seen it)?"""
    return db.execute("select 1 from chats where id = ?", [chat_id]).fetchone() is not None


def get_settings(db: Database, chat_id: int) -> ChatSettings:
    rows = list(db["chats"].rows_where("id = ?", [chat_id]))
    if not rows:
        return ChatSettings(chat_id)
    r = rows[0]
    return ChatSettings(
        chat_id=chat_id, type=r["type"],
        subscriptions=tuple(json.loads(r["subscriptions"] or "[]")),
        min_severity=r["min_severity"] or "info", muted_until=r["muted_until"],
        timezone=r["timezone"] or "UTC", active=bool(r["active"]),
        extra=json.loads(r["settings"] or "{}"))


def _update(db: Database, chat_id: int, chat_type: str, now_ms: int, **values: Any) -> None:
    with write(db):
        ensure_chat(db, chat_id, chat_type, now_ms=now_ms)
        db["chats"].update(chat_id, {**values, "updated_at": now_ms})


def set_subscriptions(db: Database, chat_id: int, kinds: list[str] | tuple[str, ...], *,
                      chat_type: str = "private", now_ms: int = 0) -> ChatSettings:
    """Replace the subscribed alert kinds (stored as given, without repeats: the caller
    checks them against the kinds the bot knows, ``core.alerts.AlertKinds``)."""
    ordered = list(dict.fromkeys(kinds))
    _update(db, chat_id, chat_type, now_ms, subscriptions=json.dumps(ordered))
    return get_settings(db, chat_id)


def set_min_severity(db: Database, chat_id: int, severity: str, *, chat_type: str = "private",
                     now_ms: int = 0) -> ChatSettings:
    if severity not in SEVERITIES:
        raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}")
    _update(db, chat_id, chat_type, now_ms, min_severity=severity)
    return get_settings(db, chat_id)


def set_muted_until(db: Database, chat_id: int, until_ms: int | None, *,
                    chat_type: str = "private", now_ms: int = 0,
                    everything: bool = False) -> ChatSettings:
    """Mute until ``until_ms`` (None: unmute). Critical alerts about the chat's own trades
    still come through unless ``everything``."""
    with write(db):
        extra = get_settings(db, chat_id).extra
        extra = {k: v for k, v in extra.items() if k != MUTE_ALL}
        if everything and until_ms is not None:
            extra[MUTE_ALL] = True
        _update(db, chat_id, chat_type, now_ms, muted_until=until_ms,
                settings=json.dumps(extra))
    return get_settings(db, chat_id)


def set_extra(db: Database, chat_id: int, values: dict[str, Any], *,
              chat_type: str = "private", now_ms: int = 0) -> ChatSettings:
    """Set delivery settings kept in the ``settings`` JSON (``RING``, ``QUIET``, ``THREAD``,
    ``THREADS``); a value of None removes the key."""
    with write(db):
        extra = dict(get_settings(db, chat_id).extra)
        for k, v in values.items():
            if v is None:
                extra.pop(k, None)
            else:
                extra[k] = v
        _update(db, chat_id, chat_type, now_ms, settings=json.dumps(extra))
    return get_settings(db, chat_id)


def note_language(db: Database, chat_id: int, code: str | None, *, now_ms: int = 0) -> None:
    """Remember a private chat's Telegram ``language_code`` (as the language we speak for
    it, or forget it when we don't), so alerts use it; written only when it changed."""
    lang = normalize(code)
    lang = lang if lang in LANGUAGES else None
    if get_settings(db, chat_id).extra.get(LANG_SEEN) != lang:
        set_extra(db, chat_id, {LANG_SEEN: lang}, now_ms=now_ms)


def set_timezone(db: Database, chat_id: int, tz: str, *, chat_type: str = "private",
                 now_ms: int = 0) -> ChatSettings:
    _update(db, chat_id, chat_type, now_ms, timezone=tz)
    return get_settings(db, chat_id)


def set_active(db: Database, chat_id: int, active: bool, *, now_ms: int = 0) -> None:
    """Mark a chat (in)active, e.g. after the bot was blocked; the row stays."""
    _update(db, chat_id, "private", now_ms, active=1 if active else 0)
