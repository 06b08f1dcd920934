"""Secrets never reach the logs: messages, arguments, URLs and tracebacks are masked."""

from __future__ import annotations

import io
import logging

from settings.logs import setup_logging
from settings.secrets import Secrets

TOKEN = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"


def test_secret_values_are_masked_everywhere():
    secrets = Secrets.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, "OKX_API_KEY": "okx-key-0001",
                                "OKX_API_SECRET": "okx-secret-0002"})
    stream = io.StringIO()
    setup_logging("DEBUG", secrets.values(), stream=stream)
    log = logging.getLogger("test.secrets")
    log.info("POST https://api.telegram.org/bot%s/sendMessage", TOKEN)
    log.warning("key %s secret %s", "okx-key-0001", "okx-secret-0002")
    try:
        raise RuntimeError(f"auth failed for {TOKEN}")
    except RuntimeError:
        log.exception("boom")
    out = stream.getvalue()
    assert TOKEN not in out and "okx-key-0001" not in out and "okx-secret-0002" not in out
    assert out.count("***") >= 4
    assert "RuntimeError" in out  # the traceback itself is kept


def test_secrets_repr_never_shows_values():
    s = Secrets.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, "OKX_API_KEY": "k1234",
                          "OKX_API_SECRET": "s1234"})
    assert TOKEN not in repr(s) and "k1234" not in repr(s.exchanges)


def test_httpx_is_quieted():
    setup_logging("DEBUG", [], stream=io.StringIO())
    assert logging.getLogger("httpx").level == logging.WARNING
