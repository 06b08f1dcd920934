"""The OKX plugin's settings pointed at a ``FakeOkx``: what the plugin's tests start from
(``tests/plugins/conftest.py`` builds its ``okx`` and ``market`` fixtures on it)."""

from __future__ import annotations

from typing import Any

from settings.config import ExchangeConfig
from tests.fakes.okx_server import FakeOkx

BASES = ["BTC", "ETH", "SOL", "XRP"]  # the configured symbols (the fake lists more)


def config(okx: FakeOkx, **kw: Any) -> ExchangeConfig:
    """``[exchange]`` for ``okx``: ``BASES``, a 2 s timeout, two retries; ``kw`` overrides."""
    return ExchangeConfig.model_validate(
        {"api_url": okx.url, "symbols": BASES, "timeout": "2s", "max_retries": 2, **kw})
