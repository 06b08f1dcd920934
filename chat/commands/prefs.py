"""Alert preferences of a chat: /subscribe, /unsubscribe, /mute, /unmute, /settings.

In groups only admins change them (``ctx.is_admin``); anyone may look at /settings.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chat.alert_render import SEVERITY_WORDS
from chat.commands.base import ArgumentError, Command, Reply
from chat.commands.delivery_prefs import hhmm, parse_quiet, ring_line, topic_line
from chat.context import CommandContext
from core.alerts import SEVERITIES, AlertKinds
from i18n import N_, _
from settings.durations import Duration
from storage import chats
from storage.chats import ChatSettings

MAX_MUTE = Duration.parse("30d")
ADMINS_ONLY = N_("Only this group's admins can change its alert settings.")
ALL = "all"


def parse_kinds(args: list[str]) -> tuple[str, ...]:
    """The words naming alert kinds, normalised (``take-profit`` → ``take_profit``); empty or
    ``all`` means every kind. They are checked against the kinds the bot knows (plugins'
    included) when answering, in ``resolve_kinds``."""
    words = tuple(dict.fromkeys(a.lower().replace("-", "_") for a in args))
    return () if ALL in words else words


def resolve_kinds(words: tuple[str, ...], kinds: AlertKinds, example: str) -> tuple[str, ...]:
    """``words`` as known kinds in the bot's order (every kind when empty); an unknown one is
    an error listing the kinds."""
    for w in words:
        if w not in kinds.subscribable:
            raise ArgumentError(_("I don't know the alert kind '{kind}' — kinds are "
                                  "{kinds}, e.g. {example}").format(
                kind=w[:32], kinds=", ".join(kinds.subscribable), example=example))
    return tuple(kinds.ordered(words)) if words else kinds.subscribable


def kinds_lines(kinds: AlertKinds) -> list[str]:
    """One line per alert kind with what it tells, for ``/help subscribe``."""
    return [f"  {k.name} — {_(k.description)}" if k.source == "built-in" else
            _("  {kind} — {description} (plugin {plugin})").format(
                kind=k.name, description=_(k.description), plugin=k.source)
            for k in kinds.values() if k.name in kinds.subscribable]


def severity_word(severity: str) -> str:
    """info, warning, critical in the reader's language."""
    return _(SEVERITY_WORDS[severity]) if severity in SEVERITY_WORDS else severity


def _when(ms: int, tz: str) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M %Z")


def mute_text(s: ChatSettings, now_ms: int) -> str:
    """Whether the chat is muted, until when, and (in private) whether critical alerts about
    the user's own trades still come through."""
    if not s.is_muted(now_ms) or s.muted_until is None:
        return _("not muted")
    until = _when(s.muted_until, s.timezone)
    if s.type != "private":
        return _("muted until {when}").format(when=until)
    if s.mute_all:
        return _("muted until {when} (everything, critical alerts about your trades "
                 "included)").format(when=until)
    return _("muted until {when} (critical alerts about your trades still come "
             "through)").format(when=until)


def settings_lines(s: ChatSettings, now_ms: int, kinds: AlertKinds) -> list[str]:
    subs = ", ".join(k if k in kinds else _("{kind} (its plugin is not loaded)").format(kind=k)
                     for k in s.subscriptions) or _("none (send /subscribe)")
    lines = [_("Alerts: {kinds}").format(kinds=subs),
             _("Minimum severity: {severity}").format(severity=severity_word(s.min_severity)),
             _("Mute: {mute}").format(mute=mute_text(s, now_ms)),
             _("Timezone: {tz}").format(tz=s.timezone), ring_line(s)]
    if s.quiet is not None:
        lines.append(_("Quiet hours: {start}-{end} {tz} (only critical alerts ring)").format(
            start=hhmm(s.quiet[0]), end=hhmm(s.quiet[1]), tz=s.timezone))
    topics = topic_line(s)
    return lines + ([topics] if topics else [])


class _PrefCommand(Command):
    admin_only = True

    def check(self, ctx: CommandContext) -> None:
        if not ctx.may_change_settings:
            raise ArgumentError(_(ADMINS_ONLY))

    def reply(self, s: ChatSettings, ctx: CommandContext, first: str) -> Reply:
        now = ctx.services.now_ms()
        return Reply(data={"settings": s.to_dict(now)},
                     text=[first, *settings_lines(s, now, ctx.services.alert_kinds)])


class _KindsCommand(_PrefCommand):
    """/subscribe and /unsubscribe: the same arguments, the other direction."""

    done: str  # the first line of the answer, ``{kinds}`` the kinds named

    def parse(self, args: list[str]) -> tuple[str, ...]:
        return parse_kinds(args)

    def update(self, current: list[str], kinds: tuple[str, ...]) -> list[str]:
        raise NotImplementedError

    def details(self, ctx: CommandContext) -> list[str]:
        """The kinds, with what each tells (for ``/help``)."""
        return [_("alert kinds:"), *kinds_lines(ctx.services.alert_kinds)]

    async def answer(self, request: tuple[str, ...], ctx: CommandContext) -> Reply:
        kinds = ctx.services.alert_kinds
        wanted = resolve_kinds(request, kinds, self.examples[1])
        self.check(ctx)
        db, now = ctx.services.db, ctx.services.now_ms()
        current = chats.get_settings(db, ctx.chat_id).subscriptions
        s = chats.set_subscriptions(db, ctx.chat_id,
                                    kinds.ordered(self.update(list(current), wanted)),
                                    chat_type=ctx.chat_type, now_ms=now)
        s = self.route(s, request, wanted, ctx)
        return self.reply(s, ctx, _(self.done).format(kinds=", ".join(wanted)))

    def route(self, s: ChatSettings, named: tuple[str, ...], kinds: tuple[str, ...],
              ctx: CommandContext) -> ChatSettings:
        """Where in a forum group these kinds' alerts go; unchanged by default."""
        return s


class Subscribe(_KindsCommand):
    name = "subscribe"
    summary = N_("receive alerts of some kinds (all when none named)")
    usage = N_("/subscribe [kind …]  (kinds: /help subscribe)")
    examples = ("/subscribe", "/subscribe liquidation cascade")
    done = N_("Subscribed to {kinds}.")

    def update(self, current: list[str], kinds: tuple[str, ...]) -> list[str]:
        return [*current, *kinds]

    def route(self, s: ChatSettings, named: tuple[str, ...], kinds: tuple[str, ...],
              ctx: CommandContext) -> ChatSettings:
        """In a forum group, alerts go to the topic where /subscribe was sent: the named
        kinds to this topic, or (no kind named) every kind without a topic of its own."""
        if ctx.chat_type not in ("group", "supergroup") or "thread_id" not in ctx.extra:
            return s  # not from a Telegram group: leave the routing alone
        thread = ctx.extra.get("thread_id")
        db, now = ctx.services.db, ctx.services.now_ms()
        if not named:
            return chats.set_extra(db, ctx.chat_id, {chats.THREAD: thread},
                                   chat_type=ctx.chat_type, now_ms=now)
        threads = dict(s.extra.get(chats.THREADS) or {})
        for kind in kinds:
            if thread is None:
                threads.pop(kind, None)
            else:
                threads[kind] = thread
        return chats.set_extra(db, ctx.chat_id, {chats.THREADS: threads or None},
                               chat_type=ctx.chat_type, now_ms=now)


class Unsubscribe(_KindsCommand):
    name = "unsubscribe"
    summary = N_("stop alerts of some kinds (all when none named)")
    usage = N_("/unsubscribe [kind …]  (kinds: /help subscribe)")
    examples = ("/unsubscribe", "/unsubscribe funding")
    done = N_("Unsubscribed from {kinds}.")

    def update(self, current: list[str], kinds: tuple[str, ...]) -> list[str]:
        return [k for k in current if k not in kinds]


@dataclass(frozen=True)
class MuteRequest:
    duration: Duration
    everything: bool = False  # /mute all: critical alerts about your own trades too


class Mute(_PrefCommand):
    name = "mute"
    summary = N_("pause alerts for a while (critical ones about your trades still come)")
    usage = N_("/mute <duration> | /mute all <duration>")
    examples = ("/mute 1h", "/mute 30m", "/mute all 8h")

    def parse(self, args: list[str]) -> MuteRequest:
        words = [a for a in args if a.lower() != ALL]
        everything = len(words) < len(args)
        if len(words) != 1 or len(args) - len(words) > 1:
            if everything and not words:
                raise ArgumentError(_("/mute all needs a duration too, e.g. {example}").format(
                    example=self.examples[2]))
            raise ArgumentError(_("/mute needs one duration, e.g. {example}").format(
                example=self.example))
        try:
            d = Duration.parse(words[0])
        except ValueError:
            raise ArgumentError(_("I didn't understand '{word}' — a duration is a number and a "
                                  "unit (m, h, d), e.g. {example}").format(
                word=words[0][:32], example=self.example)) from None
        if d > MAX_MUTE:
            raise ArgumentError(_("At most {duration} at a time, e.g. {example}").format(
                duration=MAX_MUTE, example=self.example))
        return MuteRequest(d, everything)

    async def answer(self, request: MuteRequest, ctx: CommandContext) -> Reply:
        self.check(ctx)
        now = ctx.services.now_ms()
        d = request.duration
        s = chats.set_muted_until(ctx.services.db, ctx.chat_id, now + d.ms,
                                  chat_type=ctx.chat_type, now_ms=now,
                                  everything=request.everything)
        if ctx.chat_type != "private":  # alerts about a member's trades never come here
            return self.reply(s, ctx, _("Muted for {duration}; /unmute to resume.").format(
                duration=d))
        if request.everything:
            return self.reply(s, ctx, _("Muted everything for {duration}, critical liquidation "
                                        "alerts about your own trades included: you will not "
                                        "hear that a position is about to be liquidated. "
                                        "/unmute to resume.").format(duration=d))
        return self.reply(s, ctx, _("Muted for {duration}; /unmute to resume. Critical alerts "
                                    "about your own trades (liquidation) still come through; "
                                    "/mute all {duration} silences those too.").format(
            duration=d))


class Unmute(_PrefCommand):
    name = "unmute"
    summary = N_("resume alerts now")
    usage = N_("/unmute")
    examples = ("/unmute",)

    async def answer(self, request: None, ctx: CommandContext) -> Reply:
        self.check(ctx)
        s = chats.set_muted_until(ctx.services.db, ctx.chat_id, None, chat_type=ctx.chat_type,
                                  now_ms=ctx.services.now_ms())
        return self.reply(s, ctx, _("Alerts resumed."))


@dataclass(frozen=True)
class SettingsRequest:
    key: str | None = None  # "severity" | "tz"
    value: str | None = None


class Settings(_PrefCommand):
    name = "settings"
    summary = N_("show this chat's alert settings, or set severity, ringing, quiet hours, "
                 "timezone")
    usage = N_("/settings [severity info|warning|critical] [ring info|warning|critical] "
               "[quiet HH:MM-HH:MM|off] [tz <Area/City>]")
    examples = ("/settings", "/settings severity warning", "/settings tz Europe/Berlin",
                "/settings ring warning", "/settings quiet 23:00-07:00")

    def details(self, ctx: CommandContext) -> list[str]:
        return [_("severity: the least severe alert this chat receives at all"),
                _("ring: the least severe alert that rings the phone; less severe ones arrive "
                  "silently (critical always rings; default: only critical)"),
                _("quiet: hours (in the chat's timezone) when nothing but critical rings")]

    def parse(self, args: list[str]) -> SettingsRequest:
        if not args:
            return SettingsRequest()
        key = args[0].lower()
        key = {"timezone": "tz", "min_severity": "severity"}.get(key, key)
        if key not in ("severity", "tz", "ring", "quiet") or len(args) != 2:
            raise ArgumentError(_("Use /settings, /settings severity warning, /settings ring "
                                  "warning, /settings quiet 23:00-07:00 or /settings tz "
                                  "Europe/Berlin"))
        value = args[1]
        if key == "quiet":
            parse_quiet(value)
            return SettingsRequest(key, value)
        if key in ("severity", "ring"):
            value = value.lower()
            if value not in SEVERITIES:
                raise ArgumentError(_("Severity is one of {severities}, e.g. {example}").format(
                    severities=", ".join(SEVERITIES), example=self.examples[1]))
        else:
            try:
                if ".." in value or value.startswith("/"):
                    raise ValueError(value)
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError, OSError):
                raise ArgumentError(_("I don't know the timezone '{tz}' — use an IANA name, "
                                      "e.g. {example}").format(
                    tz=value[:40], example=self.examples[2])) from None
        return SettingsRequest(key, value)

    async def answer(self, request: SettingsRequest, ctx: CommandContext) -> Reply:
        db, now = ctx.services.db, ctx.services.now_ms()
        if request.key is None:
            return self.reply(chats.get_settings(db, ctx.chat_id), ctx, _("Alert settings:"))
        self.check(ctx)
        if request.key == "ring":
            s = chats.set_extra(db, ctx.chat_id, {chats.RING: request.value},
                                chat_type=ctx.chat_type, now_ms=now)
            return self.reply(s, ctx, _("Alerts from {severity} up ring the phone; the others "
                                        "arrive silently.").format(
                severity=severity_word(str(request.value))))
        if request.key == "quiet":
            quiet = parse_quiet(str(request.value))
            s = chats.set_extra(db, ctx.chat_id, {chats.QUIET: quiet},
                                chat_type=ctx.chat_type, now_ms=now)
            return self.reply(s, ctx, _("Quiet hours off.") if quiet is None else
                              _("Quiet hours {hours}: only critical alerts ring then.").format(
                                  hours=request.value))
        if request.key == "severity":
            s = chats.set_min_severity(db, ctx.chat_id, str(request.value),
                                       chat_type=ctx.chat_type, now_ms=now)
            return self.reply(s, ctx, _("Minimum severity set to {severity}.").format(
                severity=severity_word(str(request.value))))
        s = chats.set_timezone(db, ctx.chat_id, str(request.value), chat_type=ctx.chat_type,
                               now_ms=now)
        return self.reply(s, ctx, _("Timezone set to {tz}.").format(tz=request.value))
