"""/start and /help: a short welcome that says alerts are off, the commands grouped by task,
one command's usage and examples, and the risk disclaimer.

``/start`` fits a phone's first screen (≤ 8 lines) and offers buttons for the first steps;
``/start <payload>`` is Telegram's deep link (``t.me/<bot>?start=<payload>``): a channel's
"Open in private chat" button sends ``alert_<id>`` to show that alert's details here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from chat.alert_render import alert_details_lines
from chat.commands.base import ArgumentError, Command, Reply
from chat.context import CommandContext
from i18n import N_, _
from storage import chats
from storage.outbox import find_alert

DISCLAIMER = N_("hedgewatch advises; it never places an order. "
                "Leverage can lose more than you expect.")
INTRO = N_("hedgewatch watches your leveraged perps — liquidation distance, correlation, "
           "cascade risk — and says how to hedge.")
ALERTS_OFF = N_("Alerts are off until you /subscribe.")
ALERT_PAYLOAD = "alert_"
PAYLOAD = re.compile(ALERT_PAYLOAD + r"[0-9]{1,18}")

# Commands by task, in the order a trader needs them; a plugin's command may name its own
# ``task`` (one of these titles, or a new one); anything else is listed under "More". The
# titles are English keys (``--json``), translated where shown.
TASKS: dict[str, tuple[str, ...]] = {
    N_("Risk & hedges"): ("hedge", "risk", "whatif", "corr", "market", "hedged", "backtest"),
    N_("Trades"): ("open", "close", "positions", "log", "pnl", "daily", "weekly", "monthly",
               "performance", "stats", "export", "account", "sync"),
    N_("Alerts"): ("subscribe", "unsubscribe", "alert", "alerts", "threshold", "mute", "unmute"),
    N_("Settings"): ("settings", "lang", "status", "start", "help"),
}
OTHER = N_("More")


def start_buttons(private: bool, account: bool = False) -> list[list[tuple[str, str]]]:
    """The first steps: alerts, a trade (or an account, when ``account`` is offered to this
    user), a first answer."""
    trade = [(_("📒 Log a trade"), "/help open")]
    if account:
        trade.append((_("🔑 Connect an account"), "/help account"))
    if not private:  # a group logs no personal trades: offer the group's own steps
        trade = [(_("📖 All commands"), "/help")]
    return [[(_("🔔 Subscribe to market alerts"), "/subscribe")], trade,
            [(_("Try /hedge btc"), "/hedge btc")]]


def start_lines(private: bool, subscribed: Sequence[str] = ()) -> list[str]:
    """The welcome, ≤ 8 lines (a private chat's /start and a group's first message); it says
    whether this chat gets alerts."""
    alerts = _(ALERTS_OFF) if not subscribed else _(
        "Alerts are on here for {kinds} (/settings to change).").format(
        kinds=", ".join(subscribed))
    lines = [_(INTRO), alerts]
    if private:
        lines.append(_("Log a trade: /open btc long 0.5 @60000 10x — then I watch its "
                       "liquidation distance."))
    else:
        lines.append(_("In a group only admins change alert settings; personal answers "
                       "(trades, P&L) come in a private chat."))
    lines += [_("Try /hedge btc · all commands: /help"), _(DISCLAIMER)]
    return lines


def task_of(cmd: Command) -> str:
    own = getattr(cmd, "task", None)
    if isinstance(own, str) and own:
        return own
    return next((t for t, names in TASKS.items() if cmd.name in names), OTHER)


def grouped(cmds: Iterable[Command]) -> dict[str, list[Command]]:
    """Commands by task, tasks in ``TASKS`` order then new ones, commands in their task's
    order (then by name)."""
    out: dict[str, list[Command]] = {t: [] for t in TASKS}
    for c in cmds:
        out.setdefault(task_of(c), []).append(c)
    order = {name: i for names in TASKS.values() for i, name in enumerate(names)}
    return {t: sorted(cs, key=lambda c: (order.get(c.name, 99), c.name))
            for t, cs in out.items() if cs}


def _describe(cmd: Command) -> dict[str, Any]:
    return {"name": cmd.name, "summary": cmd.summary, "usage": cmd.usage,
            "examples": list(cmd.examples), "private_only": cmd.private_only,
            "task": task_of(cmd)}


def _visible(ctx: CommandContext) -> list[Command]:
    return [c for c in ctx.services.commands.values() if ctx.is_operator or not c.operator_only]


def summary_line(c: Command) -> str:
    """``  /name — summary`` in the reader's language, saying when it is private-only."""
    if c.private_only:
        return _("  /{name} — {summary} (private chat)").format(name=c.name,
                                                                summary=_(c.summary))
    return f"  /{c.name} — {_(c.summary)}"


def _overview(ctx: CommandContext, full: bool) -> Reply:
    groups = grouped(_visible(ctx))
    lines: list[str] = []
    for task, cmds in groups.items():
        if full:
            lines.append(_("{task}:").format(task=_(task)))
            lines += [summary_line(c) for c in cmds]
        else:
            lines.append(_("{task}: {commands}").format(
                task=_(task), commands=" ".join(f"/{c.name}" for c in cmds)))
    lines += [_("/help <command>: usage and examples") if full else
              _("/help <command>: usage and examples · /help all"), _(DISCLAIMER)]
    return Reply(data={"commands": [_describe(c) for cs in groups.values() for c in cs],
                       "tasks": {t: [c.name for c in cs] for t, cs in groups.items()},
                       "disclaimer": DISCLAIMER}, text=lines)


class Start(Command):
    name = "start"
    summary = N_("what hedgewatch does, and the first steps")
    usage = "/start"
    examples = ("/start",)

    def parse(self, args: list[str]) -> str | None:
        """No arguments, or the payload of our own deep link (``t.me/<bot>?start=alert_12``,
        a channel post's "Open in private chat")."""
        if not args:
            return None
        if len(args) > 1 or not PAYLOAD.fullmatch(args[0]):
            raise ArgumentError(_("/start takes no arguments, e.g. {example}").format(
                example=self.example))
        return args[0]

    async def answer(self, request: str | None, ctx: CommandContext) -> Reply:
        if request is not None:
            return _alert_details(request.removeprefix(ALERT_PAYLOAD), ctx)
        private = ctx.chat_type == "private"
        account = ctx.services.commands.get("account")
        offer = account is not None and (ctx.is_operator or not account.operator_only)
        subs = chats.get_settings(ctx.services.db, ctx.chat_id).subscriptions
        return Reply(data={"alerts_on": bool(subs), "subscriptions": list(subs),
                           "disclaimer": DISCLAIMER},
                     text=start_lines(private, subs), buttons=start_buttons(private, offer))


def _alert_details(alert_id: str, ctx: CommandContext) -> Reply:
    """An alert's stored details (a channel's "Open in private chat" deep link)."""
    found = find_alert(ctx.services.db, alert_id)
    if found is None:
        return Reply.failure(_("That alert is no longer stored — /start shows what I can do."))
    alert, owner = found
    if owner is not None and owner not in (ctx.user_id, ctx.chat_id):
        return Reply.failure(_("That alert is about someone else's trade."))
    return Reply(data={"alert_id": alert.id, "kind": alert.kind},
                 text=alert_details_lines(
                     alert, chats.get_settings(ctx.services.db, ctx.chat_id).timezone))


class Help(Command):
    name = "help"
    summary = N_("the commands by task, or one command's usage and examples")
    usage = N_("/help [all | command]")
    examples = ("/help", "/help risk", "/help all")

    def parse(self, args: list[str]) -> str | None:
        if len(args) > 1:
            raise ArgumentError(_("/help takes at most one command name, e.g. {example}")
                                .format(example=self.examples[1]))
        return args[0].removeprefix("/").lower() if args else None

    async def answer(self, request: str | None, ctx: CommandContext) -> Reply:
        if request is None or request == "all":
            return _overview(ctx, full=request == "all")
        cmd = ctx.services.commands.get(request)
        if cmd is None or (cmd.operator_only and not ctx.is_operator):
            raise ArgumentError(_("There is no /{name} — send /help for the list, "
                                  "e.g. {example}").format(name=request[:32],
                                                           example=self.examples[1]))
        lines = [f"/{cmd.name} — {_(cmd.summary)}", _("usage: {usage}").format(usage=_(cmd.usage)),
                 _("examples:")]
        lines += [f"  {e}" for e in cmd.examples]
        extra = list(cmd.details(ctx))
        lines += extra
        if cmd.private_only:
            lines.append(_("Only in a private chat: it shows or changes your own data."))
        lines.append(_(DISCLAIMER))
        return Reply(data={"command": {**_describe(cmd), "details": extra},
                           "disclaimer": DISCLAIMER}, text=lines)
