"""The fixtures of the fake servers' own tests: a fake Telegram and a PTB application on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram.ext import Application

from tests.fakes.telegram_ptb import make_app
from tests.fakes.telegram_server import FakeTelegram, FloodControl


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    """A fake with flood control off; flood tests switch it on with ``set_flood``."""
    async with FakeTelegram(flood=FloodControl(enabled=False)) as server:
        yield server


@pytest.fixture
async def app(tg: FakeTelegram) -> AsyncIterator[Application]:
    application = make_app(tg)
    async with application:
        yield application
