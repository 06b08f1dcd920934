"""How an alert reads on a phone: Telegram HTML (escaped, within Telegram's limits) with
"Mute 1h" / "Details" buttons, and the same as plain text for the console.

Pure functions over the stored alert (``storage.outbox.StoredAlert``); no PTB import, so the
console front end and tests use them as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chat.freshness import age_words
from chat.telegram_html import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    callback_data,
    escape,
    truncate_caption,
    visible_text,
)
from i18n import N_, _, current_language, fmt_datetime
from storage.outbox import StoredAlert

ICONS = {"info": "ℹ️", "warning": "⚠️", "critical": "🚨"}
SEVERITY_WORDS = {"info": N_("info"), "warning": N_("warning"), "critical": N_("critical")}
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
    zone this machine knows), written as the reader's locale writes it."""
    return fmt_datetime(ms, tz)


def words(record: dict[str, Any]) -> dict[str, Any]:
    """The alert's title, body, action and chart title in the current language: rendered
    once per language when it was recorded (``storage.outbox.localized_record``); an alert
    recorded before that, or in a language it lacks, reads as recorded (English)."""
    text = (record.get("text") or {}).get(current_language())
    if text:
        return dict(text)
    return {"title": record.get("title", ""), "body": record.get("body", []),
            "action": record.get("action", ""),
            "chart_title": (record.get("chart") or {}).get("title", "")}


def alert_details_lines(alert: StoredAlert, tz: str = "UTC") -> list[str]:
    """Everything stored with an alert as plain lines: the lines, the numbers behind it,
    when (a deep link's answer; the Telegram "Details" button has its HTML twin)."""
    rec = alert.record
    w = words(rec)
    severity = _(SEVERITY_WORDS.get(alert.severity, alert.severity))
    head = " · ".join(x for x in (alert.kind, severity, alert.symbol) if x)
    lines = [str(w["title"] or _("Alert")), head, *map(str, w["body"])]
    if w["action"]:
        lines.append(_("What to do: {action}").format(action=w["action"]))
    for k, v in sorted((rec.get("numbers") or {}).items()):
        lines.append(f"{k}: {v:,.6g}" if isinstance(v, float) else f"{k}: {v}")
    when = local_time(int(rec.get("time_ms") or alert.created_at), tz)
    lines.append(_("Bar closing {when} · alert #{id}").format(when=when, id=alert.id)
                 + (" · " + _("SIMULATED") if rec.get("simulated") else ""))
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
    w = words(rec)
    when = local_time(rec["time_ms"], tz)
    lines = [f"{ICONS.get(alert.severity, '')} <b>{escape(w['title'])}</b>"]
    lines += [f"<i>{escape(note)}</i>" for note in notes]
    lines += [escape(line) for line in w["body"]]
    lines.append(_("<b>What to do:</b> {action}").format(action=escape(w["action"])))
    age = data_age_at(alert, now_ms)
    foot = (_("Data: bar closing {when}, {age} old").format(when=when, age=age_words(age))
            if age >= 0 else _("Data: none (as of {when})").format(when=when))
    if rec.get("simulated"):
        foot += " · " + _("SIMULATED")
    lines.append(f"<i>{escape(foot)}</i>")
    html = "\n".join(lines)
    if buttons is None:
        buttons = (*_command_button(rec), (_("Mute 1h"), MUTE_1H),
                   (_("Details"), callback_data("alert", alert.id)))
    return RenderedAlert(truncate_caption(html, TEXT_LIMIT), truncate_caption(html, CAPTION_LIMIT),
                         buttons, bool(rec.get("chart")))


COMMAND_BUTTONS = (("hedge_command", N_("Hedge it")), ("hedged_command", N_("I put this on")),
                   ("delete_command", N_("Delete alert")))


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
            out.append((_(label), callback_data("c", command.removeprefix("/"))))
        except ValueError:  # too long for callback_data: the action still spells it out
            continue
    return tuple(out)
