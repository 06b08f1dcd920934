"""The OKX plugin through real ccxt against the fake OKX server on 127.0.0.1."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from plugins.exchanges.ccxt_market import OkxMarket
from plugins.exchanges.errors import NotSupported, UnknownSymbol
from settings.secrets import ExchangeKeys, Secrets
from tests.fakes.okx_config import BASES, config
from tests.fakes.okx_market import default_bases
from tests.fakes.okx_server import FakeOkx

TF = 900_000


async def test_instruments_carry_contract_value_tick_and_leverage(market):
    inst = await market.load_instruments()
    btc = inst["BTC-USDT-SWAP"]
    assert (btc.contract_value, btc.tick_size, btc.max_leverage) == (0.01, 0.1, 100.0)
    assert inst["ETH-USDT-SWAP"].contract_value == 0.1
    assert len(inst) == 8


@pytest.mark.parametrize("text", ["BTC", "btc", "BTC-USDT-SWAP", "BTC/USDT:USDT", "btcusdt"])
async def test_every_spelling_resolves_to_one_instrument(market, text):
    await market.load_instruments()
    assert market.resolve(text) == "BTC-USDT-SWAP"


async def test_unknown_symbol_lists_close_matches(market):
    await market.load_instruments()
    with pytest.raises(UnknownSymbol) as e:
        market.resolve("BTCC")
    assert "BTC-USDT-SWAP" in e.value.matches


async def test_first_backfill_pages_back_then_next_cycle_asks_only_new_bars(market, okx):
    snap = await market.snapshot(["BTC"], bars=1600)
    pages = okx.requests("candles", "BTC")  # "history-candles" ends with "candles" too
    assert len(pages) == 6  # 1600 + 80 margin bars in pages of 300
    # pages reaching past the 1,440 bars the candles endpoint keeps go to history-candles
    assert okx.count("history-candles", "BTC") == 2
    edges = sorted((int(r.params["before"]) + 1, int(r.params["after"])) for r in pages)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(edges))  # no overlap
    assert snap.n_bars == 1600 and snap.valid.all()
    assert snap.times[-1] + TF <= okx.now_ms  # the open bar is not there
    okx.log.clear()
    okx.advance(3 * TF)
    snap2 = await market.snapshot(["BTC"], bars=1600)
    reqs = okx.requests("candles", "BTC")
    assert len(reqs) == 1 and reqs[0].path.endswith("/market/candles")
    assert int(reqs[0].params["before"]) == int(snap.times[-1]) + TF - 1
    assert snap2.times[-1] == snap.times[-1] + 3 * TF


async def test_open_bar_is_never_stored(market, okx):
    okx.advance(TF // 3)  # mid-bar: OKX returns the open bar with confirm "0"
    snap = await market.snapshot(["ETH"], bars=50)
    rows = market.db.execute("select max(ts) from candles").fetchone()
    assert rows[0] + TF <= okx.now_ms
    assert snap.times[-1] == rows[0]


async def test_snapshot_carries_funding_open_interest_and_depth_history(market, okx):
    await market.snapshot(bars=20)
    okx.advance(TF)
    okx.market.depth_scale["BTC"] = 0.25  # liquidity dries up
    snap = await market.snapshot(bars=20)
    d = snap.depth["BTC-USDT-SWAP"]
    assert len(d) == 2 and d.bid.shape == (2, 3)
    assert d.total[1, 1] < 0.5 * d.total[0, 1]
    assert (np.diff(d.bid, axis=1) >= 0).all()  # wider band, more depth
    assert len(snap.funding["BTC-USDT-SWAP"]) == 2
    assert snap.open_interest["ETH-USDT-SWAP"].last > 1e6
    assert snap.server_time_ms == okx.now_ms and snap.source == "okx"
    assert set(snap.instruments) == {f"{b}-USDT-SWAP" for b in BASES}
    assert not snap.missing


async def test_funding_history_and_tiers_in_contracts(market):
    await market.load_instruments()
    hist = await market.fetch_funding_history("BTC")
    assert len(hist) > 10 and np.all(np.diff(hist.times) == 8 * 3_600_000)
    tiers = await market.fetch_tiers("btc")
    assert tiers[0].unit == "contracts" and tiers[0].max_size == 500 and tiers[0].mmr == 0.004
    assert market.instruments["BTC-USDT-SWAP"].tiers == tiers


async def test_top_n_by_volume(okx, tmp_path):
    m = OkxMarket(config(okx, symbols="top:3"), backoff_s=0.01)
    try:
        assert await m.symbols() == ["BTC-USDT-SWAP", "ETH-USDT-SWAP", "SOL-USDT-SWAP"]
    finally:
        await m.close()


async def test_positions_need_keys(market):
    with pytest.raises(NotSupported):
        await market.fetch_positions()


async def test_positions_flag_a_key_that_can_trade(okx):
    okx.account_perm = "read_only,trade"
    okx.positions = [{"instType": "SWAP", "instId": "BTC-USDT-SWAP", "pos": "50",
                      "posSide": "net", "avgPx": "60000", "lever": "10", "mgnMode": "isolated",
                      "liqPx": "54500", "margin": "300", "imr": "", "mmr": "2.4",
                      "notionalUsd": "30000", "markPx": "60000", "uTime": "1", "cTime": "1"}]
    okx.add_key("k", "s", "p")
    keys = Secrets(exchanges={"okx": ExchangeKeys("k", "s", "p")})
    m = OkxMarket(config(okx), secrets=keys, backoff_s=0.01)
    try:
        acct = await m.fetch_positions()
    finally:
        await m.close()
    assert acct.can_trade is True
    (pos,) = acct.positions
    assert (pos.symbol, pos.side, pos.size, pos.entry) == ("BTC-USDT-SWAP", "long", 0.5, 60000)
    assert acct.exchange_liquidation["BTC-USDT-SWAP"] == 54500


async def test_hundred_symbols_cycle_gets_no_429(tmp_path):
    async with FakeOkx(bases=default_bases(100)) as okx:
        m = OkxMarket(config(okx, symbols="top:100"), backoff_s=0.01)
        try:
            snap = await m.snapshot(bars=100)
        finally:
            await m.close()
    assert snap.n_symbols == 100 and not snap.missing
    assert okx.count(status=429) == 0
    assert m.health().retries == 0


async def test_health_reports_latency_and_age_against_server_clock(market, okx):
    await market.snapshot(bars=30)
    h = market.health()
    assert h.requests > 0 and h.errors == 0 and h.last_success_ms
    assert 0 < h.latency_p50_ms <= h.latency_p95_ms
    assert set(h.data_age_ms) == {f"{b}-USDT-SWAP" for b in BASES}
    assert all(a < 60_000 for a in h.data_age_ms.values())
    okx.advance(10 * TF)
    await market.server_time()
    assert min(market.health().data_age_ms.values()) >= 10 * TF
