"""/hedge with several legs: duplicates are merged with a note; legs that move as one get the
reason and a leg to drop instead of sizes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.hedging import MAX_CONDITION, collinearity


async def test_a_symbol_named_five_times_is_one_leg(chat) -> None:
    reply = await chat("/hedge btc with eth eth eth eth eth")
    assert reply.ok, reply.text
    assert "⚠ ETH-USDT-SWAP was named 5 times after 'with'; it is used once." in reply.text
    assert reply.data["hedge_symbol"] == "ETH-USDT-SWAP" and "multi_leg" not in reply.data


async def test_spellings_of_one_symbol_are_one_leg(chat) -> None:
    reply = await chat("/hedge btc with eth ETH-USDT-SWAP sol")
    m = reply.data["multi_leg"]
    assert [x["symbol"] for x in m["legs"]] == ["ETH-USDT-SWAP", "SOL-USDT-SWAP"]
    assert m["refused"] is None and 1 <= m["condition"] <= MAX_CONDITION
    assert any(line.startswith("Together: ETH-USDT-SWAP") for line in reply.text)


def _collinear_cov() -> np.ndarray:
    rng = np.random.default_rng(3)
    a, c = rng.normal(size=2000), rng.normal(size=2000)
    b = a + rng.normal(size=2000) * 1e-5  # the same instrument under another name
    x = a + 0.5 * c + rng.normal(size=2000) * 0.3
    return np.cov(np.column_stack([x, a, b, c]), rowvar=False)


def test_collinear_legs_are_ill_posed_and_a_twin_is_dropped() -> None:
    cov = _collinear_cov()
    check = collinearity(cov, 0, [1, 2, 3])
    assert check.ill_posed and check.condition > 1e8 and check.drop in (0, 1)
    assert not collinearity(cov, 0, [1, 3]).ill_posed
    assert collinearity(cov, 0, [1, 1]).ill_posed  # the same leg twice


def test_two_legs_condition_is_one_plus_rho_over_one_minus_rho() -> None:
    rho = 0.9
    cov = np.array([[1.0, 0.5, 0.5], [0.5, 4.0, rho * 2 * 3], [0.5, rho * 2 * 3, 9.0]])
    assert collinearity(cov, 0, [1, 2]).condition == pytest.approx((1 + rho) / (1 - rho))


async def test_collinear_legs_get_the_reason_and_a_leg_to_drop(chat, services, monkeypatch):
    from chat.commands import multi_leg as hedge_legs

    real = hedge_legs.collinearity

    def twins(cov, target, idx):  # the sim has no twins: make ETH and SOL one instrument
        cov = cov.copy()
        cov[idx[1], :] = cov[idx[0], :]
        cov[:, idx[1]] = cov[:, idx[0]]
        return real(cov, target, idx)

    monkeypatch.setattr(hedge_legs, "collinearity", twins)
    reply = await chat("/hedge btc with eth sol")
    m = reply.data["multi_leg"]
    assert m["legs"] == [] and m["drop"] in ("ETH-USDT-SWAP", "SOL-USDT-SWAP")
    keep = "sol" if m["drop"] == "ETH-USDT-SWAP" else "eth"
    assert m["refused"].startswith("No sizes for several legs: ETH-USDT-SWAP, SOL-USDT-SWAP "
                                   "move almost as one (condition ")
    assert m["refused"].endswith(f"so how to split the hedge between them would be noise. "
                                 f"Drop {m['drop']}, e.g. /hedge btc with {keep}")
    assert m["refused"] in reply.text
    json.dumps(reply.data, allow_nan=False)
