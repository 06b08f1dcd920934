"""One logging set-up for every entry point, with secrets masked wherever they appear."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import TextIO

MASK = "***"
QUIET = ("httpx", "httpcore", "apscheduler", "telegram.ext.Updater", "ccxt")
_REGISTERED: set[str] = set()  # secrets learnt while running (users' exchange keys)


class SecretMaskingFormatter(logging.Formatter):
    """Formats as usual, then replaces every secret value in the whole text, tracebacks too.

    Masking the finished text (not ``record.msg``) also catches secrets inside arguments,
    exception messages and URLs such as ``/bot<TOKEN>/sendMessage``.
    """

    def __init__(self, fmt: str, secrets: Iterable[str] = ()) -> None:
        super().__init__(fmt)
        self.secrets: list[str] = []
        self.add(secrets)
        self.add(_REGISTERED)

    def add(self, secrets: Iterable[str]) -> None:
        """Mask these too from now on."""
        known = set(self.secrets) | {s for s in secrets if s and len(s) >= 4}
        self.secrets = sorted(known, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text


def mask_secrets(*values: str) -> None:
    """Mask ``values`` in every log line from now on, in every handler set up here (a user's
    exchange key, registered when it is received or loaded)."""
    new = {v for v in values if v and len(v) >= 4}
    _REGISTERED.update(new)
    for handler in logging.getLogger().handlers:
        if isinstance(handler.formatter, SecretMaskingFormatter):
            handler.formatter.add(new)


KEY_WORD_MIN = 8  # every exchange's API key, secret and passphrase is at least this long


def mask_key_words(words: Iterable[str]) -> None:
    """Mask what a user typed as an API key (``/connect okx KEY SECRET PASSPHRASE``): its
    words of ``KEY_WORD_MIN`` characters or more — shorter ones are not key material, and
    masking ordinary words would blind the logs."""
    mask_secrets(*(w for w in words if len(w) >= KEY_WORD_MIN))


def setup_logging(level: str = "INFO", secrets: Iterable[str] = (), *,
                  stream: TextIO | None = None, verbose: int = 0) -> logging.Handler:
    """Configure the root logger once; ``-v`` lowers the level to DEBUG.

    Third-party chatter (httpx logs every Bot API call at INFO, with the token in the URL) is
    kept at WARNING, and python-telegram-bot's at INFO at most: its DEBUG lines carry what
    users write, API keys sent to ``/connect`` included.
    """
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_hedgewatch", False):
            root.removeHandler(h)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler._hedgewatch = True  # type: ignore[attr-defined]
    handler.setFormatter(SecretMaskingFormatter(
        "%(asctime)s %(levelname)-7s %(name)s: %(message)s", secrets))
    root.addHandler(handler)
    root.setLevel("DEBUG" if verbose else level)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    # python-telegram-bot's DEBUG lines repeat every update and every reply in full — a
    # user's message holding an API key included — so they stay off even with -v
    logging.getLogger("telegram").setLevel(max(logging.INFO, root.level))
    return handler
