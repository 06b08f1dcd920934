"""``[tradingview]`` values that mean nothing are one problem each, named, before start."""

from __future__ import annotations

import pytest

from tests.settings.test_config_meaning import problems


@pytest.mark.parametrize("text,expected", [
    ('[tradingview]\nallowed_ips = ["52.89.214.238", "tradingview"]',
     "tradingview: allowed_ips: 'tradingview' is not an IP address or network (e.g. "
     "\"52.89.214.238\" or \"10.0.0.0/8\")"),
    ('[tradingview]\npublic_url = "bot.example.com"',
     "tradingview: public_url 'bot.example.com' must be an http(s) URL, e.g. "
     "\"https://bot.example.com\""),
    ('[tradingview]\nenrich_timeout = "5s"',
     "tradingview.enrich_timeout = '5s': must be from 100ms to 2500ms"),
    ('[tradingview]\nenabled = true\nport = 9108\n[metrics]\nport = 9108',
     "tradingview.port = 9108: is also [metrics] port: give the intake its own"),
    ('[tradingview]\nroute_rate = 0', "tradingview.route_rate = 0: must be at least 1"),
])
def test_a_tradingview_value_that_means_nothing_is_one_problem(tmp_path, text, expected):
    assert problems(tmp_path, text) == [expected]
