"""No look-ahead, as a user replays it: ``bot.py risk … --at T`` on a CSV market gives the
same answer however the bars after T are changed — the tail model is fitted on what the bot
would have held at T, nothing later."""

from __future__ import annotations

import json
from pathlib import Path

from tests.chat.test_cli_commands import bot, write_csv_market


def crash_after(folder: Path, at_ms: int) -> None:
    """Every bar after ``at_ms`` 40 % lower, with a wick to −60 %: a crash the answer at
    ``at_ms`` must not know about."""
    for path in folder.glob("*.csv"):
        head, *rows = path.read_text().splitlines()
        out = [head]
        for row in rows:
            ts, o, h, lo, c, v = row.split(",")
            if int(ts) > at_ms:
                o, h, c = (str(float(x) * 0.6) for x in (o, h, c))
                lo = str(float(lo) * 0.4)
            out.append(",".join((ts, o, h, lo, c, v)))
        path.write_text("\n".join(out) + "\n")


def test_risk_at_a_moment_ignores_every_bar_after_it(tmp_path):
    data = tmp_path / "csv"
    data.mkdir()
    write_csv_market(data)
    at = 1_700_000_000_000 // 900_000 * 900_000 + 900_000 * 2950

    def ask(when: int = at) -> dict:
        r = bot(tmp_path, "risk", "btc", "long", "0.5", "20x", "--exchange", "csv", "--data",
                str(data), "--at", str(when), "--json")
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    before = ask()
    assert before["risk_model"] == "tail" and before["as_of"] <= at
    assert 0 < before["touch_prob_24h"] < 1
    crash_after(data, at)
    assert ask() == before
    later = ask(at + 900_000 * 8)  # the crash is there two hours on: the replay sees it
    assert later["mark"] < 0.7 * before["mark"]
