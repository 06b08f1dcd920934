"""A simulated market long enough for the slow window, shared by the strategy tests."""

from __future__ import annotations

import asyncio

import pytest

from core.evaluate import EngineParams
from core.types import MarketSnapshot, Position
from core.views import CorrelationParams
from plugins.exchanges.sim_market import SimMarket
from settings import Config

PARAMS = EngineParams(corr=CorrelationParams(fast=96, slow=960, halflife=24.0, min_fast=77,
                                             min_slow=768, min_ewma=77))


def sim(seed: int = 7, bars: int = 1600) -> MarketSnapshot:
    market = SimMarket(Config().exchange.model_copy(update={"name": "sim", "seed": seed}))

    async def go():
        await market.load_instruments()
        return await market.snapshot(bars=bars)

    return asyncio.run(go())


@pytest.fixture(scope="package")
def market() -> MarketSnapshot:
    return sim()


@pytest.fixture
def position(market) -> Position:
    return Position("SOL-USDT-SWAP", "long", 100.0, float(market.close[1000, 2]), 10)
