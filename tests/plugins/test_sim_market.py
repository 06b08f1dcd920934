"""The simulated market: deterministic, and its cascades look like cascades in the numbers."""

from __future__ import annotations

import numpy as np
import pytest

from core.types import DEPTH_BANDS
from plugins.exchanges import sim_model
from plugins.exchanges.errors import MarketError
from plugins.exchanges.sim_market import SimMarket
from settings.config import ExchangeConfig

DEMO_DAYS = 4  # the demo advances the clock one bar per cycle over several days


@pytest.fixture(scope="module")
def demo() -> SimMarket:
    """The default configuration, its clock advanced through the demo period."""
    m = SimMarket(ExchangeConfig(name="sim"))
    m.advance(DEMO_DAYS * 96)
    return m


@pytest.fixture(scope="module")
def demo_returns(demo: SimMarket) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """15m log returns of every bar up to the clock, their regimes, and the majors' columns."""
    p = demo.paths
    k = (demo.clock_ms - demo.start_ms) // demo.timeframe_ms
    r = np.diff(np.log(p.close[:k]), axis=0)
    majors = [j for j, s in enumerate(p.symbols) if s != "VOLX"]
    return r, p.regime[1:k], majors


def mean_pairwise_corr(r: np.ndarray) -> float:
    c = np.corrcoef(r.T)
    n = c.shape[0]
    return float((c.sum() - n) / (n * n - n))


def test_same_seed_same_market_other_seed_other_market() -> None:
    a = SimMarket(ExchangeConfig(name="sim", seed=11, sim_days=5), future_days=2).paths
    b = SimMarket(ExchangeConfig(name="sim", seed=11, sim_days=5), future_days=2).paths
    c = SimMarket(ExchangeConfig(name="sim", seed=12, sim_days=5), future_days=2).paths
    for field in ("close", "volume", "open_interest", "liquidations", "depth_bid", "funding",
                  "regime"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.allclose(a.close, c.close)


def test_the_demo_run_contains_a_cascade(demo: SimMarket) -> None:
    k = (demo.clock_ms - demo.start_ms) // demo.timeframe_ms
    history = demo.regimes[demo.history_bars - 10 * 96:demo.history_bars]
    live = demo.regimes[demo.history_bars:k]
    assert (history == sim_model.CASCADE).sum() >= 8
    assert (live == sim_model.CASCADE).sum() >= 8
    t = demo.start_ms + int(np.flatnonzero(live == sim_model.CASCADE)[0] + demo.history_bars) * \
        demo.timeframe_ms
    assert demo.regime_at(t) == "cascade"


def test_correlations_jump_in_cascades(demo_returns) -> None:
    r, g, majors = demo_returns
    calm = mean_pairwise_corr(r[g == sim_model.CALM][:, majors])
    cascade = mean_pairwise_corr(r[g == sim_model.CASCADE][:, majors])
    assert calm < 0.75 and cascade > 0.9 and cascade - calm > 0.2


def test_rolling_one_day_correlation_peaks_in_cascades(demo_returns) -> None:
    r, g, majors = demo_returns
    day = 96
    starts = np.arange(0, len(r) - day, day // 4)
    corr = np.array([mean_pairwise_corr(r[s:s + day][:, majors]) for s in starts])
    share = np.array([(g[s:s + day] == sim_model.CASCADE).mean() for s in starts])
    assert corr[share > 0.15].mean() > corr[share == 0].mean() + 0.15


def test_volatility_is_higher_in_cascades(demo_returns) -> None:
    r, g, majors = demo_returns
    ratio = r[g == sim_model.CASCADE][:, majors].std() / r[g == sim_model.CALM][:, majors].std()
    assert ratio > 2.0


def test_cascades_thin_books_and_spike_liquidations(demo: SimMarket) -> None:
    p = demo.paths
    k = (demo.clock_ms - demo.start_ms) // demo.timeframe_ms
    g = p.regime[:k]
    calm, casc = g == sim_model.CALM, g == sim_model.CASCADE
    depth = (p.depth_bid[:k] + p.depth_ask[:k]).sum(axis=2)
    assert np.all(depth[casc].mean(axis=0) < 0.6 * depth[calm].mean(axis=0))  # at least −40 %
    liq = p.liquidations[:k]
    assert np.all(liq[casc].mean(axis=0) > 5 * liq[calm].mean(axis=0))


def test_open_interest_falls_and_prices_drop_through_a_cascade(demo: SimMarket) -> None:
    p = demo.paths
    casc = np.flatnonzero(p.regime == sim_model.CASCADE)
    first = casc[casc >= demo.history_bars][0]
    last = first
    while p.regime[last + 1] == sim_model.CASCADE:
        last += 1
    btc = 0
    assert p.open_interest[last, btc] < 0.85 * p.open_interest[first - 1, btc]
    assert p.close[last, btc] < p.open[first, btc]


def test_counterweight_gains_in_cascades(demo_returns, demo: SimMarket) -> None:
    r, g, _ = demo_returns
    j = demo.paths.symbols.index("VOLX")
    assert r[g == sim_model.CASCADE, j].mean() > 0
    assert r[g == sim_model.CASCADE, 0].mean() < 0  # while BTC falls


def test_counterweight_can_be_left_out() -> None:
    m = SimMarket(ExchangeConfig(name="sim", sim_days=3), counterweight=False, future_days=1)
    assert "VOLX-USDT-SWAP" not in m.instruments and len(m.instruments) == 12


async def test_snapshot_is_labelled_simulated_and_carries_histories() -> None:
    m = SimMarket(ExchangeConfig(name="sim", sim_days=5), future_days=2)
    snap = await m.snapshot(bars=200)
    assert snap.simulated and snap.source == "sim"
    assert len(snap.symbols) == 13 and "VOLX-USDT-SWAP" in snap.symbols
    assert snap.server_time_ms == snap.last_bar_close_ms == m.clock_ms
    assert snap.valid.all()
    btc = "BTC-USDT-SWAP"
    assert 60_000 < snap.last_price(btc) < 150_000
    assert len(snap.open_interest[btc]) == len(snap.liquidations[btc]) == 200
    assert snap.depth[btc].bid.shape == (200, len(DEPTH_BANDS))
    assert np.all(np.diff(snap.depth[btc].total, axis=1) > 0)  # wider bands hold more
    f = snap.funding[btc]
    assert len(f) >= 6 and np.all(np.diff(f.times) == 8 * 3_600_000)
    assert np.all(f.times % (8 * 3_600_000) == 0) and np.all(np.abs(f.values) < 0.0075)
    inst = m.instruments[btc]
    assert inst.contract_value == 0.01 and inst.tiers[0].unit == "contracts"


async def test_advance_reveals_one_more_bar_and_matches_replay() -> None:
    m = SimMarket(ExchangeConfig(name="sim", sim_days=3), future_days=1)
    first = await m.snapshot(["BTC", "ETH"], bars=50)
    m.advance()
    second = await m.snapshot(["BTC", "ETH"], bars=50)
    assert second.times[-1] == first.times[-1] + m.timeframe_ms
    np.testing.assert_array_equal(second.close[:-1], first.close[1:])
    again = await m.snapshot(["BTC", "ETH"], bars=50, at_ms=m.clock_ms - m.timeframe_ms)
    np.testing.assert_array_equal(again.close, first.close)


def test_the_clock_stops_at_the_end_of_the_simulation() -> None:
    m = SimMarket(ExchangeConfig(name="sim", sim_days=2), future_days=1)
    m.advance(96)
    with pytest.raises(MarketError, match="future_days"):
        m.advance()


async def test_up_to_300_symbols() -> None:
    m = SimMarket(ExchangeConfig(name="sim", sim_days=2), n_symbols=300, future_days=1)
    snap = await m.snapshot(bars=10)
    assert snap.n_symbols == 301 and "SYN288-USDT-SWAP" in snap.symbols
    assert np.all(np.isfinite(snap.close))


async def test_configured_symbols_narrow_and_unknown_ones_are_clear() -> None:
    m = SimMarket(ExchangeConfig(name="sim", sim_days=2, symbols=["btc", "VOLX"]), future_days=1)
    assert (await m.snapshot(bars=5)).symbols == ("BTC-USDT-SWAP", "VOLX-USDT-SWAP")
    bad = SimMarket(ExchangeConfig(name="sim", sim_days=2, symbols=["BTC", "PEPE"]),
                    future_days=1)
    with pytest.raises(MarketError, match=r"PEPE.*BTC-USDT-SWAP"):
        await bad.snapshot(bars=5)
    top = SimMarket(ExchangeConfig(name="sim", sim_days=2, symbols="top:20"), future_days=1)
    assert len(top.instruments) == 21


async def test_fetches_follow_the_clock() -> None:
    m = SimMarket(ExchangeConfig(name="sim", sim_days=3), future_days=1)
    c = await m.fetch_ohlcv("BTC", limit=10)
    assert len(c) == 10 and int(c.times[-1]) + m.timeframe_ms == await m.server_time()
    assert await m.fetch_open_interest("ETH") > 0
    d = await m.fetch_depth("SOL")
    assert len(d.bid) == len(DEPTH_BANDS) and d.mid > 0
    fi = await m.fetch_funding("BTC")
    assert fi.time_ms <= m.clock_ms < fi.next_time_ms
    liq = await m.fetch_liquidations("BTC", since_ms=m.clock_ms - 3_600_000)
    assert len(liq) == 4


def test_model_kernel_is_vectorised_over_symbols() -> None:
    """One symbol alone gets the same regimes as in a crowd (the chain draws first)."""
    specs = sim_model.universe(3, counterweight=False)
    kw = dict(n_bars=500, start_ms=0, bar_ms=900_000, seed=3)
    a = sim_model.simulate(specs, **kw)
    b = sim_model.simulate(specs[:1], **kw)
    np.testing.assert_array_equal(a.regime, b.regime)
    assert a.close.shape == (500, 3) and np.all(a.high >= a.close) and np.all(a.low <= a.open)
