"""One action per trade per bar: the order (danger, take profit, hedge change, hold), and the
margin and size that put liquidation at the safe distance — checked against OKX's isolated
formula from FACTS.md, not against themselves."""

from __future__ import annotations

import pytest

from core.advice import (
    ADD_HEDGE,
    ADD_MARGIN,
    HOLD,
    REDUCE_HEDGE,
    REDUCE_SIZE,
    SWITCH_HEDGE,
    TAKE_PROFIT,
    advise,
    margin_for_distance,
    size_for_distance,
)

MMR, FEE = 0.004, 0.0005


def okx_liq(side: str, entry: float, size: float, margin: float) -> float:
    """FACTS.md: long (entry − M/N)/(1 − mmr − fee), short (entry + M/N)/(1 + mmr + fee)."""
    if side == "long":
        return (entry - margin / size) / (1 - MMR - FEE)
    return (entry + margin / size) / (1 + MMR + FEE)


@pytest.mark.parametrize("side", ["long", "short"])
def test_the_margin_found_puts_liquidation_at_the_distance(side):
    m = margin_for_distance(side, 2.0, 60_000.0, 57_000.0, 0.12, MMR, FEE)
    liq = okx_liq(side, 60_000.0, 2.0, m)
    assert liq == pytest.approx(57_000.0 * (0.88 if side == "long" else 1.12), rel=1e-12)


@pytest.mark.parametrize("side", ["long", "short"])
def test_the_size_found_puts_liquidation_at_the_distance(side):
    n = size_for_distance(side, 6_000.0, 60_000.0, 58_000.0, 0.12, MMR, FEE)
    assert okx_liq(side, 60_000.0, n, 6_000.0) == pytest.approx(
        58_000.0 * (0.88 if side == "long" else 1.12), rel=1e-12)


BASE = dict(side="long", size=1.0, entry=60_000.0, price=57_000.0, margin=6_000.0, mmr=MMR,
            fee=FEE, danger=False, danger_why="", safe_distance=0.12, held=(), target=(),
            target_reason="β 0.8 to ETH", take_profit=(), rebalance_threshold=0.10,
            prices={"BTC-USDT-SWAP": 57_000.0, "ETH-USDT-SWAP": 3_000.0,
                    "SOL-USDT-SWAP": 150.0})
ETH_SHORT = ("ETH-USDT-SWAP", "short", 15.0)  # 45,000 USDT against a 57,000 position


def test_danger_comes_first_with_the_exact_margin_to_add():
    a = advise(**{**BASE, "danger": True, "danger_why": "a 9% chance",
                  "target": (ETH_SHORT,),
                  "take_profit": ((ETH_SHORT, 500.0),)})
    need = margin_for_distance("long", 1.0, 60_000.0, 57_000.0, 0.12, MMR, FEE)
    assert a.action == ADD_MARGIN and a.margin == pytest.approx(need - 6_000.0)
    assert a.distance == pytest.approx(0.12)
    assert "a 9% chance" in str(a.reason) and "frees 500.00 USDT" in str(a.reason)


def test_a_volatile_market_asks_for_the_risk_models_distance_when_that_needs_more():
    a = advise(**{**BASE, "danger": True, "danger_why": "volatile", "model_distance": 0.3})
    assert a.action == ADD_MARGIN
    liq = okx_liq("long", 60_000.0, 1.0, 6_000.0 + a.margin)
    assert (57_000.0 - liq) / 57_000.0 == pytest.approx(0.3)  # exactly the model's distance
    assert a.distance == pytest.approx(0.3)
    calm = advise(**{**BASE, "danger": True, "danger_why": "close", "model_distance": 0.05})
    assert calm.distance == pytest.approx(0.12)  # the configured floor when it is further


def test_danger_that_no_margin_fixes_is_a_cut():
    """A long already posting its whole notional cannot be helped by more margin: the size
    that the margin carries safely is the advice."""
    a = advise(**{**BASE, "danger": True, "danger_why": "close", "margin": 60_000.0,
                  "price": 30_000.0})
    assert a.action == REDUCE_SIZE


def test_take_profit_beats_a_hedge_change():
    a = advise(**{**BASE, "held": (ETH_SHORT,), "target": (("ETH-USDT-SWAP", "short", 30.0),),
                  "take_profit": ((ETH_SHORT, 1_234.5),)})
    assert a.action == TAKE_PROFIT and a.legs == (ETH_SHORT,) and "1,234.50" in str(a.reason)


@pytest.mark.parametrize(("held", "target", "action"), [
    ((), (ETH_SHORT,), ADD_HEDGE),
    ((ETH_SHORT,), (("ETH-USDT-SWAP", "short", 5.0),), REDUCE_HEDGE),
    ((ETH_SHORT,), (("SOL-USDT-SWAP", "short", 300.0),), SWITCH_HEDGE),
    ((ETH_SHORT,), (("ETH-USDT-SWAP", "short", 16.0),), HOLD),  # 3,000 USDT < 10 %
    ((ETH_SHORT,), None, HOLD),  # the strategy gave nothing this bar
])
def test_the_hedge_is_compared_with_what_is_held(held, target, action):
    a = advise(**{**BASE, "held": held, "target": target})
    assert a.action == action
    if action != HOLD:
        assert a.legs == tuple(target)
