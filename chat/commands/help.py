"""/start and /help: the commands with examples, and the risk disclaimer."""

from __future__ import annotations

from typing import Any

from chat.commands.base import ArgumentError, Command, Reply
from chat.context import CommandContext

DISCLAIMER = ("hedgewatch advises; it never places an order. "
              "Leverage can lose more than you expect.")


def _describe(cmd: Command) -> dict[str, Any]:
    return {"name": cmd.name, "summary": cmd.summary, "usage": cmd.usage,
            "examples": list(cmd.examples), "private_only": cmd.private_only}


def _overview(ctx: CommandContext, greeting: str | None) -> Reply:
    cmds = sorted((c for c in ctx.services.commands.values()
                   if ctx.is_operator or not c.operator_only), key=lambda c: c.name)
    lines = [greeting] if greeting else []
    lines += [f"/{c.name} — {c.summary}" + (" (private chat)" if c.private_only else "")
              for c in cmds]
    lines += ["", "Send /help <command> for its usage and examples.", DISCLAIMER]
    return Reply(data={"commands": [_describe(c) for c in cmds], "disclaimer": DISCLAIMER},
                 text=lines)


class Start(Command):
    name = "start"
    summary = "what hedgewatch does, and the commands"
    usage = "/start"
    examples = ("/start",)

    async def answer(self, request: None, ctx: CommandContext) -> Reply:
        return _overview(ctx, "hedgewatch watches correlation and liquidation risk of your "
                              "leveraged perpetual swaps and tells you how to hedge.")


class Help(Command):
    name = "help"
    summary = "the commands, or one command's usage and examples"
    usage = "/help [command]"
    examples = ("/help", "/help risk")

    def parse(self, args: list[str]) -> str | None:
        if len(args) > 1:
            raise ArgumentError(f"/help takes at most one command name, e.g. {self.examples[1]}")
        return args[0].removeprefix("/").lower() if args else None

    async def answer(self, request: str | None, ctx: CommandContext) -> Reply:
        if request is None:
            return _overview(ctx, None)
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
