"""Binance USDT-M and Bybit v5 linear through real ccxt, against fake servers that answer in
the exchanges' documented shapes."""

from __future__ import annotations

import numpy as np
import pytest

from plugins.exchanges.ccxt_market import BinanceMarket, BybitMarket
from settings.config import ExchangeConfig
from tests.fakes.binance_bybit import FUNDING_MS, FakeBinance, FakeBybit

TF = 900_000
HOUR = 3_600_000


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


# --- Bybit v5 (category linear) ----------------------------------------------------------------


def bybit_market(srv: FakeBybit, symbols: tuple[str, ...] | str = ("BTC", "ETH")) -> BybitMarket:
    syms = symbols if isinstance(symbols, str) else list(symbols)
    return BybitMarket(ExchangeConfig.model_validate(
        {"api_url": srv.url, "symbols": syms, "timeout": "2s", "max_retries": 1}),
        backoff_s=0.01)


@pytest.fixture
async def bybit():
    async with FakeBybit() as srv:
        m = bybit_market(srv)
        yield srv, m
        await m.close()


def served(srv: FakeBybit, base: str, times: np.ndarray) -> np.ndarray:
    """The (n, 5) OHLCV the fake serves for those bars (Bybit linear volume is in coins)."""
    rows = srv.market.candles(base, TF, times, srv.now_ms)
    return np.array([[float(r[i]) for i in (1, 2, 3, 4, 6)] for r in rows])


async def test_bybit_instruments_keep_usdt_perpetuals_and_resolve_every_spelling(bybit):
    srv, m = bybit
    inst = await m.load_instruments()
    assert set(inst) == {"BTCUSDT", "ETHUSDT"}  # not BTCPERP (USDC) nor the dated future
    btc = inst["BTCUSDT"]
    assert (btc.contract_value, btc.tick_size, btc.max_leverage) == (1.0, 0.1, 100.0)
    assert inst["ETHUSDT"].tick_size == 0.01
    for text in ("BTC", "btc", "BTCUSDT", "BTC/USDT:USDT", " btc/usdt:usdt "):
        assert m.resolve(text) == "BTCUSDT", text
    # only the public instruments endpoint (trading and pre-launch), no private currencies call
    assert [n for n, _ in srv.log] == ["instruments-info", "instruments-info"]
    assert all(p["category"] == "linear" for _n, p in srv.log)


async def test_bybit_candles_are_closed_ascending_and_as_served(bybit):
    srv, m = bybit
    srv.now_ms += TF // 3  # mid-bar: Bybit's kline includes the bar still open
    await m.load_instruments()
    c = await m.fetch_ohlcv("btc", limit=30)
    assert len(c) == 30 and np.all(np.diff(c.times) == TF)
    assert c.times[-1] + TF <= srv.now_ms < c.times[-1] + 2 * TF  # newest closed bar, no more
    got = np.column_stack([c.open, c.high, c.low, c.close, c.volume])
    np.testing.assert_array_equal(got, served(srv, "BTC", c.times))
    (_n, params), = [e for e in srv.log if e[0] == "kline"]
    assert (params["symbol"], params["interval"]) == ("BTCUSDT", "15")


async def test_bybit_backfill_pages_forward_from_start(bybit):
    srv, m = bybit
    snap = await m.snapshot(["ETH"], bars=400)  # 400 + 20 margin bars: two pages of 300
    pages = [p for n, p in srv.log if n == "kline"]
    assert len(pages) == 2 and all(p["symbol"] == "ETHUSDT" for p in pages)
    assert snap.n_bars == 400 and snap.valid.all() and np.all(np.diff(snap.times) == TF)
    col = snap.symbols.index("ETHUSDT")
    np.testing.assert_array_equal(snap.close[:, col], served(srv, "ETH", snap.times)[:, 3])


async def test_bybit_funding_current_and_history(bybit):
    srv, m = bybit
    await m.load_instruments()
    f = await m.fetch_funding("BTC")
    assert f.rate == pytest.approx(srv.funding_rate("BTC", srv.now_ms))
    assert f.time_ms == (srv.now_ms // FUNDING_MS + 1) * FUNDING_MS  # when it settles
    assert f.interval_hours == 8.0
    hist = await m.fetch_funding_history("ETH")
    assert len(hist) == 200 and np.all(np.diff(hist.times) == FUNDING_MS)  # newest 200
    assert hist.times[-1] == srv.now_ms // FUNDING_MS * FUNDING_MS
    want = [srv.funding_rate("ETH", int(t)) for t in hist.times]
    np.testing.assert_allclose(hist.values, want, rtol=0, atol=1e-12)
    since = srv.now_ms - 10 * 86_400_000
    recent = await m.fetch_funding_history("ETH", since_ms=since)
    assert recent.times[0] == since and len(recent) == 31
    pages = [e[1] for e in srv.log if e[0] == "funding/history" and "startTime" in e[1]]
    # the first page from `since`, then one more from after its newest row: nothing newer
    assert [int(p["startTime"]) for p in pages] == [since, int(recent.times[-1]) + 1]
    assert int(pages[0]["endTime"]) > srv.now_ms  # ccxt sends the end Bybit requires


async def test_bybit_open_interest_is_coins_valued_at_the_last_close(bybit):
    srv, m = bybit
    await m.load_instruments()
    c = await m.fetch_ohlcv("ETH", limit=5)
    oi = await m.fetch_open_interest("ETH")
    coins = srv.open_interest("ETH", srv.now_ms // HOUR * HOUR)
    assert oi == pytest.approx(coins * c.close[-1])
    (_n, params), = [e for e in srv.log if e[0] == "open-interest"]
    assert params["intervalTime"] == "1h" and params["symbol"] == "ETHUSDT"


async def test_bybit_snapshot_hands_on_no_nan(bybit):
    srv, m = bybit
    snap = await m.snapshot(bars=50)
    assert not snap.missing and snap.valid.all() and snap.n_bars == 50
    assert snap.source == "bybit" and snap.server_time_ms == srv.now_ms
    assert snap.times[-1] + TF <= srv.now_ms
    for arr in (snap.open, snap.high, snap.low, snap.close, snap.volume):
        assert np.isfinite(arr).all()
    for sym, base in (("BTCUSDT", "BTC"), ("ETHUSDT", "ETH")):
        col = snap.symbols.index(sym)
        np.testing.assert_array_equal(snap.close[:, col], served(srv, base, snap.times)[:, 3])
        assert snap.funding[sym].last == pytest.approx(srv.funding_rate(base, srv.now_ms))
        px = snap.last_price(sym)
        assert snap.open_interest[sym].last == pytest.approx(
            srv.open_interest(base, srv.now_ms) * px)  # coins × the fresh close
        d = snap.depth[sym]
        assert len(d) == 1 and np.isfinite(d.total).all() and (d.bid > 0).all()
        for series in (snap.funding[sym], snap.open_interest[sym]):
            assert len(series) == 1 and np.isfinite(series.values).all()
    health = m.health()
    assert health.errors == 0 and health.retries == 0
    book = [p for n, p in srv.log if n == "orderbook"]
    assert book and all(p["limit"] == "500" for p in book)
    n = srv.count("kline")
    srv.now_ms += TF
    snap2 = await m.snapshot(bars=50)
    assert srv.count("kline") == n + 2  # one page per symbol for the one new bar
    assert snap2.times[-1] == snap.times[-1] + TF and len(snap2.funding["BTCUSDT"]) == 2


async def test_bybit_top_n_by_turnover():
    async with FakeBybit(bases=["ETH", "BTC", "SOL"]) as srv:
        m = bybit_market(srv, "top:2")
        try:
            assert await m.symbols() == ["ETHUSDT", "BTCUSDT"]  # the fake ranks by list order
        finally:
            await m.close()
