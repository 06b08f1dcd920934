"""The fake OKX server and an OKX market on it, shared by the OKX plugin's tests. A module
that needs another set-up (fewer symbols, shorter timeouts) defines its own ``okx`` or
``market``, which then wins over these."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from plugins.exchanges.ccxt_market import OkxMarket
from storage.database import open_database
from tests.fakes.okx_config import config
from tests.fakes.okx_market import default_bases
from tests.fakes.okx_server import FakeOkx


@pytest.fixture
async def okx() -> AsyncIterator[FakeOkx]:
    async with FakeOkx(bases=default_bases(8)) as srv:
        yield srv


@pytest.fixture
async def market(okx: FakeOkx, tmp_path: Path) -> AsyncIterator[OkxMarket]:
    m = OkxMarket(config(okx), storage=open_database(tmp_path / "hw.db"), backoff_s=0.01)
    yield m
    await m.close()
