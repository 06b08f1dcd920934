"""/whatif: the whole book under one shock, checked against a calculation made here from the
market's returns (stress betas by least squares over the stress bars), the OKX liquidation
formula (FACTS.md) and the cross account's equity against its maintenance margin."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from chat.context import LOCAL_USER_ID
from storage import open_database
from storage.trades import open_trade
from tests.chat.test_cli_commands import bot
from tests.chat.test_commands import one_line

BTC, ETH = "BTC-USDT-SWAP", "ETH-USDT-SWAP"


async def market(services):
    """The engine's state on the warm snapshot (the returns and the stress bars)."""
    snap = await services.snapshot([BTC, ETH])
    return snap, await services.engine_market(snap)


def stress_beta(state, i: int, j: int) -> float:
    """i's least-squares slope on j over the stress bars both have."""
    r = state.returns[state.stress_rows]
    ok = np.isfinite(r[:, i]) & np.isfinite(r[:, j])
    return float(np.polyfit(r[ok, j], r[ok, i], 1)[0])


def okx_liq(side: str, entry: float, size: float, margin: float, mmr: float,
            fee: float) -> float:
    if side == "long":
        return (entry - margin / size) / (1 - mmr - fee)
    return (entry + margin / size) / (1 + mmr + fee)


async def test_a_hedged_book_under_a_btc_shock_matches_an_independent_calculation(chat):
    snap, state = await market(chat.services)
    btc, eth = snap.last_price(BTC), snap.last_price(ETH)
    await chat(f"/open btc long 0.5 @{btc} 10x")
    await chat(f"/open eth short 5 @{eth} 5x hedge 1")
    beta = stress_beta(state, snap.index(ETH), snap.index(BTC))
    assert 0.3 < beta < 3  # the sim's assets move together in stress

    w = await chat("/whatif btc -12%")
    one, two = w.data["positions"]
    assert w.data["shock"] == {"driver": BTC, "move_pct": -12.0, "horizon_h": 24}
    assert one["beta"] == 1.0 and two["beta"] == pytest.approx(beta, rel=1e-9)
    assert one["price_after"] == pytest.approx(btc * 0.88, rel=1e-12)
    eth_after = eth * 0.88 ** beta
    assert two["price_after"] == pytest.approx(eth_after, rel=1e-9)

    mmr, fee = 0.004, 0.0005  # the sim's tier 1 and taker fee
    liq_btc = okx_liq("long", btc, 0.5, 0.5 * btc / 10, mmr, fee)
    liq_eth = okx_liq("short", eth, 5, 5 * eth / 5, mmr, fee)
    assert liq_btc > btc * 0.88  # the long's liquidation is crossed on the way …
    assert one["liquidated"] and one["liquidation_order"] == 1
    assert one["liquidated_at_move_pct"] == pytest.approx((liq_btc / btc - 1) * 100, rel=1e-9)
    assert one["pnl_after"] == pytest.approx(-0.5 * btc / 10)  # … and its loss stops at margin
    assert not two["liquidated"] and two["liquidation_order"] is None
    assert two["pnl_after"] == pytest.approx(-5 * (eth_after - eth), rel=1e-9)
    assert two["liquidation_price_after"] == pytest.approx(liq_eth, rel=1e-12)
    assert two["distance_pct_after"] == pytest.approx((liq_eth / eth_after - 1) * 100, rel=1e-9)
    assert 0 <= two["touch_prob_24h_after"] < 0.01
    assert w.data["liquidation_order"] == [1] and w.data["account"] is None
    (hedge,) = w.data["hedges"]
    assert hedge["legs"] == [2]
    assert hedge["offset"] == pytest.approx(two["pnl_change"] / -one["pnl_change"], rel=1e-12)
    assert w.data["totals"]["pnl_after"] == pytest.approx(one["pnl_after"] + two["pnl_after"])
    text = "\n".join(w.text)
    assert "#1 BTC long 0.5" in text
    assert f"LIQUIDATED at BTC {one['liquidated_at_move_pct']:+.1f} %" in text
    assert "Liquidated, in order: #1 BTC long" in text
    assert f"the legs offset {hedge['offset'] * 100:.0f} %" in text
    assert w.text[-1].startswith("data ")  # the data's age, last


async def test_up_moves_liquidate_the_shorts_in_order(chat):
    snap, state = await market(chat.services)
    btc, eth = snap.last_price(BTC), snap.last_price(ETH)
    await chat(f"/open eth short 5 @{eth} 20x")
    await chat(f"/open btc short 0.5 @{btc} 8x")
    beta = stress_beta(state, snap.index(BTC), snap.index(ETH))
    w = await chat("/whatif eth +30% 4h")
    eth_at = okx_liq("short", eth, 5, 5 * eth / 20, 0.004, 0.0005) / eth - 1
    btc_need = okx_liq("short", btc, 0.5, 0.5 * btc / 8, 0.004, 0.0005) / btc
    btc_at = math.expm1(math.log(btc_need) / beta)  # the ETH move that takes BTC there
    assert 0 < eth_at < btc_at < 0.30
    assert w.data["liquidation_order"] == [1, 2]
    got = [p["liquidated_at_move_pct"] for p in w.data["positions"]]
    assert got == pytest.approx([eth_at * 100, btc_at * 100], rel=1e-9)
    assert w.data["shock"]["horizon_h"] == 4 and "touch_prob_4h_after" in w.data["positions"][0]


async def test_a_cross_account_is_liquidated_where_its_equity_meets_maintenance(chat):
    snap, state = await market(chat.services)
    btc, eth = snap.last_price(BTC), snap.last_price(ETH)
    await chat(f"/open btc long 1 @{btc} 10x cross")
    await chat(f"/open eth short 10 @{eth} 10x cross hedge 1")
    beta = stress_beta(state, snap.index(ETH), snap.index(BTC))
    collateral = btc / 10 + 10 * eth / 10

    def account(move: float) -> tuple[float, float]:
        b, e = btc * (1 + move), eth * (1 + move) ** beta
        equity = collateral + (b - btc) - 10 * (e - eth)
        return equity, (b + 10 * e) * (0.004 + 0.0005)

    lo, hi = -0.999, 0.0  # the BTC move where equity meets maintenance, by bisection
    for _ in range(200):
        mid = (lo + hi) / 2
        eq, mm = account(mid)
        lo, hi = (mid, hi) if eq <= mm else (lo, mid)
    assert account(-0.5)[0] < account(-0.5)[1]  # a 50 % fall takes the account
    w = await chat("/whatif btc -50%")
    a = w.data["account"]
    assert a["collateral"] == pytest.approx(collateral)
    assert a["liquidated"] and w.data["liquidation_order"] == [1, 2]
    assert a["liquidated_at_move_pct"] == pytest.approx(hi * 100, rel=1e-6)
    # closed where the account went: what is left is the maintenance margin there, and the
    # positions' P&L is theirs at those prices — never more lost than the collateral
    eq, mm = account(hi)
    assert a["equity_after"] == pytest.approx(eq, rel=1e-6)
    assert a["maintenance_after"] == pytest.approx(mm, rel=1e-6)
    assert a["margin_ratio_after"] == pytest.approx(1.0, rel=1e-6)
    one, two = w.data["positions"]
    assert one["pnl_after"] == pytest.approx(btc * hi, rel=1e-6)
    assert two["pnl_after"] == pytest.approx(-10 * eth * ((1 + hi) ** beta - 1), rel=1e-6)
    assert -collateral < w.data["totals"]["pnl_after"] < 0
    assert "Cross account: equity" in "\n".join(w.text)
    small = (await chat("/whatif btc -5%")).data["account"]
    eq, mm = account(-0.05)
    assert not small["liquidated"] and small["equity_after"] == pytest.approx(eq, rel=1e-9)
    assert small["margin_ratio_after"] == pytest.approx(eq / mm, rel=1e-9)

    # /risk without arguments judges the cross trades jointly: BTC's liquidation price is
    # where the account goes when ETH moves with BTC by its stress beta
    r = await chat("/risk")
    main = r.data["reports"][0]
    lo, hi = -0.999, 0.0
    for _ in range(200):
        mid = (lo + hi) / 2
        eq, mm = account(mid)
        lo, hi = (mid, hi) if eq <= mm else (lo, mid)
    if hi > -0.998:
        assert main["liquidation_price"] == pytest.approx(btc * (1 + hi), rel=1e-6)
    else:
        assert main["liquidation_price"] is None
    assert any("stress betas" in x for x in main["warnings"])


async def test_whatif_market_moves_every_asset_by_its_beta_to_the_market(chat):
    snap, _ = await market(chat.services)
    await chat(f"/open btc long 0.5 @{snap.last_price(BTC)} 10x")
    w = await chat("/whatif market -15%")
    (p,) = w.data["positions"]
    assert w.data["shock"]["driver"] == "market"
    assert p["move_pct"] == pytest.approx(math.expm1(p["beta"] * math.log(0.85)) * 100)
    assert 0.3 < p["beta"] < 3 and "What if the market moves -15.0 %" in w.text[0]


@pytest.mark.parametrize(("line", "expected"), [
    ("/whatif btc", "takes an asset or 'market', a move"),
    ("/whatif btc ten", "'ten' is not a move in percent"),
    ("/whatif btc -100%", "above −100 %"),
    ("/whatif btc 0%", "above −100 %"),
    ("/whatif btc -10% 2d", "the horizon is 1h, 4h or 24h"),
    ("/whatif nosuchcoin -10%", "nosuchcoin"),
])
async def test_bad_input_gets_one_clear_message(chat, line, expected):
    await chat("/open btc long 0.5 @60000 10x")
    assert expected in one_line(await chat(line))


async def test_whatif_is_private_and_needs_trades(chat):
    assert "no open trades" in (await chat("/whatif btc -10%")).text[0]
    assert "private" in one_line(await chat("/whatif btc -10%", chat=-100, chat_type="group"))


def test_whatif_json_through_the_cli(tmp_path):
    db = open_database(tmp_path / "hw.db")
    open_trade(db, user_id=LOCAL_USER_ID, chat_id=LOCAL_USER_ID, symbol=BTC, side="long",
               size=0.5, entry=95_000.0, leverage=10.0, opened_at=1_000, fee_rate=0.0005)
    db.conn.close()
    r = bot(tmp_path, "whatif", "btc", "-5%", "--exchange", "sim", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out) == {"shock", "positions", "liquidation_order", "account", "hedges",
                        "totals", "as_of", "data_age_ms", "data_behind", "warnings"}
    assert out["positions"][0]["trade_id"] == 1 and not out["positions"][0]["liquidated"]
    r = bot(tmp_path, "whatif", "--help")  # the examples' "%" in the help text
    assert r.returncode == 0 and "/whatif btc -10%" in r.stdout
