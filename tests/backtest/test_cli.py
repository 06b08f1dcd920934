"""``bot.py backtest`` flags, its JSON, chart and report, and ``/backtest`` in chat."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest

import bot
from chat.commands.backtest import BacktestCommand, ChatBacktest
from chat.context import CommandContext, Services
from chat.grammar import ArgumentError
from plugins.exchanges.sim_market import SimMarket
from runtime import build_runtime
from settings.config import Config
from settings.secrets import Secrets

KEYS = {"total_return", "max_drawdown", "liquidations", "sharpe", "sortino", "fees", "funding",
        "slippage", "hedge_cost", "turnover", "worst_15m", "worst_1h", "worst_1d",
        "time_under_water", "stress", "collateral", "liquidated_at", "lives"}


def cli(argv: list[str]) -> int:
    cmd = BacktestCommand()
    args = bot.build_parser([cmd]).parse_args(argv)
    rt = build_runtime(Config(), Secrets.from_env(), entry_points=False).with_args(args)
    return bot.dispatch(rt)


def _no_nan(text: str) -> dict:
    def refuse(c: str) -> None:
        raise AssertionError(f"{c} in JSON")
    return json.loads(text, parse_constant=refuse)


def test_json_has_stable_keys_and_no_nan(capsys):
    assert cli(["backtest", "--exchange", "sim", "--days", "4", "--json"]) == 0
    data = _no_nan(capsys.readouterr().out)
    assert {"strategies", "bars", "start", "end", "assumptions"} <= set(data)
    assert set(data["strategies"]) == {"none", "static", "min_variance", "seed_regime",
                                       "counterweight"}
    for m in data["strategies"].values():
        assert set(m) >= KEYS
    assert data["bars"] == 4 * 96
    assert data["simulated"] is True
    assert all(isinstance(a, str) for a in data["assumptions"]) and len(data["assumptions"]) > 8


def test_table_chart_and_report(tmp_path, capsys):
    png, md = tmp_path / "bt.png", tmp_path / "bt.md"
    code = cli(["backtest", "--exchange", "sim", "--days", "3", "--strategies", "none,static",
                "--chart", str(png), "--report", str(md), "--leverage", "5"])
    out = capsys.readouterr()
    assert code == 0
    assert "static" in out.out and "max DD" in out.out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = md.read_text()
    assert "## Assumptions" in text and "bt.png" in text and "5x" in text


@pytest.mark.parametrize("argv", [
    ["--strategies", "nope"],
    ["--start", "yesterday"],
    ["--main", "NOPE"],
])
def test_bad_flags_exit_2(argv, capsys):
    assert cli(["backtest", "--exchange", "sim", "--days", "2", "--no-progress", *argv]) == 2
    assert capsys.readouterr().err.strip()


def test_chat_parse():
    cmd = BacktestCommand()
    assert cmd.parse([]) == ChatBacktest(90.0, 10.0)
    assert cmd.parse(["30", "5x"]) == ChatBacktest(30.0, 5.0)
    assert cmd.parse(["30", "5", "isolated"]) == ChatBacktest(30.0, 5.0, "isolated")
    assert cmd.parse(["Cross"]) == ChatBacktest(90.0, 10.0, "cross")
    for bad in (["x"], ["0"], ["30", "500"], ["1", "2", "3"]):
        with pytest.raises(ArgumentError):
            cmd.parse(bad)


def test_chat_answer_has_table_and_chart():
    config = Config()
    market = SimMarket(config.exchange.model_copy(update={"sim_days": 40}), n_symbols=4)
    services = Services(config, None, market)
    reply = asyncio.run(BacktestCommand().answer(ChatBacktest(5, 10), CommandContext.local(
        services)))
    assert reply.ok
    assert "min_variance" in reply.as_text()
    assert reply.chart is not None and reply.chart()[:4] == b"\x89PNG"
    json.dumps(reply.data, allow_nan=False)


def test_a_book_with_weights_from_the_cli(capsys):
    assert cli(["backtest", "--exchange", "sim", "--days", "3", "--main", "BTC,ETH",
                "--weights", "0.6,0.4", "--margin", "isolated", "--json", "--no-progress",
                "--strategies", "none,static"]) == 0
    data = _no_nan(capsys.readouterr().out)
    assert data["main"] == {"BTC-USDT-SWAP": 0.6, "ETH-USDT-SWAP": 0.4}
    assert data["margin"] == "isolated"
    assert any(a.startswith("Main book: long BTC 60% + ETH 40%") for a in data["assumptions"])


@pytest.mark.parametrize("argv", [
    ["--main", "BTC,ETH", "--weights", "1"],
    ["--weights", "x"],
    ["--reentry", "later"],
    ["--rolling", "soon"],
    ["--fees", "-1"],
    ["--workers", "0"],
])
def test_bad_study_flags_exit_2(argv, capsys):
    assert cli(["backtest", "--exchange", "sim", "--days", "2", "--no-progress", *argv]) == 2
    assert capsys.readouterr().err.strip()


def test_a_main_the_data_do_not_hold_is_named_with_what_they_do_hold(capsys):
    assert cli(["backtest", "--exchange", "sim", "--days", "2", "--no-progress",
                "--main", "NOPE"]) == 2
    err = capsys.readouterr().err
    assert "NOPE is not in the data (" in err and "BTC-USDT-SWAP" in err and "--main" in err


def test_the_assumptions_name_the_data_s_bar_size(capsys):
    assert cli(["backtest", "--exchange", "sim", "--timeframe", "1h", "--days", "5",
                "--strategies", "none,static", "--json", "--no-progress"]) == 0
    said = " ".join(_no_nan(capsys.readouterr().out)["assumptions"])
    assert "inside one 1h bar" in said and "15m bar" not in said
    assert "worst 15m is one bar" in said


def test_what_the_csv_folder_assumed_is_in_the_backtest_s_assumptions(tmp_path, capsys):
    rng = np.random.default_rng(5)
    t = 1_700_000_000_000 // 900_000 * 900_000 + 900_000 * np.arange(34 * 96)
    for name, p0 in (("BTCUSDT_spot_15m.csv", 40_000.0), ("ETHUSDT_15m.csv", 2_000.0)):
        close = p0 * np.exp(np.cumsum(rng.normal(0, 0.002, t.size)))
        opens = np.r_[close[0], close[:-1]]
        rows = [f"{a},{o},{max(o, c) * 1.001},{min(o, c) * 0.999},{c},50"
                for a, o, c in zip(t, opens, close, strict=True)]
        (tmp_path / name).write_text("ts_ms,open,high,low,close,volume\n" + "\n".join(rows))
    assert cli(["backtest", "--exchange", "csv", "--data", str(tmp_path), "--days", "2",
                "--strategies", "none,static", "--json", "--no-progress"]) == 0
    said = _no_nan(capsys.readouterr().out)["assumptions"]
    assert any(a.startswith("tiers: no tier table for BTC-USDT-SWAP, ETH-USDT-SWAP")
               for a in said)
    assert any(a.startswith("prices: BTC-USDT-SWAP come from spot candles") for a in said)
    assert not any(a.startswith("fees:") for a in said)  # the backtest's own line says it
