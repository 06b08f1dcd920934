"""``bot.py run`` with exchange keys says at start what they may do: a warning when they can
trade (hedgewatch never does), a quiet note when they only read; the key never reaches the log."""

from __future__ import annotations

import logging

import pytest

from jobs.service import _check_key
from plugins.exchanges.ccxt_market import OkxMarket
from settings.config import ExchangeConfig
from tests.chat.test_account_command import KEY_PARTS, KEYS
from tests.fakes.okx_market import default_bases
from tests.fakes.okx_server import FakeOkx


@pytest.mark.parametrize(("perm", "level", "words"), [
    ("read_only,trade", logging.WARNING, "can TRADE"),
    ("read_only", logging.INFO, "read the account (read only)")])
async def test_start_up_says_what_the_keys_may_do(caplog, perm, level, words):
    async with FakeOkx(bases=default_bases(2)) as okx:
        okx.add_key(*KEY_PARTS)
        okx.account_perm = perm
        ex = ExchangeConfig.model_validate({"api_url": okx.url, "symbols": ["BTC"],
                                            "timeout": "2s", "max_retries": 1})
        market = OkxMarket(ex, secrets=KEYS, backoff_s=0.01)
        try:
            with caplog.at_level(logging.INFO, logger="jobs.service"):
                await _check_key(market)
        finally:
            await market.close()
    said = [r for r in caplog.records if r.name == "jobs.service"]
    assert [r.levelno for r in said] == [level] and words in said[0].getMessage()
    assert not any(k in caplog.text for k in ("hw-key-3f9a", "hw-secret-77c1", "hw-pass-b2d0"))
