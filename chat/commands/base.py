"""The Command interface: one class per command, answered once, rendered per front end.

A command is parsed once into a request, answered by a coroutine that returns a ``Reply``
(data, not formatting), and the front ends render it: Telegram HTML, console text, ``--json``.
Adding a command is one class plus one registration::

    from plugins import hookimpl
    from chat.commands.base import ArgumentError, Command, Reply
    from i18n import N_, _

    class Ping(Command):
        name = "ping"
        summary = N_("check that the bot answers")
        usage = N_("/ping [word]")
        examples = ("/ping", "/ping hello")

        def parse(self, args):                  # raise ArgumentError on bad input
            if len(args) > 1:
                raise ArgumentError(_("One word at most, e.g. {example}").format(
                    example=self.example))
            return " ".join(args) or "pong"

        async def answer(self, request, ctx):   # ctx: chat.context.CommandContext
            return Reply(data={"echo": request}, text=[request])

    @hookimpl
    def hedgewatch_register_commands():
        return [Ping()]

The command then works as ``/ping`` in Telegram and the console and as
``python bot.py ping hello [--json]`` on the command line, and is listed by ``/help``.

Rules for ``answer``: it must not block the event loop for long (the market and the database
are reached through ``ctx.services``); it may raise ``ArgumentError`` (shown as the short
message, exit code 2 on the CLI); any other exception is logged with its traceback and the
user gets one apologetic line. ``data`` must be JSON-ready; NaN/inf become ``null``.

Languages (``i18n``): ``summary`` and ``usage`` are class attributes, read before anyone's
language is known, so they are marked with ``N_`` and whoever shows them (``/help``, the
command menus, usage errors, ``bot.py --help``) translates them with ``_()``. Everything
built while parsing or answering is translated at once with ``_()`` (the caller has set the
reader's language): ``ArgumentError`` messages, ``text`` lines, button labels, captions.
``Reply.usage`` and ``Reply.failure`` take text already translated. ``examples`` are command
lines and the keys and values of ``data`` are for ``--json``: neither is translated.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from chat.grammar import ArgumentError
from i18n import _

if TYPE_CHECKING:
    from chat.context import CommandContext

__all__ = ["ArgumentError", "Command", "Document", "Reply", "json_ready"]


@dataclass(frozen=True)
class Document:
    """A file a reply carries (``/export``'s CSV): Telegram sends it as a document, the
    console saves it, the CLI writes it to stdout or ``--output``."""

    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass
class Reply:
    """What a command answers, independent of the front end.

    ``data``     JSON-ready dict (the ``--json`` output); never NaN.
    ``text``     plain text lines (console, and the fallback everywhere).
    ``render``   optional: a function returning console text, used instead of ``text``.
    ``chart``    optional: a function returning PNG bytes, called only by front ends that
                 show images (so ``--json`` and benchmarks don't pay for matplotlib).
    ``caption``  the image's caption.
    ``buttons``  optional rows of (label, command text) the front end may offer as buttons.
    ``document`` optional: a file to send with the text (``Document``).
    ``kind``     "ok", "usage" (a bad argument: CLI exit 2) or "failure" (CLI exit 1).
    ``short``    optional: the first screen (≤ 10 lines, the decision first) of a long
                 answer; the dispatcher shows it instead of ``text`` unless the line ended
                 in ``full``, and sets ``more``.
    ``more``     the command line that gives the whole answer (the "More" button).
    """

    data: dict[str, Any] = field(default_factory=dict)
    text: list[str] = field(default_factory=list)
    render: Callable[[], str] | None = None
    chart: Callable[[], bytes] | None = None
    caption: str | None = None
    buttons: list[list[tuple[str, str]]] = field(default_factory=list)
    document: Document | None = None
    kind: str = "ok"
    short: list[str] | None = None
    more: str | None = None

    @classmethod
    def usage(cls, message: str) -> Reply:
        """A bad argument; ``message`` is already in the reader's language."""
        return cls(data={"error": message}, text=[message], kind="usage")

    @classmethod
    def failure(cls, message: str) -> Reply:
        """We could not answer; ``message`` is already in the reader's language."""
        return cls(data={"error": message}, text=[message], kind="failure")

    @property
    def ok(self) -> bool:
        return self.kind == "ok"

    def as_text(self) -> str:
        """Console text: ``render()`` when given, else the lines."""
        return self.render() if self.render is not None else "\n".join(self.text)


def json_ready(value: Any) -> Any:
    """A copy of ``value`` that ``json.dumps(allow_nan=False)`` accepts: NaN/inf → None."""
    if isinstance(value, Mapping):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return json_ready(value.tolist())
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)


class Command:
    """Base class of every chat command. Subclasses set the attributes and ``answer``.

    ``name``          the word after the slash (lower case, no spaces)
    ``summary``       one line for ``/help`` and ``bot.py --help``; marked ``N_("...")``,
                      shown through ``_()``
    ``usage``         the grammar, e.g. ``/risk <symbol> [side] [size] [@entry] [lev]``;
                      marked ``N_`` and shown through ``_()`` (its words are translated,
                      the command and the literal keywords are kept)
    ``examples``      a few complete command lines (never translated)
    ``private_only``  True when it shows or changes personal data (trade log): refused in groups
    ``admin_only``    True when in groups it changes the group's settings: admins only
    ``operator_only`` True when it shows what only the bot's operator may see (the exchange
                      account behind the bot's keys): refused to anyone else, and left out
                      of their ``/help`` and of Telegram's command menus
    ``expandable``    True when a trailing ``full`` asks for the whole answer: the
                      dispatcher strips it before ``parse`` and shows ``Reply.short``
                      otherwise
    ``holds_secrets`` True when its words may be a secret (``/connect``'s API key): never
                      logged, kept out of the console's history, deleted from Telegram at
                      once, and refused (never answered) in a group
    """

    name: ClassVar[str]
    summary: ClassVar[str] = ""
    usage: ClassVar[str] = ""
    examples: ClassVar[Sequence[str]] = ()
    private_only: ClassVar[bool] = False
    admin_only: ClassVar[bool] = False
    operator_only: ClassVar[bool] = False
    expandable: ClassVar[bool] = False
    holds_secrets: ClassVar[bool] = False

    @property
    def example(self) -> str:
        """The first example, quoted in error messages."""
        return self.examples[0] if self.examples else _(self.usage)

    def parse(self, args: list[str]) -> Any:
        """Turn the words after the command into a request; raise ``ArgumentError``.

        Pure: no market, no database. The default takes no arguments.
        """
        if args:
            raise ArgumentError(_("/{name} takes no arguments, e.g. {example}").format(
                name=self.name, example=self.example))
        return None

    async def answer(self, request: Any, ctx: CommandContext) -> Reply:
        """Answer a parsed request for the user and chat in ``ctx``."""
        raise NotImplementedError

    def details(self, ctx: CommandContext) -> list[str]:
        """Extra lines for ``/help <name>`` that depend on the running bot (e.g. the alert
        kinds plugins added); none by default."""
        return []

    # --- the one-shot CLI (bot.py <name> ARGS) --------------------------------------------

    def add_cli_parser(self, sub: Any, common: argparse.ArgumentParser) -> argparse.ArgumentParser:
        """Add ``bot.py <name>`` with the words as positional args and the shared flags."""
        summary = _(self.summary)  # argparse %-formats help texts: a % is written %%
        p = sub.add_parser(self.name, parents=[common], help=summary.replace("%", "%%"),
                           description=_("{summary}. Usage: {usage}").format(
                               summary=summary, usage=_(self.usage)),
                           epilog=_("examples: {examples}").format(
                               examples="; ".join(self.examples)))
        example = self.examples[0].removeprefix("/" + self.name).strip() or _("(none)")
        p.add_argument("args", nargs="*", metavar="ARG",
                       help=_("as in chat, e.g. {example}").format(
                           example=example.replace("%", "%%")))
        p.add_argument("--json", action="store_true", help=_("print one JSON object"))
        p.add_argument("--exchange", metavar="NAME",
                       help=_("market source (okx, csv, sim, ...)"))
        p.add_argument("--data", metavar="DIR",
                       help=_("folder of CSV files (sets exchange.data_dir)"))
        p.add_argument("--at", metavar="TIME",
                       help=_("replay time: ISO 8601 (UTC) or Unix ms"))
        self.add_cli_options(p)
        return p

    def add_cli_options(self, parser: argparse.ArgumentParser) -> None:
        """Extra CLI-only flags (e.g. ``--mmr``); none by default."""

    def apply_cli_options(self, request: Any, args: argparse.Namespace) -> Any:
        """Fold CLI-only flags into the parsed request; unchanged by default.

        A command whose CLI is not "the chat words plus flags" (``backtest``) defines
        ``run_cli(self, rt) -> int`` instead, returning the exit code; ``chat.cli.run_cli``
        calls it when it is there."""
        return request
