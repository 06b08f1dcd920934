"""The one-shot CLI front end: ``python bot.py <command> ARGS [--json] [--exchange NAME]
[--data DIR] [--at TIME] [--config PATH]`` (the console takes the same three market flags).

The command is answered as the local user (``chat.context.LOCAL_USER_ID``) in a private chat,
so the trade log commands work on the same SQLite file as the console. ``--json`` prints one
object (``Reply.data``; NaN never appears: ``allow_nan=False``); a reply carrying a file
(``/export``) writes the file's bytes to stdout, or to ``--output PATH``. Exit codes: 0 ok, 2 bad
arguments (the short message on stderr), 1 runtime failure (one line, from ``bot.main``; an
unreachable exchange says so and how to run without network, ``unreachable``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from chat.commands.base import ArgumentError, Command, Reply
from chat.context import CommandContext, Services
from chat.dispatch import answer
from chat.printable import printable
from chat.render_text import render, save_chart
from i18n import N_, _
from plugins.exchanges.errors import MarketError, SourceUnavailable
from runtime import Runtime


class CliUsageError(Exception):
    """A bad flag value: exit code 2."""


def parse_at(text: str | None) -> int | None:
    """``--at``: Unix ms (digits) or an ISO 8601 time (UTC when no offset is given)."""
    if text is None:
        return None
    t = text.strip()
    if t.isdecimal():
        return int(t)
    try:
        when = dt.datetime.fromisoformat(t)
    except ValueError:
        raise CliUsageError(_("--at {value} is neither Unix ms nor an ISO time, e.g. --at "
                              "2024-03-01T12:00 or --at 1709294400000").format(
                                  value=repr(text))) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp() * 1000)


def with_cli_overrides(rt: Runtime) -> Runtime:
    """The runtime with ``--exchange``/``--data`` applied to ``[exchange]``."""
    update = {}
    if getattr(rt.args, "exchange", None):
        update["name"] = rt.args.exchange
    if getattr(rt.args, "data", None):
        update["data_dir"] = rt.args.data
    return with_exchange(rt, update)


def with_exchange(rt: Runtime, update: dict[str, Any]) -> Runtime:
    """The runtime with ``update`` applied to ``[exchange]`` (validated like the file).

    Only keys that were set carry over, so the CSV market keeps serving every file in the
    folder unless symbols were asked for; and a ``data_dir`` given on the command line means
    "this folder's data": the config's symbol list (written for the live exchange) does not
    narrow it — ``--symbols`` does.
    """
    if not update:
        return rt
    ex = rt.config.exchange
    kept = {k: getattr(ex, k) for k in ex.model_fields_set
            if not ("data_dir" in update and k == "symbols")}
    exchange = type(ex).model_validate({**kept, **update}, strict=False)
    return rt.with_config(rt.config.model_copy(update={"exchange": exchange}))


OFFLINE_HINT = N_("without network, run on the simulated market: make demo, or add "
                  "--exchange sim (e.g. bot.py console --exchange sim)")


def unreachable(rt: Runtime, error: Exception) -> str:
    """One line for a market source that can't be reached, and what to do without network."""
    name = rt.config.exchange.name
    shown = name.upper() if name in ("okx", "bybit") else name.capitalize()
    reason = str(error).split(": ", 1)[-1][:160]
    return _("{exchange} is unreachable ({reason}); {hint}.").format(
        exchange=shown, reason=reason, hint=_(OFFLINE_HINT))


def services_from_runtime(rt: Runtime, at_ms: int | None = None) -> Services:
    """Open the database and the market source named by the config for the commands."""
    db = rt.open_storage()

    def market() -> Any:
        source = rt.market(storage=db)
        if at_ms is not None and hasattr(source, "set_clock"):
            try:
                source.set_clock(at_ms)
            except MarketError as e:
                raise CliUsageError(_("--at: {error}").format(error=e)) from None
        return source

    return Services.from_runtime(rt, db, market, at_ms=at_ms)


async def _answer(command: Command, request: Any, services: Services) -> Reply:
    try:
        return await answer(command, request, CommandContext.local(services))
    except ArgumentError as e:
        return Reply.usage(str(e))
    finally:
        await services.close()


def run_cli(command: Command, rt: Runtime) -> int:
    """``bot.py <command> ...``: the command's own ``run_cli(rt)`` when it has one (e.g.
    ``backtest``, with flags of its own), else ``run_command``."""
    custom = getattr(command, "run_cli", None)
    return custom(rt) if callable(custom) else run_command(command, rt)


def write_document(reply: Reply, output: str | None) -> int:
    """A reply's file: the bytes alone on stdout (to pipe), or written to ``--output`` with
    the reply's text on stdout."""
    assert reply.document is not None
    if output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(reply.document.content)
        sys.stdout.buffer.flush()
        return 0
    try:
        Path(output).write_bytes(reply.document.content)
    except OSError as e:
        print(_("--output {path}: {error}").format(path=output, error=e.strerror or e),
              file=sys.stderr)
        return 1
    print(render(reply))
    print(_("[written to {path}]").format(path=output))
    return 0


def run_command(command: Command, rt: Runtime) -> int:
    """Parse, answer and print one command; returns the exit code."""
    args = rt.args
    try:
        words = list(args.args)
        if command.expandable and words and words[-1].lower() == "full":
            words = words[:-1]  # a terminal shows the whole answer anyway
        request = command.parse(words)
        request = command.apply_cli_options(request, args)
        at_ms = parse_at(getattr(args, "at", None))
        rt = with_cli_overrides(rt)
        services = services_from_runtime(rt, at_ms)
    except (ArgumentError, CliUsageError) as e:
        print(printable(str(e)), file=sys.stderr)
        return 2
    try:
        reply = asyncio.run(_answer(command, request, services))
    except CliUsageError as e:
        print(printable(str(e)), file=sys.stderr)
        return 2
    except SourceUnavailable as e:
        print(printable(unreachable(rt, e)), file=sys.stderr)
        return 1
    if reply.kind == "usage":
        print(render(reply), file=sys.stderr)
        return 2
    if reply.kind == "failure":
        print(render(reply), file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(reply.data, allow_nan=False))
        return 0
    if reply.document is not None:
        return write_document(reply, getattr(args, "output", None))
    print(render(reply))
    path = save_chart(reply)
    if path is not None:
        print(_("[chart saved to {path}]").format(path=path))
    return 0
