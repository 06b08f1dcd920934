"""The SQLite candle cache behind the OKX plugin: resume, incremental fetch, gap refill."""

from __future__ import annotations

import numpy as np
import pytest

from plugins.exchanges.candle_sync import plan_pages
from plugins.exchanges.ccxt_market import OkxMarket
from settings.config import ExchangeConfig
from storage.candles import delete_candles, read_candles
from storage.database import open_database
from tests.fakes.okx_server import FakeOkx

TF = 900_000
BASES = ["BTC", "ETH"]


@pytest.fixture
async def okx():
    async with FakeOkx(bases=BASES) as srv:
        yield srv


def make(okx: FakeOkx, path) -> OkxMarket:
    cfg = ExchangeConfig.model_validate({"api_url": okx.url, "symbols": BASES,
                                         "timeout": "1s", "max_retries": 1})
    return OkxMarket(cfg, storage=open_database(path), backoff_s=0.005)


async def test_restart_resumes_from_the_cache(okx, tmp_path):
    m = make(okx, tmp_path / "hw.db")
    first = await m.snapshot(bars=500)
    await m.close()
    okx.log.clear()
    okx.advance(2 * TF)
    m2 = make(okx, tmp_path / "hw.db")  # a new process on the same file
    try:
        snap = await m2.snapshot(bars=500)
    finally:
        await m2.close()
    assert okx.count("candles") == 2  # one small request per symbol
    assert all(int(r.params["limit"]) == 2 for r in okx.requests("candles"))
    np.testing.assert_array_equal(snap.close[:-2], first.close[2:])
    assert snap.valid.all()


async def test_same_bar_twice_asks_nothing(okx, tmp_path):
    m = make(okx, tmp_path / "hw.db")
    try:
        await m.snapshot(bars=50)
        okx.log.clear()
        await m.snapshot(bars=50)
    finally:
        await m.close()
    assert okx.count("candles") == 0


async def test_deleted_rows_are_refilled(okx, tmp_path):
    m = make(okx, tmp_path / "hw.db")
    try:
        snap = await m.snapshot(bars=100)
        hole = [int(t) for t in snap.times[40:45]]
        delete_candles(m.db, "okx", "BTC-USDT-SWAP", "15m", hole)
        okx.log.clear()
        again = await m.snapshot(bars=100)
    finally:
        await m.close()
    (req,) = okx.requests("candles", "BTC")
    assert int(req.params["before"]) == hole[0] - 1 and int(req.params["limit"]) == 5
    np.testing.assert_array_equal(again.close, snap.close)


async def test_exchange_gap_is_asked_again_then_filled(okx, tmp_path):
    okx.gap("ETH", [okx.now_ms - 10 * TF, okx.now_ms - 9 * TF])
    m = make(okx, tmp_path / "hw.db")
    try:
        snap = await m.snapshot(bars=30)
        col = snap.index("ETH-USDT-SWAP")
        assert (~snap.valid[:, col]).sum() == 2 and not snap.missing  # a gap, not a failure
        okx.fill_gaps()
        okx.log.clear()
        snap = await m.snapshot(bars=30)
    finally:
        await m.close()
    assert okx.count("candles", "ETH") == 1
    assert snap.valid.all()


async def test_unfillable_gap_stops_being_asked_for(okx, tmp_path):
    okx.gap("BTC", [okx.now_ms - 10 * TF])
    m = make(okx, tmp_path / "hw.db")
    try:
        for _ in range(5):
            await m.snapshot(bars=30)
    finally:
        await m.close()
    assert okx.count("candles", "BTC") == 3  # first backfill + two more tries


async def test_at_ms_reads_the_past_from_the_cache(okx, tmp_path):
    m = make(okx, tmp_path / "hw.db")
    try:
        now = await m.snapshot(bars=200)
        past = await m.snapshot(bars=50, at_ms=okx.now_ms - 20 * TF)
    finally:
        await m.close()
    assert past.times[-1] == now.times[-21]
    np.testing.assert_array_equal(past.close, now.close[-70:-20])


def test_plan_pages_newest_first_and_skips_known_gaps():
    stored = np.array([0, TF, 2 * TF, 5 * TF], dtype=np.int64)
    pages = plan_pages(stored, 0, 700 * TF, TF)
    assert [p.since_ms for p in pages] == [400 * TF, 100 * TF, 6 * TF, 3 * TF]
    assert pages[0].tail and not any(p.tail for p in pages[1:])
    assert sum(p.count for p in pages) == 700 - 4
    assert plan_pages(stored, 0, 6 * TF, TF, skip={3 * TF, 4 * TF}) == []


async def test_candles_survive_in_sqlite(okx, tmp_path):
    m = make(okx, tmp_path / "hw.db")
    try:
        snap = await m.snapshot(bars=20)
    finally:
        await m.close()
    times, ohlcv = read_candles(open_database(tmp_path / "hw.db"), "okx", "ETH-USDT-SWAP", "15m")
    assert times[-1] == snap.times[-1] and ohlcv.shape[1] == 5
