"""A text line → the command → its Reply. The one place errors become short messages.

Handles ``/cmd@botname`` (a command addressed to another bot is ignored), unknown commands with
a "did you mean", private-only commands in groups, admin-only setting changes, bad arguments
(``ArgumentError`` → its message) and anything unexpected (logged with the traceback; the user
gets one line and never a traceback).
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Iterable
from typing import Any

from chat.commands.base import Command, Reply, json_ready
from chat.context import CommandContext
from chat.grammar import ArgumentError
from i18n import N_, _
from plugins.exchanges.errors import MarketError

log = logging.getLogger(__name__)

# refusals, translated where they are shown: _(PRIVATE_ONLY).format(example=...)
PRIVATE_ONLY = N_("That's personal — ask me in a private chat, e.g. {example}")
ADMINS_ONLY = N_("Only this group's admins can change its settings.")
OPERATOR_ONLY = N_("/{name} is only for the operator running this bot (the console, or "
                   "[telegram] admins in a private chat).")


def split_command(text: str, bot_name: str | None = None) -> tuple[str, list[str]] | None:
    """``"/risk@hw_bot btc 10x"`` → ``("risk", ["btc", "10x"])``; None when not for us.

    A leading slash is optional (the console accepts ``risk btc``).
    """
    words = text.strip().split()
    if not words:
        return None
    head = words[0].removeprefix("/")
    name, _at, target = head.partition("@")
    if target and bot_name and target.lower() != bot_name.lower().removeprefix("@"):
        return None
    return name.lower(), words[1:]


async def answer(command: Command, request: Any, ctx: CommandContext) -> Reply:
    """Answer a parsed request with the access checks applied; errors propagate."""
    if command.private_only and not ctx.is_private:
        return Reply.usage(_(PRIVATE_ONLY).format(example=command.example))
    if command.operator_only and not ctx.is_operator:
        return Reply.usage(_(OPERATOR_ONLY).format(name=command.name))
    reply = await command.answer(request, ctx)
    reply.data = json_ready(reply.data)
    if not (reply.text or reply.render):
        reply.text = [_("Done.")]
    return reply


FULL = "full"


def first_screen(command: Command, words: list[str], reply: Reply, full: bool) -> Reply:
    """A long answer's first screen (``Reply.short``) with the line that gives the rest
    (``Reply.more``); the whole answer when the line ended in ``full``."""
    if reply.ok and reply.short is not None and not full and reply.short != reply.text:
        reply.text, reply.render = list(reply.short), None
        reply.more = " ".join([f"/{command.name}", *words, FULL])
    reply.short = None
    return reply


class Dispatcher:
    """Routes text lines to commands; shared by the console, Telegram and tests."""

    def __init__(self, commands: Iterable[Command], bot_name: str | None = None) -> None:
        self.commands: dict[str, Command] = {}
        for c in commands:
            self.commands.setdefault(c.name, c)
        self.bot_name = bot_name

    def unknown(self, name: str) -> Reply:
        close = difflib.get_close_matches(name, list(self.commands), n=1, cutoff=0.6)
        shown = name if len(name) <= 32 else name[:32] + "…"
        if close:
            return Reply.usage(_("I don't know /{name}. Did you mean /{close}? Send /help for "
                                 "the list.").format(name=shown, close=close[0]))
        return Reply.usage(_("I don't know /{name}. Send /help for the list.").format(
            name=shown))

    async def handle(self, text: str, ctx: CommandContext) -> Reply | None:
        """The reply to one line; None for a line addressed to another bot or empty."""
        parts = split_command(text, self.bot_name)
        if parts is None:
            return None
        name, args = parts
        command = self.commands.get(name)
        if command is None:
            return self.unknown(name)
        return await self.run(command, args, ctx)

    async def run(self, command: Command, args: list[str], ctx: CommandContext) -> Reply:
        """Parse and answer; never raises (except cancellation)."""
        try:
            full = command.expandable and bool(args) and args[-1].lower() == FULL
            words = list(args[:-1] if full else args)
            ctx.extra["full"] = full
            request = command.parse(list(words))
            return first_screen(command, words, await answer(command, request, ctx), full)
        except ArgumentError as e:
            return Reply.usage(str(e) or _("Bad arguments; e.g. {example}").format(
                example=command.example))
        except MarketError as e:  # the exchange, not us: say so plainly, keep the details
            log.warning("/%s: market error: %s", command.name, e, exc_info=True)
            return Reply.failure(_("I can't answer /{name} right now: the market data source "
                                   "failed ({error}). Try again in a minute.").format(
                name=command.name, error=str(e)[:200]))
        except Exception:
            shown = "(words not logged)" if command.holds_secrets else " ".join(args)[:200]
            log.error("answering /%s %s failed", command.name, shown, exc_info=not
                      command.holds_secrets)
            return Reply.failure(_("Something went wrong answering /{name}; it has been "
                                   "logged.").format(name=command.name))
