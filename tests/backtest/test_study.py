"""Many starts: the start grid, the unhedged baselines against the engine, paired differences
with block-bootstrap intervals, the seed's claim, and the study's JSON from the CLI."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest

from backtest import stats as S
from backtest.baselines import unhedged
from backtest.costs import CostParams
from backtest.engine import BacktestParams, run_backtest
from backtest.prepared import prepare
from backtest.study import run_study, start_grid
from backtest.study_report import study_summary
from backtest.views import ViewMaker
from core.types import MarketSnapshot
from plugins.exchanges.sim_market import SimMarket
from plugins.strategies.builtin import NoHedge, StaticHedge
from settings.config import Config
from settings.engine import engine_params
from tests.backtest.test_cli import cli

DAY = 96


@pytest.fixture(scope="module")
def sim() -> MarketSnapshot:
    cfg = Config()
    market = SimMarket(cfg.exchange.model_copy(update={"sim_days": 60}), n_symbols=4)
    return asyncio.run(market.snapshot(bars=60 * DAY))


def test_a_strategy_against_itself_differs_by_exactly_zero():
    x = np.random.default_rng(3).normal(0.0, 0.3, 40)
    p = S.paired(x, x, 5)
    assert p["median_diff"] == 0.0 and p["ci_low"] == 0.0 and p["ci_high"] == 0.0
    assert p["better"] == p["worse"] == 0.0


def test_block_bootstrap_interval():
    rng = np.random.default_rng(7)
    shifted = rng.normal(0.0, 1.0, 60) + 0.5
    lo, hi = S.bootstrap_ci(shifted, lambda a: np.median(a, axis=1), 6)
    assert lo < float(np.median(shifted)) < hi and hi - lo < 1.5
    assert S.bootstrap_ci(np.full(30, 0.2), lambda a: np.median(a, axis=1), 3) == (0.2, 0.2)
    assert S.bootstrap_ci(shifted[:3], lambda a: np.median(a, axis=1), 1) is None
    assert S.bootstrap_ci(shifted[:10], lambda a: np.median(a, axis=1), 6) is None  # < 2 blocks
    # the same seed, the same interval: a report is reproducible
    assert S.bootstrap_ci(shifted, lambda a: np.mean(a, axis=1), 6) == \
        S.bootstrap_ci(shifted, lambda a: np.mean(a, axis=1), 6)
    assert S.block_length(90 * DAY, 7 * DAY, 100) == 13
    assert S.block_length(90 * DAY, 7 * DAY, 18) == 9


def test_the_seed_claim_is_placed_in_the_distributions():
    returns = {"static": np.array([-0.5, -0.3, -0.1, 0.1]),
               "min_variance": np.array([-0.2, 0.0, 0.05, 0.3])}
    sc = S.seed_claim(returns, 10.0, 90.0)
    assert sc["comparable"] is True
    assert sc["strategies"]["static"] == {"claimed": -0.23, "percentile": 0.5}
    mv = sc["strategies"]["min_variance"]
    assert mv["percentile"] == 0.5  # −0.2 and 0.0 are at or below +4 %
    # paired gaps over static: 0.3, 0.3, 0.15, 0.2 → 0.15 and 0.2 are at or below 27 points
    assert mv["gap_percentile"] == 0.5 and mv["median_gap_over_static"] == pytest.approx(0.25)
    assert S.seed_claim(returns, 5.0, 90.0)["comparable"] is False


def test_the_start_grid_keeps_warm_up_and_a_whole_horizon(sim):
    m = prepare(sim, BacktestParams(main=sim.symbols[0]).book, engine_params(Config()),
                CostParams())
    starts = start_grid(m, 30 * DAY + 1, 10 * DAY, 3 * DAY)
    assert starts[0] == 30 * DAY + 1 and np.all(np.diff(starts) == 3 * DAY)
    assert starts[-1] + 10 * DAY <= sim.n_bars < starts[-1] + 13 * DAY


@pytest.mark.parametrize("margin", ["cross", "isolated"])
@pytest.mark.parametrize("leverage", [10.0, 40.0])
def test_the_vectorised_baseline_is_the_engine_never_hedging(sim, margin, leverage):
    params = BacktestParams(main=sim.symbols[0], start=31 * DAY, margin=margin,
                            leverage=leverage, reentry_bars=DAY // 2)
    r = run_backtest(sim, {"none": NoHedge()}, params, engine_params(Config())).runs["none"]
    b = unhedged(r_prep := prepare(sim, params.book, engine_params(Config()), params.costs),
                 params.start, r_prep.n_bars, 2000.0, leverage, cross=margin == "cross",
                 reentry=DAY // 2)
    np.testing.assert_allclose(b.equity, r.equity, rtol=1e-9, atol=1e-7)
    np.testing.assert_allclose(b.deposits, r.deposits, rtol=1e-12)
    assert list(b.liquidated) == [x.t for x in r.liquidations]
    if leverage == 40.0:
        assert len(b.liquidated) >= 2  # liquidated and re-entered: the lives are compared


def _study(sim, strategies, **kw):
    ep = engine_params(Config())
    params = BacktestParams(main=sim.symbols[0], **kw)
    m = prepare(sim, params.book, ep, params.costs)
    views = ViewMaker.of(m, ep)
    starts = start_grid(m, 30 * DAY + 1, 6 * DAY, DAY)
    study = run_study(m, views, strategies, params, starts, 6 * DAY, DAY, workers=1)
    return study, study_summary(study, m, params)


def test_two_copies_of_a_strategy_pair_to_exactly_zero(sim):
    study, data = _study(sim, {"static": StaticHedge(), "static_copy": StaticHedge()})
    a, b = study.outcomes["static"], study.outcomes["static_copy"]
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    p = data["paired"]["static_copy"]["static"]
    assert p["median_diff"] == 0.0 and p["ci_low"] <= 0.0 <= p["ci_high"]
    assert p["ci_low"] == p["ci_high"] == 0.0
    assert data["runs"] == len(study.starts) >= 20


def test_matched_baseline_holds_the_strategy_s_collateral(sim):
    study, data = _study(sim, {"static": StaticHedge()}, leverage=10.0)
    lev = study.outcomes["matched:static"]["leverage"]
    collateral = study.outcomes["static"]["first_life_collateral"]
    np.testing.assert_allclose(lev, 2000.0 * 10.0 / collateral)
    assert np.all(lev < 10.0)  # the hedge needed collateral of its own
    np.testing.assert_allclose(study.outcomes["matched:static"]["collateral"], collateral)
    assert data["baselines"]["matched"]["static"]["leverage"]["median"] < 10.0


def test_the_study_json_from_the_cli_in_two_processes(capsys):
    assert cli(["backtest", "--exchange", "sim", "--days", "50", "--rolling", "2d",
                "--horizon", "5d", "--workers", "2", "--json", "--no-progress",
                "--strategies", "none,static,min_variance"]) == 0
    data = json.loads(capsys.readouterr().out, parse_constant=lambda c: 1 / 0)
    assert data["kind"] == "study" and data["margin"] == "cross" and data["horizon"] == "5d"
    assert data["runs"] >= 8 and data["rolling"] == "2d"
    for m in data["strategies"].values():
        assert {"survival", "liquidations_per_90d", "return", "cvar_5", "max_drawdown",
                "hedge_cost"} <= set(m)
        assert set(m["return"]) >= {"median", "p5", "p95"}
        assert set(m["max_drawdown"]) == {"median", "p95"}
    for rows in data["paired"].values():
        for p in rows.values():
            assert {"median_diff", "ci_low", "ci_high"} <= set(p)
    assert set(data["paired"]["min_variance"]) == {"none", "matched", "static"}
    assert data["seed_claim"]["comparable"] is False  # 5 days, not about 90
    assert data["assumptions"] and data["example"]["start"]


def test_spawned_workers_give_the_same_study(sim):
    ep = engine_params(Config())
    params = BacktestParams(main=sim.symbols[0])
    m = prepare(sim, params.book, ep, params.costs)
    views = ViewMaker.of(m, ep)
    starts = start_grid(m, 30 * DAY + 1, 3 * DAY, 5 * DAY)
    strategies = {"static": StaticHedge()}
    here = run_study(m, views, strategies, params, starts, 3 * DAY, 5 * DAY, workers=1)
    there = run_study(m, views, strategies, params, starts, 3 * DAY, 5 * DAY, workers=2,
                      start_method="spawn")
    assert there.starts == here.starts
    for name, out in here.outcomes.items():
        for k, v in out.items():
            np.testing.assert_array_equal(there.outcomes[name][k], v)
