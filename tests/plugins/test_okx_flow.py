"""The cascade score's flow inputs from OKX's public endpoints, through real ccxt against the
fake OKX server: liquidation orders, taker volume, open-interest history, mark-price candles;
each with its rate limit and its empty answer, and the one-minute watch's round."""

from __future__ import annotations

import asyncio

import aiohttp
import numpy as np
import pytest

from core.liquidation import trigger_range
from plugins.exchanges.ccxt_market import OkxMarket
from storage import market_stats as stats
from tests.fakes.okx_config import BASES
from tests.fakes.okx_flow_routes import FLOW_LIMITS
from tests.fakes.okx_server import FakeOkx

TF = 900_000
BTC = "BTC-USDT-SWAP"
ENDPOINTS = {  # the plugin's limiter name → the fake's path
    "liquidation-orders": "/api/v5/public/liquidation-orders",
    "taker-volume": "/api/v5/rubik/stat/taker-volume-contract",
    "open-interest-history": "/api/v5/rubik/stat/contracts/open-interest-history",
    "mark-price-candles": "/api/v5/market/mark-price-candles",
    "history-mark-price-candles": "/api/v5/market/history-mark-price-candles",
}


def expected_liquidations(okx: FakeOkx, base: str, until: int, window: int) -> float:
    """What the fake liquidated in ``(until − window, until]``: one order at :30 a minute."""
    return sum(okx.market.liquidated_usdt(base, m) for m in
               range((until - window) // 60_000 * 60_000, until, 60_000)
               if until - window < m + 30_000 <= until)


async def test_liquidations_are_summed_over_the_bar_and_paged_back(market, okx):
    await market.load_instruments()
    now = okx.now_ms
    liq = await market.fetch_liquidation_window("BTC", now, TF)
    assert liq.orders == 15 and liq.short_usdt == 0
    assert liq.long_usdt == pytest.approx(expected_liquidations(okx, "BTC", now, TF), rel=1e-6)
    okx.log.clear()
    three_hours = await market.fetch_liquidation_window("BTC", now, 12 * TF)  # 180 orders
    pages = okx.requests("liquidation-orders")
    assert len(pages) == 2 and "after" in pages[1].params
    assert {r.params["instFamily"] for r in pages} == {"BTC-USDT"}
    assert three_hours.orders == 180
    assert three_hours.total == pytest.approx(
        expected_liquidations(okx, "BTC", now, 12 * TF), rel=1e-6)


async def test_a_selloff_floods_liquidations_taker_selling_and_the_basis(market, okx):
    calm = await market.snapshot(bars=20)
    okx.market.selloff("BTC", okx.now_ms, 0.2, 4 * TF)
    okx.advance(TF)
    hot = await market.snapshot(bars=20)
    for snap, share, basis in ((calm, (0.45, 0.55), -2e-4), (hot, (0.7, 0.8), -2e-3)):
        assert share[0] < snap.taker[BTC].last < share[1]
        assert snap.basis[BTC].last * (1 if basis < -1e-3 else -1) < basis * (
            1 if basis < -1e-3 else -1)
    assert hot.liquidations[BTC].last > 100 * calm.liquidations[BTC].last
    # samples are stamped with the close of the bar the cycle evaluates
    assert hot.liquidations[BTC].times[-1] == hot.as_of_ms == hot.last_bar_close_ms
    row = stats.read_series(market.db, "okx", BTC, stats.LIQUIDATIONS)
    assert len(row[0]) == 2


async def test_open_interest_history_fills_the_first_day_once(market, okx):
    first = await market.snapshot(bars=20)
    oi = first.open_interest[BTC]
    assert len(oi) > 90 and np.all(np.diff(oi.times) > 0)  # 5-minute history, then the sample
    assert oi.times[-1] == first.as_of_ms and np.isfinite(oi.values).all()
    assert okx.count("open-interest-history", "BTC") == 1
    okx.advance(TF)
    await market.snapshot(bars=20)
    assert okx.count("open-interest-history", "BTC") == 1  # the history is there now


async def test_mark_candles_are_kept_short_and_current(market, okx):
    snap = await market.snapshot(bars=200)
    marks = okx.requests("mark-price-candles", "BTC")
    assert len(marks) == 1 and int(marks[0].params["limit"]) == 8  # only what the basis needs
    assert len(snap.basis[BTC]) == 8
    assert snap.basis[BTC].times[-1] == snap.last_bar_close_ms
    # the same bars' mark low and high, which liquidations are judged on (jobs.trade_truth):
    # the fake's mark is its last price times (1 + its basis), bar by bar
    j = snap.index(BTC)
    low, high, on_mark = trigger_range(snap, j)
    assert on_mark.tolist() == [False] * (snap.n_bars - 8) + [True] * 8
    opens = snap.times[-8:]
    k = np.array([1 + okx.market.mark_basis("BTC", int(t) + TF - 1) for t in opens])
    np.testing.assert_allclose(low[-8:], snap.low[-8:, j] * k, rtol=1e-7)
    np.testing.assert_allclose(high[-8:], snap.high[-8:, j] * k, rtol=1e-7)
    np.testing.assert_array_equal(snap.mark_low[BTC].times, opens + TF)
    okx.advance(TF)
    okx.log.clear()
    await market.snapshot(bars=200)
    (req,) = okx.requests("mark-price-candles", "BTC")
    assert int(req.params["limit"]) == 1


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_the_plugin_and_the_fake_know_the_same_limits(name):
    requests, per_symbol = FLOW_LIMITS[ENDPOINTS[name]]
    limit = OkxMarket.limits[name]
    assert (limit.requests, limit.period_s, limit.per_symbol) == (requests, 2.0, per_symbol)


@pytest.mark.parametrize("path", sorted(FLOW_LIMITS))
async def test_the_fake_enforces_each_documented_limit(okx, path):
    requests, _ = FLOW_LIMITS[path]
    query = {"instType": "SWAP", "instFamily": "BTC-USDT", "instId": BTC, "bar": "15m",
             "state": "filled"}
    async with aiohttp.ClientSession() as http:
        codes = [(await http.get(okx.url + path, params=query)).status
                 for _ in range(requests + 1)]
    assert codes[:requests] == [200] * requests and codes[-1] == 429


async def test_a_burst_on_the_tightest_endpoint_stays_under_its_limit(market, okx):
    await market.load_instruments()
    shares = await asyncio.gather(*(market.fetch_taker(s, okx.now_ms)
                                    for s in [*BASES, *BASES]))  # 8 requests, 5 per 2 s
    assert all(0.4 < s < 0.6 for s in shares)
    assert okx.count("taker-volume-contract", status=429) == 0


@pytest.mark.parametrize("name,call", [
    ("liquidation-orders", lambda m, now: m.fetch_liquidation_window("BTC", now, TF)),
    ("taker-volume", lambda m, now: m.fetch_taker("BTC", now)),
    ("open-interest-history",
     lambda m, now: m.fetch_open_interest_history("BTC", now - 8 * 3_600_000, now)),
])
async def test_a_rate_limit_answer_is_retried(market, okx, name, call):
    await market.load_instruments()
    okx.fault("ratelimited", ENDPOINTS[name].rsplit("/api/v5/", 1)[1], "BTC", times=1)
    got = await call(market, okx.now_ms)
    assert got is not None
    assert okx.count(ENDPOINTS[name].rsplit("/", 1)[1], status=429) == 1
    assert market.health().retries == 1


async def test_empty_answers_mean_nothing_happened_or_nothing_known(market, okx):
    await market.load_instruments()
    now = okx.now_ms
    okx.fault("empty", "public/liquidation-orders")
    liq = await market.fetch_liquidation_window("BTC", now, TF)
    assert (liq.total, liq.orders) == (0.0, 0)  # no liquidations is an answer
    okx.fault("empty", "rubik/stat/taker-volume-contract")
    assert await market.fetch_taker("BTC", now) is None  # no buckets: no sample
    okx.fault("empty", "rubik/stat/contracts/open-interest-history")
    hist = await market.fetch_open_interest_history("BTC", now - 3_600_000, now)
    assert len(hist) == 0
    okx.fault("empty", "market/mark-price-candles")
    snap = await market.snapshot(bars=20)
    assert not snap.missing and len(snap.taker) == 4
    assert all(len(s) == 0 for s in snap.basis.values())  # the basis is left out
    assert len(snap.taker[BTC]) == 0 and len(snap.liquidations[BTC]) == 1
    assert snap.liquidations[BTC].last == 0.0
    assert market.health().endpoints["mark-price-candles"].errors > 0


async def test_the_watch_samples_only_what_moves_stamped_with_the_exchange_clock(market, okx):
    await market.snapshot(bars=20)  # a cycle: every symbol's samples at the bar close
    okx.advance(3 * 60_000 + 7_000)
    okx.log.clear()
    watch = await market.watch_snapshot(["BTC"], bars=20)
    paths = {r.path.rsplit("/", 1)[1] for r in okx.log}
    assert paths == {"time", "books", "liquidation-orders", "taker-volume-contract",
                     "open-interest"}  # no candles (none closed since), funding or marks
    assert watch.as_of_ms == okx.now_ms and watch.symbols == (BTC,)
    assert watch.depth[BTC].times[-1] == okx.now_ms
    eth = watch.depth["ETH-USDT-SWAP"]  # the cycle's sample of the rest is read too
    assert len(eth) == 1 and eth.times[-1] < okx.now_ms
