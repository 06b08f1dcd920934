"""/hedge and /market through the dispatcher, checked against the engine on the same data."""

from __future__ import annotations

import json

import numpy as np
import pytest

from chat.commands.market import market_lines
from core.cascade import FACTORS, cascade_reading
from core.hedging import multi_leg, pair_fit
from core.returns import log_returns


async def test_hedge_sizes_the_beta_hedge_the_engine_computes(chat, services):
    reply = await chat("/hedge sol long 100 @180 10x")
    assert reply.kind == "ok", reply.text
    d = reply.data
    snap = await services.snapshot()
    r = log_returns(snap.close)[-96:]
    x, h = snap.index("SOL-USDT-SWAP"), snap.index(d["hedge_symbol"])
    fit = pair_fit(r[:, x], r[:, h], 77)
    leg = d["legs"][0]
    assert leg["side"] == "short" and leg["beta"] == pytest.approx(fit.beta, rel=1e-9)
    assert leg["notional"] == pytest.approx(fit.beta * 100 * snap.last_price(
        "SOL-USDT-SWAP"), rel=1e-9)
    assert leg["effectiveness"] == pytest.approx(fit.effectiveness, rel=1e-9)
    # the hedge instrument is the best single hedge: highest ρ² among the others
    others = [j for j in range(snap.n_symbols) if j != x]
    best = max(others, key=lambda j: pair_fit(r[:, x], r[:, j], 77).rho ** 2)
    assert snap.symbols[best] == d["hedge_symbol"]
    assert set(d["strategies"]) >= {"none", "static", "min_variance", "seed_regime",
                                    "counterweight"}
    assert d["regime"] in ("high", "normal", "low", "unknown")
    json.dumps(d, allow_nan=False)
    labels = [label for row in reply.buttons for label, _ in row]
    assert labels == ["Log this trade", "Alert me on rebalance"]


async def test_hedge_with_several_symbols_solves_the_multi_leg_hedge(chat, services):
    reply = await chat("/hedge eth 2 with btc sol")
    d = reply.data
    assert d["hedge_symbol"] in ("BTC-USDT-SWAP", "SOL-USDT-SWAP")
    snap = await services.snapshot()
    r = log_returns(snap.close)[-96:]
    cols = [snap.index(s) for s in ("ETH-USDT-SWAP", "BTC-USDT-SWAP", "SOL-USDT-SWAP")]
    ok = np.all(np.isfinite(r[:, cols]), axis=1)
    cov = np.cov(r[ok][:, cols], rowvar=False)
    fit = multi_leg(cov, 0, [1, 2])
    notional = 2 * snap.last_price("ETH-USDT-SWAP")
    got = [leg["notional"] for leg in d["multi_leg"]["legs"]]
    np.testing.assert_allclose(got, fit.weights * notional, rtol=1e-6)
    assert all(n < 0 for n in got)  # a long is hedged by shorts


@pytest.mark.parametrize("line,needle", [
    ("/hedge", "Which position"),
    ("/hedge xyzcoin 1", "don't know the symbol"),
    ("/hedge btc with btc", "cannot hedge itself"),
    ("/hedge btc 10xx", "10xx"),
])
async def test_hedge_bad_arguments(chat, line, needle):
    reply = await chat(line)
    assert reply.kind == "usage" and needle in " ".join(reply.text)


async def test_market_reports_the_cascade_reading(chat):
    reply = await chat("/market")
    d = reply.data
    assert d["cascade"]["level"] in ("calm", "elevated", "high", "cascade")
    assert sum(d["cascade"]["contributions"].values()) == pytest.approx(
        d["cascade"]["score"], abs=0.05)
    assert d["simulated"] and "[SIMULATED]" in reply.text[0]
    json.dumps(d, allow_nan=False)
    assert (await chat("/market now")).kind == "usage"


def test_market_says_why_a_level_is_capped():
    few = cascade_reading({"vol_ratio": FACTORS["vol_ratio"].hi,
                           "range_ratio": FACTORS["range_ratio"].hi})
    d = {"cascade": few.to_dict(), "simulated": False, "market_index": None,
         "market_index_slow": None, "market_z": None, "market_spike": False,
         "vol_ratio": None, "funding_extremes": [], "data_age_ms": 60_000, "warnings": []}
    text = "\n".join(market_lines(d))
    assert text.startswith("Cascade score 100/100: HIGH")
    assert "level capped at high" in text and "a cascade level needs 50%" in text
    assert "not available: corr_z" in text
