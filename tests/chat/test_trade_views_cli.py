"""The trade log's views from the command line and the console: ``--json`` with the keys the
README documents, ``export`` to stdout or ``--output``, the console saving the file."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from chat.console import run_console
from chat.context import LOCAL_USER_ID
from chat.trade_export import COLUMNS
from storage import open_database
from storage.trades import close_trade, open_trade
from tests.chat.test_cli_commands import bot

BTC = "BTC-USDT-SWAP"


def log_local_trade(tmp_path: Path) -> None:
    """The local user's BTC long 0.5 @ 60,000 closed at 61,000 (fees 15 + 15.25), and
    someone else's trade the CLI must not show."""
    db = open_database(tmp_path / "hw.db")
    t = open_trade(db, user_id=LOCAL_USER_ID, chat_id=LOCAL_USER_ID, symbol=BTC, side="long",
                   size=0.5, entry=60_000.0, leverage=10.0, opened_at=1_000, fee_rate=0.0005,
                   note="-1+1")
    close_trade(db, LOCAL_USER_ID, t.id, 61_000.0, 2_000)
    open_trade(db, user_id=42, chat_id=42, symbol=BTC, side="short", size=1.0, entry=1.0,
               leverage=1.0, opened_at=1, fee_rate=0.0)
    db.conn.close()


VIEW_KEYS = {
    "daily": {"unit", "timezone", "periods", "total", "as_of", "warnings"},
    "weekly": {"unit", "timezone", "periods", "total", "as_of", "warnings"},
    "monthly": {"unit", "timezone", "periods", "total", "as_of", "warnings"},
    "performance": {"symbols", "as_of"},
    "stats": {"trades", "wins", "losses", "draws", "win_rate", "average_win",
              "average_loss", "average_net", "profit_factor", "best_trade", "worst_trade",
              "max_drawdown", "max_drawdown_pct", "max_drawdown_start", "max_drawdown_end",
              "liquidations", "legs", "realised", "fees", "funding", "net", "open_trades",
              "first_close", "last_close", "warnings", "as_of"},
    "export": {"filename", "columns", "rows", "as_of"},
}
PERIOD_KEYS = {"date", "start_ms", "end_ms", "realised", "fees", "funding", "net",
               "trade_count", "leg_count", "liquidations"}


def test_json_keys_of_every_view(tmp_path):
    log_local_trade(tmp_path)
    for name, expected in VIEW_KEYS.items():
        r = bot(tmp_path, name, "--json")
        assert r.returncode == 0, r.stderr
        assert set(json.loads(r.stdout)) == expected, name
    (day,) = json.loads(bot(tmp_path, "monthly", "1", "--json").stdout)["periods"]
    assert set(day) == PERIOD_KEYS and day["date"].endswith("-01")  # this month
    (perf,) = json.loads(bot(tmp_path, "performance", "--json").stdout)["symbols"]
    assert set(perf) == {"symbol", *PERIOD_KEYS - {"date", "start_ms", "end_ms"},
                         "hedge_net", "margin", "return_pct"}
    st = json.loads(bot(tmp_path, "stats", "--json").stdout)
    assert st["profit_factor"] is None and st["max_drawdown_pct"] is None  # never NaN/inf
    assert st["net"] == pytest.approx(500 - 15 - 15.25)
    pnl = json.loads(bot(tmp_path, "pnl", "--json").stdout)
    assert {"realised", "unrealised", "fees", "funding", "net", "closed_trades", "open_trades",
            "legs", "unpriced_trades", "trades", "as_of", "data_age_ms", "data_behind",
            "warnings"} == set(pnl)


def test_export_writes_csv_to_stdout_or_to_a_file(tmp_path):
    log_local_trade(tmp_path)
    r = bot(tmp_path, "export")
    assert r.returncode == 0 and r.stderr == ""
    (row,) = csv.DictReader(io.StringIO(r.stdout))
    assert row["id"] == "1" and row["note"] == "'-1+1"
    assert float(row["net_pnl"]) == pytest.approx(469.75)
    out = tmp_path / "trades.csv"
    r = bot(tmp_path, "export", "--output", str(out))
    assert r.returncode == 0 and f"[written to {out}]" in r.stdout and "1 trade(s)" in r.stdout
    assert out.read_bytes().startswith(b"id,parent_id,") and b"\r\n1,," in out.read_bytes()
    r = bot(tmp_path, "export", "--output", str(tmp_path / "no" / "such" / "dir.csv"))
    assert r.returncode == 1 and "--output" in r.stderr
    assert bot(tmp_path, "export", "now").returncode == 2


def test_the_console_saves_the_export(runtime, tmp_path):
    log_local_trade(tmp_path)
    out = io.StringIO()
    assert run_console(runtime, stdin=io.StringIO("/export\n/stats\n"), out=out) == 0
    text = out.getvalue()
    (path,) = re.findall(r"\[file saved to (.+\.csv)\]", text)
    saved = Path(path)
    assert saved.name.startswith("hedgewatch-trades-") and b"BTC-USDT-SWAP" in saved.read_bytes()
    saved.unlink()
    assert "Win rate 100.0 % (1 won, 0 lost)" in text


def test_every_json_key_is_documented_in_the_readme():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("**The trade log's views**"):readme.index("Exit codes: 0 answ")]
    keys = set().union(*VIEW_KEYS.values(), PERIOD_KEYS, COLUMNS,
                       {"hedge_net", "margin", "return_pct", "unpriced_trades", "data_age_ms"})
    assert sorted(k for k in keys if f"`{k}`" not in section) == []
