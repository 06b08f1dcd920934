"""The trade log against real candles and real funding (skipped without ../shared/data).

Each test replays real 15m bars through the live watch cycle (the CSV market's clock moved
one bar per cycle, as the exchange's would) with a logged trade, and checks the log against
numbers computed here, independently, from the data files and the exchange's formula.
"""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest

from jobs.cycle import WatchCycle
from runtime import build_runtime
from settings import Config
from storage.chats import set_subscriptions
from storage.trades import get_trade, legs_of, open_trade

BAR = 900_000
FEE = 0.0005
OWNER = 7


def replay_config(data: Path, tmp_path: Path, **exchange: object) -> Config:
    return Config().with_overrides(
        exchange={"name": "csv", "data_dir": str(data), **exchange},
        engine={"fast_window": "6h", "slow_window": "3d", "ewma_halflife": "2h"},
        storage={"path": str(tmp_path / "replay.db")})


def bars(path: Path) -> dict[int, tuple[float, float, float, float]]:
    """ts → (open, high, low, close), read with the csv module."""
    with gzip.open(path, "rt") as f:
        return {int(r["ts_ms"]): (float(r["open"]), float(r["high"]), float(r["low"]),
                                  float(r["close"])) for r in csv.DictReader(f)}


async def replay(cfg: Config, start_ms: int):
    """The database, the CSV market with its clock at ``start_ms``, and the watch cycle."""
    rt = build_runtime(cfg, entry_points=False)
    db = rt.open_storage()
    market = rt.market()
    await market.load_instruments()
    market.set_clock(start_ms)
    cycle = WatchCycle(rt, db=db, market=market, clock=lambda: market.clock_ms / 1000)
    return db, market, cycle


def at(iso: str) -> int:
    import datetime as dt

    return int(dt.datetime.fromisoformat(iso).replace(tzinfo=dt.UTC).timestamp() * 1000)


async def test_a_10x_long_through_the_ftx_collapse_is_closed_at_its_liquidation_price(
        shared_data, tmp_path):
    data = shared_data / "okx_swap_15m_2022"
    tiers = shared_data / "tiers" / "okx_position_tiers_swap_BTC_ETH_2026-05.csv"
    cfg = replay_config(data, tmp_path, tiers_file=str(tiers), symbols=["BTC", "ETH", "SOL"])
    start = at("2022-11-07T12:00")
    db, market, cycle = await replay(cfg, start)
    candles = bars(data / "BTC-USDT-SWAP_15m.csv.gz")
    entry = candles[start - BAR][3]  # the close of the bar before the clock
    size = 0.5  # 50 contracts of 0.01 BTC: tier 1
    trade = open_trade(db, user_id=OWNER, chat_id=OWNER, symbol="BTC-USDT-SWAP", side="long",
                       size=size, entry=entry, leverage=10, opened_at=start, fee_rate=FEE)
    set_subscriptions(db, OWNER, ["liquidation"])
    # independently: tier 1 of the tiers file and OKX's isolated formula (FACTS.md)
    with tiers.open() as f:
        tier1 = next(r for r in csv.DictReader(f) if r["inst_family"] == "BTC-USDT")
    mmr, margin = float(tier1["mmr"]), size * entry / 10
    liq = (entry - margin / size) / (1 - mmr - FEE)
    hit = next(t for t in sorted(candles) if t >= start and candles[t][2] <= liq)
    closed_at = None
    for _ in range(4 * 24 * 4):  # up to four days of 15m cycles
        market.advance(1)
        await cycle.run()
        t = get_trade(db, OWNER, trade.id)
        if not t.is_open and closed_at is None:
            closed_at = market.clock_ms
            break
    assert closed_at is not None, "the trade was never closed"
    t = get_trade(db, OWNER, trade.id)
    assert t.close_reason == "liquidated" and t.exit_price == pytest.approx(liq, rel=1e-12)
    assert t.closed_at == hit + BAR  # the close of the bar whose low reached it
    fees = FEE * size * entry + FEE * size * liq
    assert round(t.realised_pnl, 2) == round(-(margin + fees), 2)
    # a few more cycles: nothing more is said about it
    for _ in range(8):
        market.advance(1)
        await cycle.run()
    alerts = list(db["alerts"].rows_where("trade_id = ?", [trade.id], order_by="id"))
    closed = [a for a in alerts if json.loads(a["payload"])["numbers"].get("closed")]
    assert len(closed) == 1 and closed[0]["severity"] == "critical"
    assert closed[0]["dedup_key"] == f"liquidation:{trade.id}:closed"
    assert alerts[-1]["id"] == closed[0]["id"]  # no later alert mentions the trade
    # before it, one piece of advice per bar at most (the hedge to add, then the danger)
    per_bar = [json.loads(a["payload"])["time_ms"] for a in alerts]
    assert len(per_bar) == len(set(per_bar))
    assert any(a["kind"] == "liquidation" and not json.loads(a["payload"])["numbers"].get(
        "closed") for a in alerts)  # the danger was told before the end
    critical = closed
    record = json.loads(critical[0]["payload"])
    assert f"closed by liquidation at {liq:g}" in record["title"]
    deliveries = list(db["deliveries"].rows_where("alert_id = ?", [critical[0]["id"]]))
    assert [d["chat_id"] for d in deliveries] == [OWNER]


async def test_funding_on_a_hedged_trade_equals_the_funding_files(shared_data, tmp_path):
    data = shared_data / "binance_usdm_15m"
    funding_dir = shared_data / "funding" / "binance"
    cfg = replay_config(data, tmp_path, funding_dir=str(funding_dir),
                        symbols=["BTC", "ETH", "SOL"])
    start = at("2025-03-03T02:00")
    db, market, cycle = await replay(cfg, start)
    btc = bars(data / "BTCUSDT_15m.csv.gz")
    eth = bars(data / "ETHUSDT_15m.csv.gz")
    main = open_trade(db, user_id=OWNER, chat_id=OWNER, symbol="BTC-USDT-SWAP", side="long",
                      size=0.2, entry=btc[start - BAR][3], leverage=3, opened_at=start,
                      fee_rate=FEE)
    leg = open_trade(db, user_id=OWNER, chat_id=OWNER, symbol="ETH-USDT-SWAP", side="short",
                     size=3.0, entry=eth[start - BAR][3], leverage=3, opened_at=start,
                     fee_rate=FEE, parent_id=main.id)
    assert legs_of(db, OWNER, main.id) == [leg]
    end = start + 3 * 96 * BAR  # three days: nine funding times
    while market.clock_ms < end:
        market.advance(4)  # hourly cycles: funding is caught up whatever the cadence
        await cycle.run()

    def expected(name: str, series: dict, side: int, size: float) -> float:
        total = 0.0
        with gzip.open(funding_dir / f"{name}_funding.csv.gz", "rt") as f:
            for r in csv.DictReader(f):
                t = round(int(r["ts_ms"]) / 60_000) * 60_000
                if start < t <= end:
                    total += -side * size * series[t][0] * float(r["funding_rate"])
        return total

    want_main = expected("BTCUSDT", btc, 1, 0.2)
    want_leg = expected("ETHUSDT", eth, -1, 3.0)
    assert get_trade(db, OWNER, main.id).funding == pytest.approx(want_main, rel=1e-9)
    assert get_trade(db, OWNER, leg.id).funding == pytest.approx(want_leg, rel=1e-9)
    payments = db.execute("select count(*) from funding_payments").fetchone()[0]
    assert payments == 2 * 9 and want_main != 0 and want_leg != 0
