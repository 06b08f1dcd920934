"""Faults from the exchange: each leaves the cycle complete and the affected symbol missing."""

from __future__ import annotations

import numpy as np
import pytest

from plugins.exchanges.ccxt_market import OkxMarket
from plugins.exchanges.errors import SourceUnavailable
from settings.config import ExchangeConfig
from storage.database import open_database
from tests.fakes.okx_server import FakeOkx

TF = 900_000
BASES = ["BTC", "ETH", "SOL"]


@pytest.fixture
async def okx():
    async with FakeOkx(bases=BASES) as srv:
        yield srv


@pytest.fixture
async def market(okx, tmp_path):
    cfg = ExchangeConfig.model_validate({"api_url": okx.url, "symbols": BASES,
                                         "timeout": "300ms", "max_retries": 2})
    m = OkxMarket(cfg, storage=open_database(tmp_path / "hw.db"), backoff_s=0.005, seed=1)
    yield m
    await m.close()


def assert_clean(snap, missing: set[str]) -> None:
    assert set(snap.missing) == missing
    for s in snap.symbols:
        if s in missing:
            continue
        col = snap.index(s)
        assert snap.valid[:, col].all()
        assert np.isfinite(snap.close[:, col]).all()
    assert not np.isnan(snap.close[snap.valid]).any()


@pytest.mark.parametrize("kind", ["unavailable", "error", "timeout", "malformed", "drop",
                                  "empty", "nulls", "badsymbol"])
async def test_persistent_fault_on_first_backfill_marks_the_symbol_missing(market, okx, kind):
    okx.fault(kind, "market/candles", "ETH", delay_s=1.0)
    snap = await market.snapshot(bars=40)
    assert_clean(snap, {"ETH-USDT-SWAP"})
    assert snap.missing["ETH-USDT-SWAP"]
    assert not snap.valid[:, snap.index("ETH-USDT-SWAP")].any()


@pytest.mark.parametrize("kind", ["unavailable", "timeout", "malformed", "nulls"])
async def test_fault_in_a_later_cycle_keeps_cached_bars_but_flags_the_symbol(market, okx, kind):
    await market.snapshot(bars=40)
    okx.advance(2 * TF)
    okx.fault(kind, "market/candles", "SOL", delay_s=1.0)
    snap = await market.snapshot(bars=40)
    assert_clean(snap, {"SOL-USDT-SWAP"})
    col = snap.index("SOL-USDT-SWAP")
    assert snap.valid[:-2, col].all() and not snap.valid[-2:, col].any()


@pytest.mark.parametrize("kind", ["unavailable", "error", "timeout", "drop", "malformed"])
async def test_one_transient_fault_is_retried_away(market, okx, kind):
    okx.fault(kind, "market/candles", "BTC", times=1, delay_s=1.0)
    snap = await market.snapshot(bars=40)
    assert_clean(snap, set())
    assert okx.count("market/candles", "BTC") == 2
    # aiohttp itself resends a request whose kept-alive connection was dropped
    # at least the one retry (on a loaded machine other requests may time out and retry too)
    assert market.health().retries >= (0 if kind == "drop" else 1)


async def test_bad_symbol_is_not_retried(market, okx):
    okx.fault("badsymbol", "market/candles", "BTC")
    await market.snapshot(bars=40)
    assert okx.count("market/candles", "BTC") == 1


async def test_rate_limit_answers_are_retried(market, okx):
    await market.load_instruments()
    okx.enforce_limits = True
    for _ in range(10):  # fill OKX's per-instrument funding window behind the plugin's back
        okx._limited("/api/v5/public/funding-rate", {"instId": "BTC-USDT-SWAP"})
    market.policy = type(market.policy)(attempts=6, base_s=0.3)
    f = await market.fetch_funding("BTC")
    assert f.rate == pytest.approx(f.rate) and np.isfinite(f.rate)
    assert okx.count("funding-rate", "BTC", status=429) >= 1
    assert market.health().retries >= 1


@pytest.mark.parametrize("endpoint", ["market/books", "public/funding-rate",
                                      "public/open-interest"])
@pytest.mark.parametrize("kind", ["unavailable", "nulls", "malformed", "empty"])
async def test_faults_in_side_data_leave_prices_and_history_intact(market, okx, endpoint, kind):
    first = (await market.snapshot(bars=20)).as_of_ms
    okx.advance(TF)
    okx.fault(kind, endpoint, "BTC")
    snap = await market.snapshot(bars=20)
    assert_clean(snap, set())  # prices are fine; the side series just lacks a fresh point
    btc = "BTC-USDT-SWAP"
    oi = snap.open_interest[btc].times  # the first cycle also backfilled 5-minute history
    sizes = {"market/books": len(snap.depth[btc]), "public/funding-rate": len(snap.funding[btc]),
             "public/open-interest": int((oi >= first).sum())}
    assert sizes[endpoint] == 1
    assert all(v == 2 for k, v in sizes.items() if k != endpoint)
    assert np.isfinite(snap.open_interest[btc].values).all()
    assert market.health().errors > 0


async def test_direct_fetch_raises_source_unavailable_after_retries(market, okx):
    await market.load_instruments()
    okx.fault("unavailable", "public/open-interest")
    with pytest.raises(SourceUnavailable):
        await market.fetch_open_interest("ETH")
    assert okx.count("open-interest", "ETH") == 3  # max_retries=2 → three tries
