"""How an alert reads on a phone: Telegram HTML (escaped, within Telegram's limits) with
"Mute 1h" / "Details" buttons, and the same as plain text for the console.

Pure functions over the stored alert (``storage.outbox.StoredAlert``); no PTB import, so the
console front end and tests use them as they are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chat.freshness import age_words
from chat.telegram_html import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    callback_data,
    escape,
    truncate_caption,
    visible_text,
)
from storage.outbox import StoredAlert

ICONS = {"info": "ℹ️", "warning": "⚠️", "critical": "🚨"}
MUTE_1H = callback_data("mute", "1h")


@dataclass(frozen=True)
class RenderedAlert:
    html: str  # a text message, ≤ 4,096 visible characters
    caption: str  # the same, cut to fit a photo caption (≤ 1,024)
    buttons: tuple[tuple[str, str], ...]  # (label, callback_data ≤ 64 bytes)
    has_chart: bool

    @property
    def plain(self) -> str:
        """What a phone shows, as plain text (buttons in brackets)."""
        keys = "  ".join(f"[{label}]" for label, _ in self.buttons)
        return visible_text(self.html) + (f"\n{keys}" if keys else "")


def data_age_at(alert: StoredAlert, now_ms: int | None) -> int:
    """The alert's data age when it is sent at ``now_ms`` (our clock): its age when the
    cycle computed it plus the time since the alert was recorded — an alert held back (a
    Telegram outage, a full disk) says how old its numbers really are. -1: no data."""
    age = int(alert.record.get("data_age_ms", -1))
    if age < 0 or now_ms is None:
        return age
    return age + max(0, now_ms - alert.created_at)


def local_time(ms: int, tz: str = "UTC") -> str:
    """``ms`` in the chat's time zone, e.g. "2026-03-01 09:00 CET" (UTC when ``tz`` is not a
    zone this machine knows)."""
    try:
        zone: dt.tzinfo = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        zone = dt.UTC
    return dt.datetime.fromtimestamp(ms / 1000, zone).strftime("%Y-%m-%d %H:%M %Z")


def alert_details_lines(alert: StoredAlert, tz: str = "UTC") -> list[str]:
    """Everything stored with an alert as plain lines: the lines, the numbers behind it,
    when (a deep link's answer; the Telegram "Details" button has its HTML twin)."""
    rec = alert.record
    head = " · ".join(x for x in (alert.kind, alert.severity, alert.symbol) if x)
    lines = [str(rec.get("title", "Alert")), head, *map(str, rec.get("body", []))]
    if rec.get("action"):
        lines.append(f"What to do: {rec['action']}")
    for k, v in sorted((rec.get("numbers") or {}).items()):
        lines.append(f"{k}: {v:,.6g}" if isinstance(v, float) else f"{k}: {v}")
    when = local_time(int(rec.get("time_ms") or alert.created_at), tz)
    lines.append(f"Bar closing {when} · alert #{alert.id}"
                 + (" · SIMULATED" if rec.get("simulated") else ""))
    return lines


def render_alert(alert: StoredAlert, notes: Sequence[str] = (), *,
                 now_ms: int | None = None, tz: str = "UTC",
                 buttons: tuple[tuple[str, str], ...] | None = None) -> RenderedAlert:
    """The alert as Telegram HTML; every value from the alert is escaped. ``notes`` are lines
    about this delivery (what it replaces, how long delivery was blocked), shown under the
    title in italics. ``now_ms`` is when it is being sent (our clock): the footer gives the
    data's age at that moment, its time in the chat's time zone ``tz``. ``buttons`` replace
    the default ones (a channel gets a deep link instead, ``chat.delivery_options``)."""
    rec = alert.record
    when = local_time(rec["time_ms"], tz)
    lines = [f"{ICONS.get(alert.severity, '')} <b>{escape(rec['title'])}</b>"]
    lines += [f"<i>{escape(note)}</i>" for note in notes]
    lines += [escape(line) for line in rec.get("body", [])]
    lines.append(f"<b>What to do:</b> {escape(rec['action'])}")
    age = data_age_at(alert, now_ms)
    foot = (f"Data: bar closing {when}, {age_words(age)} old" if age >= 0
            else f"Data: none (as of {when})")
    if rec.get("simulated"):
        foot += " · SIMULATED"
    lines.append(f"<i>{escape(foot)}</i>")
    html = "\n".join(lines)
    if buttons is None:
        buttons = (*_command_button(rec), ("Mute 1h", MUTE_1H),
                   ("Details", callback_data("alert", alert.id)))
    return RenderedAlert(truncate_caption(html, TEXT_LIMIT), truncate_caption(html, CAPTION_LIMIT),
                         buttons, bool(rec.get("chart")))


COMMAND_BUTTONS = (("hedge_command", "Hedge it"), ("hedged_command", "I put this on"),
                   ("delete_command", "Delete alert"))


def _command_button(rec: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """Buttons under a trade alert that run the command it spells out (the ``c:`` callback
    the Telegram front end runs as the presser), when it fits 64 bytes: "Hedge it" (the
    ``/hedge``), "I put this on" (the ``/hedged`` that logs the advised legs, once),
    "Delete alert" (under a user's own ``/alert``: ``/alerts delete <id>``)."""
    numbers = rec.get("numbers") or {}
    out = []
    for key, label in COMMAND_BUTTONS:
        command = numbers.get(key)
        if not command:
            continue
        try:
            out.append((label, callback_data("c", command.removeprefix("/"))))
        except ValueError:  # too long for callback_data: the action still spells it out
            continue
    return tuple(out)
