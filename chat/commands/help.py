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
from storage import chats
from storage.outbox import find_alert

DISCLAIMER = ("hedgewatch advises; it never places an order. "
              "Leverage can lose more than you expect.")
INTRO = ("hedgewatch watches your leveraged perps — liquidation distance, correlation, "
         "cascade risk — and says how to hedge.")
ALERTS_OFF = "Alerts are off until you /subscribe."
ALERT_PAYLOAD = "alert_"
PAYLOAD = re.compile(ALERT_PAYLOAD + r"[0-9]{1,18}")

# Commands by task, in the order a trader needs them; a plugin's command may name its own
# ``task`` (one of these titles, or a new one); anything else is listed under "More".
TASKS: dict[str, tuple[str, ...]] = {
    "Risk & hedges": ("hedge", "risk", "whatif", "corr", "market", "hedged", "backtest"),
    "Trades": ("open", "close", "positions", "log", "pnl", "daily", "weekly", "monthly",
               "performance", "stats", "export", "account", "sync"),
    "Alerts": ("subscribe", "unsubscribe", "alert", "alerts", "threshold", "mute", "unmute"),
    "Settings": ("settings", "status", "start", "help"),
}
OTHER = "More"


def start_buttons(private: bool, account: bool = False) -> list[list[tuple[str, str]]]:
    """The first steps: alerts, a trade (or an account, when ``account`` is offered to this
    user), a first answer."""
    trade = [("📒 Log a trade", "/help open")]
    if account:
        trade.append(("🔑 Connect an account", "/help account"))
    if not private:  # a group logs no personal trades: offer the group's own steps
        trade = [("📖 All commands", "/help")]
    return [[("🔔 Subscribe to market alerts", "/subscribe")], trade,
            [("Try /hedge btc", "/hedge btc")]]


def start_lines(private: bool, subscribed: Sequence[str] = ()) -> list[str]:
    """The welcome, ≤ 8 lines (a private chat's /start and a group's first message); it says
    whether this chat gets alerts."""
    alerts = ALERTS_OFF if not subscribed else (
        f"Alerts are on here for {', '.join(subscribed)} (/settings to change).")
    lines = [INTRO, alerts]
    if private:
        lines.append("Log a trade: /open btc long 0.5 @60000 10x — then I watch its "
                     "liquidation distance.")
    else:
        lines.append("In a group only admins change alert settings; personal answers "
                     "(trades, P&L) come in a private chat.")
    lines += ["Try /hedge btc · all commands: /help", DISCLAIMER]
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


def _overview(ctx: CommandContext, full: bool) -> Reply:
    groups = grouped(_visible(ctx))
    lines: list[str] = []
    for task, cmds in groups.items():
        if full:
            lines.append(f"{task}:")
            lines += [f"  /{c.name} — {c.summary}" + (" (private chat)" if c.private_only
                                                      else "") for c in cmds]
        else:
            lines.append(f"{task}: " + " ".join(f"/{c.name}" for c in cmds))
    lines += ["/help <command>: usage and examples" + ("" if full else " · /help all"),
              DISCLAIMER]
    return Reply(data={"commands": [_describe(c) for cs in groups.values() for c in cs],
                       "tasks": {t: [c.name for c in cs] for t, cs in groups.items()},
                       "disclaimer": DISCLAIMER}, text=lines)


class Start(Command):
    name = "start"
    summary = "what hedgewatch does, and the first steps"
    usage = "/start"
    examples = ("/start",)

    def parse(self, args: list[str]) -> str | None:
        """No arguments, or the payload of our own deep link (``t.me/<bot>?start=alert_12``,
        a channel post's "Open in private chat")."""
        if not args:
            return None
        if len(args) > 1 or not PAYLOAD.fullmatch(args[0]):
            raise ArgumentError(f"/start takes no arguments, e.g. {self.example}")
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
        return Reply.failure("That alert is no longer stored — /start shows what I can do.")
    alert, owner = found
    if owner is not None and owner not in (ctx.user_id, ctx.chat_id):
        return Reply.failure("That alert is about someone else's trade.")
    return Reply(data={"alert_id": alert.id, "kind": alert.kind},
                 text=alert_details_lines(
                     alert, chats.get_settings(ctx.services.db, ctx.chat_id).timezone))


class Help(Command):
    name = "help"
    summary = "the commands by task, or one command's usage and examples"
    usage = "/help [all | command]"
    examples = ("/help", "/help risk", "/help all")

    def parse(self, args: list[str]) -> str | None:
        if len(args) > 1:
            raise ArgumentError(f"/help takes at most one command name, e.g. {self.examples[1]}")
        return args[0].removeprefix("/").lower() if args else None

    async def answer(self, request: str | None, ctx: CommandContext) -> Reply:
        if request is None or request == "all":
            return _overview(ctx, full=request == "all")
        cmd = ctx.services.commands.get(request)
        if cmd is None or (cmd.operator_only and not ctx.is_operator):
            raise ArgumentError(f"There is no /{request[:32]} — send /help for the list, "
                                f"e.g. {self.examples[1]}")
        lines = [f"/{cmd.name} — {cmd.summary}", f"usage: {cmd.usage}", "examples:"]
        lines += [f"  {e}" for e in cmd.examples]
        extra = list(cmd.details(ctx))
        lines += extra
        if cmd.private_only:
            lines.append("Only in a private chat: it shows or changes your own data.")
        lines.append(DISCLAIMER)
        return Reply(data={"command": {**_describe(cmd), "details": extra},
                           "disclaimer": DISCLAIMER}, text=lines)
