"""Config validation covers meaning, not just types: bounds, order, whole bars, ports, URLs,
ids, names — the file and environment overrides alike, secrets never echoed."""

from __future__ import annotations

from pathlib import Path

import pytest

from plugins.config_checks import plugin_problems
from plugins.manager import PluginManager
from settings import Config, ConfigError, load_config
from settings.checks import config_problems
from settings.loader import describe


def problems(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> list[str]:
    p = tmp_path / "c.toml"
    p.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_config(p, env=env or {})
    return e.value.problems


def full(config: Config, env: dict[str, str] | None = None) -> list[str]:
    """What check-config adds with the plugins (no network)."""
    found = plugin_problems(config, PluginManager(entry_points=False))
    return [describe(p, config.model_dump(mode="json"), env or {}) for p in found]


@pytest.mark.parametrize("text,expected", [
    ('[exchange]\ntimeout = "1h"', "exchange.timeout = '1h': must be from 1s to 5m"),
    ('[schedule]\ndelay = "20m"', "schedule.delay = '20m': must be shorter than "
                                  "schedule.interval (15m)"),
    ('[exchange]\ntimeframe = "1s"\n[engine]\nfast_window = "1h"',
     "engine.slow_window = '30d': is 2,592,000 bars of exchange.timeframe = '1s'; at most "
     "50,000 bars fit in a snapshot"),
    ('[engine]\nhysteresis = 0.3', "engine.hysteresis = 0.3: must be less than half the gap "
                                   "between low_corr and high_corr (0.2), or the regimes "
                                   "overlap"),
    ('[engine]\nlow_corr = 0.8', "engine: low_corr must be below high_corr"),
    ('[risk]\nsafe_touch_prob = 0.0', "risk.safe_touch_prob = 0.0: must be above 0.0"),
    ('[risk]\ntaker_fee = 0.5', "risk.taker_fee = 0.5: must be at most 0.01"),
    ('[telegram]\nwebhook_url = "https://bot.example.com:9000/x"',
     "telegram.webhook_url = 'https://bot.example.com:9000/x': uses port 9000; Telegram only "
     "delivers webhooks to ports 443, 80, 88, 8443"),
    ('[telegram]\napi_url = "localhost:8081"',
     "telegram.api_url = 'localhost:8081': must be a http or https URL with a host, e.g. "
     "\"http://127.0.0.1:8080\""),
    ('[telegram]\nsignal_channel = "signals"',
     "telegram.signal_channel = 'signals': must be a chat id or a public @username (5-32 "
     "characters), e.g. \"@hedgewatch_signals\""),
    ('[telegram]\nadmins = [0]', "telegram.admins.0 = 0: is not a user id (user ids are "
                                 "positive)"),
    ('[exchange]\nsymbols = ["BTC", "BTC ETH"]', "exchange.symbols.1 = 'BTC ETH': is not a "
                                                 "symbol, e.g. \"BTC\" or \"BTC-USDT-SWAP\""),
    ('[exchange]\nseed = -1', "exchange.seed = -1: must be at least 0"),
    ('[engine]\nslow_window = "99999999999999999999999d"',
     "engine.slow_window = '99999999999999999999999d': '99999999999999999999999d' is longer "
     "than any setting needs (at most 10 years)"),
    ('[storage]\npath = "/no/such/folder/hw.db"', "storage.path = '/no/such/folder/hw.db': "
                                                  "is in a folder that does not exist"),
])
def test_a_value_that_means_nothing_is_one_problem(tmp_path, text, expected) -> None:
    assert problems(tmp_path, text) == [expected]


def test_environment_overrides_are_checked_the_same_way_and_named(tmp_path) -> None:
    got = problems(tmp_path, "", {"HEDGEWATCH_TELEGRAM_WEBHOOK_PORT": "70000",
                                  "HEDGEWATCH_ENGINE_REGIME_Z": "nan"})
    assert sorted(got) == [
        "engine.regime_z = nan (from HEDGEWATCH_ENGINE_REGIME_Z): must be a finite number (not "
        "nan or inf)",
        "telegram.webhook_port = 70000 (from HEDGEWATCH_TELEGRAM_WEBHOOK_PORT): must be at most "
        "65535"]


@pytest.mark.parametrize("secret", [
    "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",  # a bot token
    "c8a6e5b4-1234-4cde-8f00-0123456789ab",  # an OKX API key
    "9F2A4C6E8B0D1F3A5C7E9B1D3F5A7C9E",  # an exchange secret
])
def test_a_value_that_looks_like_a_secret_is_never_echoed(tmp_path, secret) -> None:
    got = problems(tmp_path, "", {"HEDGEWATCH_TELEGRAM_ADMINS": secret,
                                  "HEDGEWATCH_STRATEGIES_DEFAULT": f'"{secret}"',
                                  "HEDGEWATCH_TELEGRAM_SIGNAL_CHANNEL": secret})
    assert got and secret not in "\n".join(got)
    assert all("(value hidden: it looks like a secret)" in p for p in got)


def test_the_plugins_check_the_exchange_timeframe_history_and_names() -> None:
    c = Config().with_overrides(
        exchange={"name": "sim", "timeframe": "1h", "sim_days": 10},
        engine={"min_regime_time": "90m"}, strategies={"params": {"seed_regim": {"x": 1}}},
        plugins={"disabled": ["chat.commands.bultin"]})
    assert full(c) == [
        "engine.min_regime_time = '90m': is 1.5 bars of exchange.timeframe = '1h'; make it a "
        "whole number of bars (a multiple of 1h)",
        "engine.slow_window = '30d': is longer than the 10d ([exchange] sim_days) of history "
        "sim can give",
        "strategies.params.seed_regim: names no strategy (did you mean 'seed_regime'?); "
        "available: counterweight, min_variance, none, seed_regime, static",
        "plugins.disabled.0 = 'chat.commands.bultin': no plugin is called that (did you mean "
        "'chat.commands.builtin'?) (see: python bot.py plugins)"]


def test_unknown_exchange_and_strategy_parameters_are_named() -> None:
    c = Config().with_overrides(exchange={"name": "okk"},
                                strategies={"params": {"seed_regime": {"shrnk": 0.5}}})
    got = full(c)
    assert got[0].startswith("exchange.name = 'okk': no exchange plugin is called that (did you "
                             "mean 'okx'?); available: ")
    assert got[1] == ("strategies.params.seed_regime: strategy seed_regime: unknown parameter(s) "
                      "shrnk; known: grow, shrink, switch_margin")


def test_the_shipped_defaults_mean_something() -> None:
    assert config_problems(Config()) == [] and full(Config()) == []


def test_csv_needs_a_folder_with_files_of_the_timeframe(tmp_path) -> None:
    c = Config().with_overrides(exchange={"name": "csv", "data_dir": str(tmp_path)})
    assert full(c) == [f"exchange.timeframe = '15m': the csv folder {tmp_path} has no "
                       "<SYMBOL>_15m.csv[.gz] files"]
