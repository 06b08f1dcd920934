"""The local console: the chat commands in a terminal, as the local user in a private chat.

``bot.py console [--exchange NAME] [--data DIR] [--at TIME]`` (and ``bot.py run`` without a
Telegram token) start it; an exchange that can't be reached at start is one line saying how to
run on the simulated market instead. Lines are commands
with or without the slash; charts are saved to a temporary PNG whose path is printed. History
is kept in ``~/.hedgewatch_history`` (``$HEDGEWATCH_HISTORY``), except lines that may hold an
API key (``/connect okx KEY ...``). EOF, ``quit`` or ``exit`` end it with exit code 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from chat.cli import parse_at, services_from_runtime, unreachable, with_cli_overrides
from chat.commands.accounts import as_key_line, holds_secret, key_words
from chat.context import LOCAL_USER_ID, CommandContext
from chat.dispatch import Dispatcher
from chat.render_text import render, save_chart, save_document
from i18n import LANGUAGES, N_, _, current_language, normalize, use
from plugins.exchanges.errors import MarketError, SourceUnavailable
from settings.logs import mask_key_words
from storage import chats

PROMPT = "hedgewatch> "
BANNER = N_("hedgewatch console — commands as in chat (/help lists them); quit or Ctrl-D to "
            "leave.\nhedgewatch advises; it never places an order.")
QUIT = {"quit", "exit", "/quit", "/exit", "q"}


def _history() -> None:
    """Readline line editing and a history file, when the console is interactive."""
    try:
        import atexit
        import readline
    except ImportError:  # e.g. Windows without pyreadline
        return
    path = Path(os.environ.get("HEDGEWATCH_HISTORY", Path.home() / ".hedgewatch_history"))
    with contextlib.suppress(OSError):
        readline.read_history_file(path)
    readline.set_history_length(1000)
    atexit.register(lambda: _save_history(readline, path))


def _save_history(readline: Any, path: Path) -> None:
    with contextlib.suppress(OSError):
        readline.write_history_file(path)


def _forget(line: str) -> None:
    """A line that may hold an API key (``/connect okx KEY ...``) is masked in the logs and
    taken out of the readline history, so the history file never holds it."""
    if holds_secret(line):
        mask_key_words(key_words(line))
        _drop_from_history(line)


def _drop_from_history(line: str) -> None:
    """Take ``line`` out of the readline history (its latest entry: the one just typed)."""
    try:
        import readline
    except ImportError:
        return
    for pos in range(readline.get_current_history_length(), 0, -1):
        if readline.get_history_item(pos) == line.rstrip("\n"):
            readline.remove_history_item(pos - 1)  # 1-based to read, 0-based to remove
            return


def _as_key(text: str, ctx: CommandContext, dispatcher: Dispatcher) -> str:
    """A line typed while a ``/connect`` waits for the key is that key: masked in the logs,
    out of the history, and connected (``/connect <exchange> KEY ...``)."""
    line = as_key_line(ctx.services.db, ctx.user_id, ctx.services.now_ms(), text,
                       dispatcher.commands)
    if line is None:
        return text
    mask_key_words(key_words(line))
    _drop_from_history(text)
    return line


def _lines(stdin: TextIO | None) -> Iterator[str]:
    if stdin is not None:
        yield from stdin
        return
    while True:
        try:
            line = input(PROMPT)
        except EOFError:
            print()
            return
        _forget(line)
        yield line


def console_language(services: Any, flag: str | None) -> str:
    """The console answers in ``--lang`` when given, else in the language /lang chose for
    it, else in the one the process started with (``LANG``)."""
    if flag and normalize(flag):
        return str(normalize(flag))
    chosen = chats.get_settings(services.db, LOCAL_USER_ID).extra.get(chats.LANG)
    return str(chosen) if chosen in LANGUAGES else current_language()


def run_console(rt: Any, stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    """Read commands until EOF or quit; print each reply. Returns the exit code (0)."""
    out = out or sys.stdout
    interactive = stdin is None and sys.stdin.isatty()
    if interactive:
        _history()
    dispatcher = Dispatcher(rt.commands)
    with asyncio.Runner() as runner:
        try:  # --exchange / --data / --at, as the one-shot CLI takes them
            at_ms = parse_at(getattr(rt.args, "at", None))
            rt = with_cli_overrides(rt)
            services = services_from_runtime(rt, at_ms)
            services.market  # noqa: B018 - fail now, not on the first command
        except Exception as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        try:  # reach the exchange once now: no network gives one line, not a traceback
            runner.run(services.instruments())
        except SourceUnavailable as e:
            print(unreachable(rt, e), file=sys.stderr)
            runner.run(services.close())
            return 1
        except MarketError:  # e.g. the sim's clock: the commands will say
            pass
        ctx = CommandContext.local(services)
        print(_(BANNER), file=out, flush=True)
        try:
            for line in _lines(stdin if stdin is not None else
                               (None if interactive else sys.stdin)):
                text = line.strip()
                if not text:
                    continue
                if text.lower() in QUIT:
                    break
                with use(console_language(services, getattr(rt.args, "lang", None))):
                    reply = runner.run(dispatcher.handle(_as_key(text, ctx, dispatcher), ctx))
                    if reply is None:
                        continue
                    print(render(reply), file=out, flush=True)
                    if reply.document is not None:
                        print(_("[file saved to {path}]").format(path=save_document(reply)),
                              file=out, flush=True)
                    if reply.ok and reply.chart is not None:
                        try:
                            path = save_chart(reply)
                            print(_("[chart saved to {path}]").format(path=path), file=out,
                                  flush=True)
                        except Exception as e:  # a chart failure must not end the session
                            print(_("[no chart: {error}]").format(
                                error=f"{type(e).__name__}: {e}"), file=out, flush=True)
        except KeyboardInterrupt:
            print(file=out)
        finally:
            runner.run(services.close())
    return 0


async def serve_console(services: Any, commands: list[Any], stop: asyncio.Event,
                        out: TextIO | None = None) -> None:
    """The console inside ``bot.py run`` (no Telegram token): lines are read by a daemon
    thread (so a pending ``input()`` never holds up shutdown) and answered on the service's
    loop with its services. quit or Ctrl-D stops the service."""
    import threading

    out = out or sys.stdout
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str | None] = asyncio.Queue()

    def read() -> None:
        for line in _lines(None):
            loop.call_soon_threadsafe(lines.put_nowait, line)
        loop.call_soon_threadsafe(lines.put_nowait, None)

    _history()
    threading.Thread(target=read, name="console-input", daemon=True).start()
    dispatcher = Dispatcher(commands)
    ctx = CommandContext.local(services)
    print(_(BANNER), file=out, flush=True)
    while not stop.is_set():
        line = await lines.get()
        if line is None or line.strip().lower() in QUIT:
            stop.set()
            return
        if not line.strip():
            continue
        with use(console_language(services, None)):
            reply = await dispatcher.handle(_as_key(line.strip(), ctx, dispatcher), ctx)
            if reply is not None:
                print(render(reply), file=out, flush=True)
                if reply.document is not None:
                    print(_("[file saved to {path}]").format(path=save_document(reply)),
                          file=out, flush=True)
