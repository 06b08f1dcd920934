"""Binance USDT-M through real ccxt against a fake fapi server with the documented shapes."""

from __future__ import annotations

import pytest

from plugins.exchanges.ccxt_market import BinanceMarket, BybitMarket
from settings.config import ExchangeConfig
from tests.fakes.binance_bybit import FakeBinance

TF = 900_000


@pytest.fixture
async def binance():
    async with FakeBinance() as srv:
        m = BinanceMarket(ExchangeConfig.model_validate(
            {"api_url": srv.url, "symbols": ["BTC", "ETH"], "timeout": "2s", "max_retries": 1}),
            backoff_s=0.01)
        yield srv, m
        await m.close()


async def test_binance_instruments_and_symbols(binance):
    _srv, m = binance
    inst = await m.load_instruments()
    assert set(inst) == {"BTCUSDT", "ETHUSDT"}
    assert m.resolve("btc") == m.resolve("BTC/USDT:USDT") == "BTCUSDT"


async def test_binance_candles_funding_open_interest(binance):
    srv, m = binance
    snap = await m.snapshot(bars=50)
    assert not snap.missing and snap.valid.all() and snap.n_bars == 50
    assert snap.times[-1] + TF <= srv.now_ms
    assert snap.funding["BTCUSDT"].last == pytest.approx(0.0001)
    px = snap.last_price("BTCUSDT")
    assert snap.open_interest["BTCUSDT"].last == pytest.approx(1234.5 * px)
    assert snap.depth["ETHUSDT"].bid[0, 2] > 0
    n = sum(1 for name, _ in srv.log if name == "klines")
    srv.now_ms += TF
    await m.snapshot(bars=50)
    assert sum(1 for name, _ in srv.log if name == "klines") == n + 2  # one per symbol


def test_bybit_points_every_rest_url_at_api_url():
    m = BybitMarket(ExchangeConfig.model_validate({"api_url": "http://127.0.0.1:9"}))
    urls = m.exchange.urls["api"]
    assert urls and all(str(u).startswith("http://127.0.0.1:9") for u in urls.values())
