"""The one-shot CLI as a user runs it: a real process, real SQLite, the sim and CSV markets."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.returns import log_returns
from core.risk import MIN_RETURNS_FOR_VOL, risk_report
from core.tail_risk import fit_tails
from core.types import Position
from core.views import correlation_view, largest_changes
from core.volatility import ewma_vol
from plugins.exchanges.sim_market import SimMarket
from settings import Config
from settings.engine import engine_params
from storage import open_database
from storage.trades import open_trade

ROOT = Path(__file__).resolve().parents[2]
BTC = "BTC-USDT-SWAP"


def bot(tmp_path: Path, *args: str):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEDGEWATCH_", "TELEGRAM_"))}
    env["HEDGEWATCH_STORAGE_PATH"] = str(tmp_path / "hw.db")
    return subprocess.run([sys.executable, str(ROOT / "bot.py"), *args], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=120)


def sim_json(tmp_path: Path, *args: str) -> dict:
    r = bot(tmp_path, *args, "--exchange", "sim", "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def sim_snapshot(symbols):
    cfg = Config()
    market = SimMarket(cfg.exchange.model_copy(update={"name": "sim"}))
    bars = cfg.engine.slow_window.bars(cfg.exchange.timeframe) + 1
    return asyncio.run(market.snapshot(symbols, bars=bars))


def assert_same(cli, engine):
    """Equal, with NaN in the engine where the CLI has null."""
    a = np.array(cli, dtype=float)  # None -> nan
    np.testing.assert_allclose(a, np.asarray(engine, dtype=float), rtol=1e-12, equal_nan=True)


def test_risk_json_equals_the_engine(tmp_path):
    out = sim_json(tmp_path, "risk", "btc", "short", "0.5", "@90000", "20x")
    cfg = Config()
    snap = sim_snapshot([BTC])
    j = snap.index(BTC)
    closes = snap.close[:, j]
    sigma = ewma_vol(log_returns(closes), cfg.engine.ewma_halflife.bars(cfg.exchange.timeframe),
                     MIN_RETURNS_FOR_VOL)[0]
    tails = fit_tails(snap.close, snap.high, snap.low, 4.0)  # every symbol, as the engine
    engine = risk_report(Position(BTC, "short", 0.5, 90000.0, 20.0), snap.instruments[BTC],
                         snap.last_price(BTC), sigma, 4.0, closes=closes,
                         target_prob=cfg.risk.safe_touch_prob, tails=tails,
                         tail_row=j).to_dict()
    assert engine["risk_model"] == "tail"
    for key in ("liquidation_price", "distance_pct", "distance_sigma_24h", "touch_prob_1h",
                "touch_prob_4h", "touch_prob_24h", "touch_prob_24h_gaussian", "safe_leverage",
                "safe_leverage_gaussian", "safe_distance_pct", "mmr", "warnings"):
        assert out[key] == engine[key], key


def test_risk_mmr_and_fee_overrides(tmp_path):
    out = sim_json(tmp_path, "risk", "btc", "0.5", "@60000", "10x", "--mmr", "0.02",
                   "--fee", "0")
    assert out["mmr"] == 0.02 and out["fee"] == 0.0
    # long: (entry - margin/size) / (1 - mmr - fee)
    assert out["liquidation_price"] == pytest.approx((60000 - 6000) / (1 - 0.02))


def test_corr_json_equals_the_engine(tmp_path):
    out = sim_json(tmp_path, "corr", "btc", "eth", "sol", "doge")
    assert set(out) >= {"symbols", "fast", "slow", "ewma", "as_of"}
    syms = out["symbols"]
    snap = sim_snapshot(syms)
    close = snap.close[:, [snap.index(s) for s in syms]]
    view = correlation_view(close, engine_params(Config()).corr, with_z=False)
    assert_same(out["fast"], view.fast_corr)
    assert_same(out["slow"], view.slow_corr)
    assert_same(out["ewma"], view.ewma_corr)
    top = largest_changes(view, syms, k=3)
    assert [c["pair"] for c in out["largest_changes"]] == [[c.a, c.b] for c in top]
    assert out["as_of"] == snap.last_bar_close_ms


def test_bad_arguments_exit_2_with_one_line_on_stderr(tmp_path):
    r = bot(tmp_path, "risk", "btc", "long", "0.5", "@60000", "10xx", "--exchange", "sim")
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip() == ("I didn't understand '10xx' — leverage is a number followed by "
                                "x, e.g. /risk btc long 0.5 @60000 10x")
    r = bot(tmp_path, "corr", "btc", "nope", "--exchange", "sim")
    assert r.returncode == 2 and "I don't know the symbol 'nope'" in r.stderr
    r = bot(tmp_path, "risk", "btc", "--exchange", "sim", "--at", "yesterday")
    assert r.returncode == 2 and "--at" in r.stderr


def test_runtime_failure_exits_1_with_one_line(tmp_path):
    r = bot(tmp_path, "risk", "btc", "--exchange", "csv", "--data", str(tmp_path / "nowhere"))
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1


def test_trade_log_survives_a_restart_and_stays_per_user(tmp_path):
    db = open_database(tmp_path / "hw.db")
    open_trade(db, user_id=42, chat_id=42, symbol="ETH-USDT-SWAP", side="short", size=1.0,
               entry=3000.0, leverage=5.0, opened_at=1, fee_rate=0.0005)
    assert bot(tmp_path, "open", "btc", "long", "0.5", "@60000", "10x", "--exchange",
               "sim").returncode == 0
    log = sim_json(tmp_path, "log")["trades"]
    assert [(t["id"], t["symbol"]) for t in log] == [(2, BTC)]  # not user 42's trade #1
    r = bot(tmp_path, "close", "1", "@3100", "--exchange", "sim")
    assert r.returncode == 2 and "no open trade #1 of yours" in r.stderr
    closed = sim_json(tmp_path, "close", "2", "@61000")["trade"]
    assert closed["realised_pnl"] == pytest.approx(500 - 0.0005 * 0.5 * (60000 + 61000))
    assert sim_json(tmp_path, "pnl")["realised"] == pytest.approx(closed["realised_pnl"])


def test_text_output_and_help(tmp_path):
    r = bot(tmp_path, "help", "corr")
    assert r.returncode == 0 and "usage: /corr" in r.stdout
    r = bot(tmp_path, "--help")
    assert "risk" in r.stdout and "corr" in r.stdout and "subscribe" in r.stdout


def write_csv_market(folder: Path, n: int = 3000) -> None:
    rng = np.random.default_rng(3)
    t = 1_700_000_000_000 // 900_000 * 900_000 + 900_000 * np.arange(n)
    common = rng.normal(0, 0.003, n)
    for base, price in {"BTC": 60000, "ETH": 3000, "SOL": 150}.items():
        close = price * np.exp(np.cumsum(common + rng.normal(0, 0.002, n)))
        rows = [f"{ts},{c},{c * 1.001},{c * 0.999},{c},10" for ts, c in zip(t, close,
                                                                        strict=True)]
        (folder / f"{base}-USDT-SWAP_15m.csv").write_text(
            "ts_ms,open,high,low,close,volume\n" + "\n".join(rows) + "\n")


def test_csv_market_replay_with_data_and_at(tmp_path):
    data = tmp_path / "csv"
    data.mkdir()
    write_csv_market(data)
    at = 1_700_000_000_000 // 900_000 * 900_000 + 900_000 * 2000
    r = bot(tmp_path, "corr", "--exchange", "csv", "--data", str(data), "--at", str(at), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["symbols"] == ["BTC-USDT-SWAP", "ETH-USDT-SWAP", "SOL-USDT-SWAP"]
    assert out["as_of"] == at and out["fast"][0][1] > 0.5
    r = bot(tmp_path, "risk", "eth", "short", "$3000", "--exchange", "csv", "--data", str(data),
            "--at", "2023-11-15T00:00", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["as_of"] <= at


CLI_CASES = [  # (args, exit code, text expected on stdout (0) or stderr (2))
    (["start"], 0, "hedgewatch advises; it never places an order"),
    (["start", "now"], 2, "/start takes no arguments"),
    (["status", "--exchange", "sim"], 0, "Outbox: nothing waiting to be sent"),
    (["status", "x", "--exchange", "sim"], 2, "/status takes no arguments"),
    (["positions", "--exchange", "sim"], 0, "No open trades"),
    (["positions", "all", "--exchange", "sim"], 2, "takes no arguments"),
    (["log", "0"], 2, "whole number from 1"),
    (["pnl", "--exchange", "sim"], 0, "Your trade log is empty"),
    (["daily", "61"], 2, "whole number from 1 to 60"),
    (["stats"], 0, "no closed trade yet"),
    (["export"], 0, "nothing to export"),
    (["open", "btc", "long", "@60000", "--exchange", "sim"], 2, "/open needs a size"),
    (["subscribe", "liquidation"], 0, "Subscribed to liquidation"),
    (["subscribe", "moon"], 2, "alert kind 'moon'"),
    (["unsubscribe", "funding"], 0, "Unsubscribed from funding"),
    (["unsubscribe", "x"], 2, "alert kind 'x'"),
    (["mute", "30m"], 0, "Muted for 30m"),
    (["mute", "forever"], 2, "a duration is a number"),
    (["unmute"], 0, "Alerts resumed"),
    (["unmute", "1h"], 2, "takes no arguments"),
    (["settings", "severity", "warning"], 0, "Minimum severity set to warning"),
    (["settings", "tz", "Nowhere/City"], 2, "timezone 'Nowhere/City'"),
    (["help", "nope"], 2, "There is no /nope"),
]


def test_every_other_command_through_the_cli(tmp_path):
    """Run in parallel (each process pays the start-up); each in its own database folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEDGEWATCH_", "TELEGRAM_"))}
    procs = []
    for i, (args, _, _) in enumerate(CLI_CASES):
        folder = tmp_path / str(i)
        folder.mkdir()
        procs.append(subprocess.Popen(
            [sys.executable, str(ROOT / "bot.py"), *args], cwd=folder, text=True,
            env={**env, "HEDGEWATCH_STORAGE_PATH": str(folder / "hw.db")},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    for (args, code, expected), p in zip(CLI_CASES, procs, strict=True):
        out, err = p.communicate(timeout=180)
        assert p.returncode == code, (args, err)
        assert expected in (out if code == 0 else err), (args, out, err)
        if code == 2:
            assert out == "" and len(err.strip().splitlines()) == 1, (args, err)
