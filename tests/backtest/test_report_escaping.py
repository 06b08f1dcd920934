"""The Markdown report shows text from outside (a title, a plugin strategy's name, the command
line) literally: it can't add headings, split table cells or end the code span."""

from __future__ import annotations

from backtest.report import markdown, md_code, md_text
from tests.backtest.test_cli import cli


def test_title_and_command_line_are_literal_in_the_report(tmp_path, capsys) -> None:
    md = tmp_path / "bt.md"
    title = "mine | evil\n# injected <b>*x*</b> `code`"
    assert cli(["backtest", "--exchange", "sim", "--days", "3", "--strategies", "none",
                "--report", str(md), "--title", title, "--no-progress"]) == 0
    lines = md.read_text().splitlines()
    assert lines[0] == r"# mine \| evil \# injected \<b\>\*x\*\</b\> \`code\`"
    assert not any(line.startswith("# injected") for line in lines)


def test_a_strategy_name_cannot_split_a_table_cell() -> None:
    metrics = {"total_return": 0.1, "max_drawdown": -0.1, "worst_1h": None, "worst_1d": None,
               "liquidations": 0, "sharpe": None, "fees": 1.0, "funding": 0.0, "slippage": 0.0,
               "hedge_cost": 0.0, "stress": {"total_return": None, "max_drawdown": None,
                                             "liquidations": 0},
               "final_equity": 1.0, "worst_15m": None, "sortino": None, "time_under_water": 0.0,
               "trades": 1, "turnover": 0.0, "hedge_liquidations": 0, "main_liquidated": False,
               "liquidated_at": None, "lives": 1, "collateral": 2000.0,
               "first_life_collateral": 2000.0}
    data = {"side": "long", "main": "BTC-USDT-SWAP", "leverage": 10.0, "capital": 2000.0,
            "start": "a", "end": "b", "bars": 1, "source": "sim", "simulated": True,
            "strategies": {"a|b": metrics}, "stress_windows": [], "stress_bars": 0,
            "main_entry": 1.0, "main_liquidation_price": 0.9, "margin": "cross",
            "reentry": "none", "assumptions": []}
    rows = [line for line in markdown(data, "t").splitlines() if line.startswith(r"| a\|b |")]
    assert len(rows) == 2 and all(r.count(" | ") == r.replace(r"\|", "").count(" | ")
                                  for r in rows)


def test_md_helpers() -> None:
    assert md_text("a\nb") == "a b"
    assert md_code("x `y`") == "`` x `y` ``"
