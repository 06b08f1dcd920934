"""A third-party strategy installed through the entry-point group, and the rebalance policy."""

from __future__ import annotations

import json
import sys
import textwrap

import pytest

import bot
from plugins.manager import PluginManager
from plugins.strategies.bars import replay_bars
from plugins.strategies.base import TargetLeg
from plugins.strategies.rebalance import rebalance
from plugins.strategies.registry import StrategyError, choose, load_strategies
from tests.strategies.conftest import PARAMS

HALF_HEDGE = '''
from plugins import hookimpl
from plugins.strategies.base import Decision, Strategy, beta_leg


class HalfHedge(Strategy):
    name = "half_beta"
    description = "Half the minimum-variance hedge."
    defaults = {"fraction": 0.5}

    def decide(self, bar, state):
        leg = beta_leg(bar, self.params["fraction"])
        return Decision((leg,) if leg else (), f"{self.params['fraction']} × β")


@hookimpl
def hedgewatch_register_strategies():
    return [HalfHedge]
'''


@pytest.fixture
def installed(tmp_path, monkeypatch):
    (tmp_path / "hw_half.py").write_text(textwrap.dedent(HALF_HEDGE))
    info = tmp_path / "hw_half-0.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hw-half\nVersion: 0.3\n")
    (info / "entry_points.txt").write_text("[hedgewatch]\nhalf = hw_half\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop("hw_half", None)


def test_third_party_strategy_is_listed_and_chosen_by_name(installed, market, position,
                                                            capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert bot.main(["plugins", "--json"]) == 0
    listed = {p["name"]: p for p in json.loads(capsys.readouterr().out)["plugins"]}
    assert "hedgewatch_register_strategies" in listed["half"]["hooks"]
    strategies = load_strategies(PluginManager(), {"half_beta": {"fraction": 0.25}})
    half, mv = choose(strategies, "half_beta"), choose(strategies, "min_variance")
    bar = next(replay_bars(market, position, PARAMS, start=1200))
    assert half.decide(bar, None).legs[0].size == pytest.approx(
        0.25 * mv.decide(bar, None).legs[0].size)


def test_unknown_strategy_name_lists_the_choices():
    strategies = load_strategies(PluginManager(entry_points=False))
    with pytest.raises(StrategyError, match="available: counterweight, min_variance"):
        choose(strategies, "yolo")


def test_a_strategy_from_the_future_is_refused_not_fatal():
    from plugins import hookimpl
    from plugins.strategies.base import Strategy

    class Future(Strategy):
        name = "future"
        interface_version = 99

    class Plugin:
        @staticmethod
        @hookimpl
        def hedgewatch_register_strategies():
            return [Future]

    pm = PluginManager(entry_points=False)
    pm.register(Plugin(), name="future-plugin")
    assert "future" not in load_strategies(pm)
    assert any("interface version 99" in f.error for f in pm.failures)


PRICES = {"ETH": 3000.0, "BTC": 60000.0}


def test_rebalance_only_past_the_threshold():
    held = (TargetLeg("ETH", "short", 10.0),)  # 30,000 USDT
    small = (TargetLeg("ETH", "short", 10.5),)  # +1,500 = 1.5 % of 100k
    big = (TargetLeg("ETH", "short", 14.0),)  # +12,000 = 12 %
    assert rebalance(held, small, PRICES, 100_000, 0.10) == (held, False)
    assert rebalance(held, big, PRICES, 100_000, 0.10) == (big, True)


def test_switching_instrument_counts_both_legs():
    held = (TargetLeg("ETH", "short", 10.0),)
    switch = (TargetLeg("BTC", "short", 0.5),)  # close 30k ETH, open 30k BTC: 60 % of 100k
    assert rebalance(held, switch, PRICES, 100_000, 0.5) == (switch, True)
    assert rebalance(held, switch, PRICES, 100_000, 0.7) == (held, False)


def test_first_hedge_and_missing_price():
    target = (TargetLeg("ETH", "short", 10.0),)
    assert rebalance((), target, PRICES, 100_000, 0.1) == (target, True)
    assert rebalance((), (TargetLeg("XYZ", "long", 1.0),), PRICES, 100_000, 0.1) == ((), False)
