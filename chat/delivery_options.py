"""How one alert goes to one chat: the chat's time zone for its times, whether it rings the
phone, which forum topic receives it, and which buttons make sense there.

* Critical alerts always ring. Below the chat's ``ring`` severity (``/settings ring``; by
  default only critical rings) an alert arrives silently (``disable_notification``), and so
  does everything but critical during the chat's quiet hours (``/settings quiet 23:00-07:00``,
  in its time zone). Silent is not lost: the message is there when the trader looks.
  An alert the trader set up themselves (``/alert``, kind ``rule``) rings whatever its
  severity, except in quiet hours: they asked to be told.
* In a forum group, an alert goes to the topic where ``/subscribe`` was sent for its kind,
  else to the topic of the last plain ``/subscribe``, else to the main thread.
* A channel's readers can't use "Mute 1h" or "Details" (a press would act for the channel):
  a channel post carries one deep link, "Open in private chat", whose ``start`` payload
  shows the alert's details in the reader's private chat with the bot.

Pure: no PTB, no database; ``chat.sender`` reads the chat's settings and applies this.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.alerts import SEVERITIES, severity_rank
from i18n import N_, _
from storage.chats import ChatSettings

ALWAYS_RINGS = "critical"
ASKED_FOR = ("rule",)  # kinds a user set up themselves: they ring outside quiet hours
DEEP_LINK_LABEL = N_("Open in private chat")


@dataclass(frozen=True)
class DeliveryOptions:
    tz: str  # the chat's time zone, for every time in the alert
    silent: bool  # disable_notification
    thread_id: int | None  # message_thread_id (forum topics)
    buttons: tuple[tuple[str, str], ...] | None  # None: the alert's own buttons


def minute_of_day(now_ms: int, tz: str) -> int:
    try:
        zone: dt.tzinfo = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        zone = dt.UTC
    t = dt.datetime.fromtimestamp(now_ms / 1000, zone)
    return t.hour * 60 + t.minute


def in_quiet_hours(quiet: tuple[int, int] | None, now_ms: int, tz: str) -> bool:
    """Is ``now_ms`` inside [start, end) minutes of the day in ``tz``? Wraps past midnight
    (23:00-07:00)."""
    if quiet is None:
        return False
    start, end = quiet
    m = minute_of_day(now_ms, tz)
    return start <= m < end if start <= end else (m >= start or m < end)


def rings(severity: str, s: ChatSettings, now_ms: int, *, asked_for: bool = False) -> bool:
    """Does an alert of ``severity`` ring this chat's phones now? (``asked_for``: the user
    set this alert up themselves.)"""
    if severity == ALWAYS_RINGS:
        return True
    if in_quiet_hours(s.quiet, now_ms, s.timezone):
        return False
    if asked_for:
        return True
    floor = s.ring if s.ring in SEVERITIES else ALWAYS_RINGS
    return severity_rank(severity) >= severity_rank(floor)


def deep_link(bot_username: str | None, alert_id: int) -> tuple[tuple[str, str], ...]:
    """A channel's only button: the alert's details in the reader's private chat."""
    if not bot_username:
        return ()
    return ((_(DEEP_LINK_LABEL), f"https://t.me/{bot_username}?start=alert_{alert_id}"),)


def delivery_options(s: ChatSettings, *, kind: str, severity: str, alert_id: int,
                     now_ms: int, is_channel: bool, bot_username: str | None
                     ) -> DeliveryOptions:
    """The options for sending alert ``alert_id`` to the chat whose settings are ``s``."""
    thread = None if is_channel else s.thread_for(kind)
    return DeliveryOptions(tz=s.timezone, silent=not rings(severity, s, now_ms,
                                                       asked_for=kind in ASKED_FOR),
                           thread_id=thread,
                           buttons=deep_link(bot_username, alert_id) if is_channel else None)
