"""``bot.py check-config`` and ``bot.py run`` refuse the same bad configs (the same code),
exit 2, and say one line per problem — the configs a fuzzing pass found that used to pass."""

from __future__ import annotations

from pathlib import Path

import pytest

import bot
from tests.fakes.okx_server import FakeOkx

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
OFFLINE = 'api_url = "http://127.0.0.1:9"'  # nothing listens: no request leaves the machine


def problems(capsys, *argv: str) -> tuple[int, list[str]]:
    code = bot.main(list(argv))
    err = capsys.readouterr().err
    return code, [line.removeprefix("  - ") for line in err.splitlines()
                  if line.startswith("  - ")]


CASES = {
    "timeframe 1ms": ('[exchange]\nname = "sim"\ntimeframe = "1ms"\n', {},
                      ["exchange.timeframe = '1ms': must be from 1s to 1w"]),
    "timeframe 7m": (f'[exchange]\n{OFFLINE}\ntimeframe = "7m"\n', {},
                     ["exchange.timeframe = '7m': okx has no 7m candles; choose one of 1m, 3m, "
                      "5m, 15m, 30m, 1h, 2h, 4h, 6h, 12h, 1d, 1w"]),
    "symbol typo": ('[exchange]\nname = "sim"\nsymbols = ["BTC", "BTCC"]\n', {},
                    ["exchange.symbols.1: sim has no symbol 'BTCC' (did you mean BTC-USDT-SWAP, "
                     "LTC-USDT-SWAP?)"]),
    "port 70000": ('[exchange]\nname = "sim"\n[telegram]\nwebhook_port = 70000\n', {},
                   ["telegram.webhook_port = 70000: must be at most 65535"]),
    "port -1": ('[exchange]\nname = "sim"\n[telegram]\nwebhook_port = -1\n', {},
                ["telegram.webhook_port = -1: must be at least 1"]),
    "nan and inf": ('[exchange]\nname = "sim"\n[engine]\nhigh_corr = nan\nregime_z = inf\n'
                    '[risk]\nliquidation_alert_sigma = inf\n', {},
                    ["engine.high_corr = nan: must be a finite number (not nan or inf)",
                     "engine.regime_z = inf: must be a finite number (not nan or inf)",
                     "risk.liquidation_alert_sigma = inf: must be a finite number (not nan or "
                     "inf)"]),
    "no such strategy": ('[exchange]\nname = "sim"\n[strategies]\ndefault = "min_varience"\n',
                         {}, ["strategies.default = 'min_varience': no strategy is called that "
                              "(did you mean 'min_variance'?); available: counterweight, "
                              "min_variance, none, seed_regime, static"]),
    "webhook without url": ('[exchange]\nname = "sim"\n[telegram]\nmode = "webhook"\n',
                            {"TELEGRAM_WEBHOOK_SECRET": "s3cret"},
                            ["telegram.webhook_url: is needed in webhook mode (telegram.mode = "
                             "\"webhook\"): the public https URL Telegram posts updates to"]),
    "token as admins": ('[exchange]\nname = "sim"\n', {"HEDGEWATCH_TELEGRAM_ADMINS": TOKEN,
                                                       "TELEGRAM_BOT_TOKEN": TOKEN},
                        ["telegram.admins (value hidden: it looks like a secret) (from "
                         "HEDGEWATCH_TELEGRAM_ADMINS): Input should be a valid list"]),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("command", ["check-config", "run"])
def test_bad_config_exits_2_with_one_line_per_problem(tmp_path, monkeypatch, capsys, case,
                                                      command) -> None:
    text, env, expected = CASES[case]
    (tmp_path / "bad.toml").write_text(text + f'[storage]\npath = "{tmp_path / "hw.db"}"\n')
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    code, lines = problems(capsys, command, "--config", str(tmp_path / "bad.toml"))
    assert (code, lines) == (2, expected)
    assert TOKEN not in capsys.readouterr().out


def test_a_good_config_passes_and_prints_the_effective_config(tmp_path, capsys) -> None:
    cfg = tmp_path / "ok.toml"
    cfg.write_text(f'[exchange]\nname = "sim"\n[storage]\npath = "{tmp_path / "hw.db"}"\n')
    assert bot.main(["check-config", "--config", str(cfg)]) == 0
    assert 'name = "sim"' in capsys.readouterr().out


@pytest.fixture
def okx():
    srv = FakeOkx()
    srv.start_in_thread()
    yield srv
    srv.stop_thread()


def _okx_config(tmp_path: Path, url: str, symbols: str) -> Path:
    cfg = tmp_path / "okx.toml"
    cfg.write_text(f'[exchange]\napi_url = "{url}"\nsymbols = {symbols}\nmax_retries = 0\n'
                   f'timeout = "2s"\n[schedule]\ncascade_symbols = ["BTC"]\n'
                   f'[storage]\npath = "{tmp_path / "hw.db"}"\n')
    return cfg


def test_symbols_are_checked_against_the_exchange_at_start(tmp_path, okx, capsys) -> None:
    cfg = _okx_config(tmp_path, okx.url, '["BTC", "ETHH", "SOL"]')
    code, lines = problems(capsys, "check-config", "--config", str(cfg))
    assert (code, lines) == (2, ["exchange.symbols.1: okx has no symbol 'ETHH' (did you mean "
                                 "ETH-USDT-SWAP?)"])
    assert okx.count("public/instruments") >= 1


def test_an_unreachable_exchange_is_a_warning_not_a_problem(tmp_path, capsys) -> None:
    cfg = _okx_config(tmp_path, "http://127.0.0.1:9", '["BTC", "ETHH"]')
    assert bot.main(["check-config", "--config", str(cfg)]) == 0
    err = capsys.readouterr().err
    assert err.startswith("warning: could not load okx's market list to check the symbols (")
    assert err.rstrip().endswith("an unknown one will be reported to the operator ([telegram] "
                                 "admins) when the exchange answers")
