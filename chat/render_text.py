"""Console and CLI text for a Reply (Telegram HTML lives in ``chat.telegram_html``)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from chat.commands.base import Reply
from chat.printable import printable
from i18n import _


def render(reply: Reply) -> str:
    """Plain text: the reply's lines (or its render function), then its buttons as commands;
    control characters a user typed are shown as escapes, never sent to the terminal."""
    text = reply.as_text()
    if reply.more:
        text += "\n[" + _("More: {command}").format(command=reply.more) + "]"
    for row in reply.buttons:
        text += "\n" + "  ".join(f"[{label}: {command}]" for label, command in row)
    return printable(text)


def save_chart(reply: Reply, directory: str | Path | None = None) -> Path | None:
    """Write the reply's chart to a temporary PNG and return its path (None without one)."""
    if reply.chart is None:
        return None
    png = reply.chart()
    with tempfile.NamedTemporaryFile("wb", suffix=".png", prefix="hedgewatch-",
                                     dir=directory, delete=False) as f:
        f.write(png)
    return Path(f.name)


def save_document(reply: Reply, directory: str | Path | None = None) -> Path | None:
    """Write the reply's document (e.g. ``/export``'s CSV) to a new temporary file named
    after it and return its path (None without one)."""
    if reply.document is None:
        return None
    stem, dot, ext = reply.document.filename.rpartition(".")
    with tempfile.NamedTemporaryFile("wb", prefix=(stem or ext) + "-",
                                     suffix=dot + ext if stem else "", dir=directory,
                                     delete=False) as f:
        f.write(reply.document.content)
    return Path(f.name)
