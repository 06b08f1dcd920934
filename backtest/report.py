"""The backtest's results as data (JSON-ready), a terminal table and a Markdown report."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from backtest import metrics as M
from backtest.assumptions import model_assumptions, reentry_text
from backtest.engine import BacktestResult, StrategyRun
from backtest.prepared import BOOK, nothing_to_hedge
from i18n import N_, _

STRESS_PAD_BEFORE_MS = 4 * 3_600_000
STRESS_PAD_AFTER_MS = 24 * 3_600_000


def iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%MZ")


def clean_json(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: clean_json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [clean_json(x) for x in v]
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return f if math.isfinite(f) else None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def stress_of(result: BacktestResult) -> np.ndarray:
    """Stress bars (cascade level high or above, padded 4 h before and 24 h after) inside
    the backtest window, one flag per bar from ``start``."""
    return stress_bars(result.prepared.cascade_score, result.snap.timeframe_ms)[
        result.start:result.stop]


def stress_bars(score: np.ndarray, timeframe_ms: int) -> np.ndarray:
    """``metrics.stress_mask`` with the report's padding, over every bar."""
    return M.stress_mask(score, math.ceil(STRESS_PAD_BEFORE_MS / timeframe_ms),
                         math.ceil(STRESS_PAD_AFTER_MS / timeframe_ms))


def run_metrics(result: BacktestResult, run: StrategyRun, stress: np.ndarray) -> dict[str, Any]:
    """Every metric of one strategy on its total collateral, over the whole window and
    inside the stress windows."""
    tf, cap = result.snap.timeframe_ms, run.collateral
    equity = cap + np.concatenate([[0.0], run.pnl])  # P&L on the whole collateral
    out: dict[str, Any] = M.path_metrics(equity, tf)
    out.update(M.cost_totals(run.fees, run.funding, run.slippage,
                             (run.hedge_fees, run.hedge_funding, run.hedge_slippage),
                             run.traded_notional, cap))
    mains = [x for x in run.liquidations if x.main]
    out["liquidations"] = len(run.liquidations)
    out["main_liquidated"] = bool(mains)
    out["liquidated_at"] = iso(int(result.snap.times[mains[0].t])) if mains else None
    out["hedge_liquidations"] = sum(not x.main for x in run.liquidations)
    out["trades"] = len(run.trades)
    out["collateral"] = run.collateral
    out["first_life_collateral"] = run.first_life_collateral
    out["lives"] = run.lives
    sub = M.subpath(equity, stress)
    in_stress = {k: v for k, v in M.path_metrics(sub, tf).items()
                 if k in ("total_return", "max_drawdown", "worst_15m", "worst_1h", "worst_1d")}
    idx = np.flatnonzero(stress)
    in_stress.update(M.cost_totals(run.fees[idx], run.funding[idx], run.slippage[idx],
                                   (run.hedge_fees[idx], run.hedge_funding[idx],
                                    run.hedge_slippage[idx]), run.traded_notional[idx], cap))
    in_stress["liquidations"] = sum(1 for x in run.liquidations if stress[x.t - result.start])
    out["stress"] = in_stress
    return out


def assumptions(result: BacktestResult, extra: Sequence[str] = ()) -> list[str]:
    """Every approximation the numbers rest on, in words."""
    coarse = result.snap.timeframe_ms > 900_000
    return model_assumptions(result.params, result.prepared, [
        "Metrics: returns, drawdowns and worst 15m/1h/1d are P&L over the strategy's total "
        f"{'(worst 15m is one bar: the data have none shorter) ' if coarse else ''}"
        "collateral (its column *collateral*); drawdown from the running peak; Sharpe/Sortino "
        "annualised for 24/7 markets with a zero risk-free rate; fees, funding and slippage "
        "are costs (positive = paid), hedge_cost is the hedge legs' share; turnover = hedge "
        "notional traded / collateral.", *extra])


def summary(result: BacktestResult, extra_assumptions: Sequence[str] = ()) -> dict[str, Any]:
    """The JSON-ready result: stable keys, no NaN (None instead)."""
    snap, s = result.snap, result.start
    stress = stress_of(result)
    tf = snap.timeframe_ms
    wins = [{"start": iso(int(snap.times[a + s])), "end": iso(int(snap.times[b + s]) + tf)}
            for a, b in M.windows(stress)]
    p = result.params
    return clean_json({
        "source": snap.source,
        "simulated": snap.simulated,
        "symbols": [x for x in snap.symbols if x != BOOK],
        "main": p.main if not p.weights else {k: w for k, w in result.prepared.book.legs},
        "side": p.side,
        "leverage": p.leverage,
        "capital": p.capital,
        "margin": p.margin,
        "reentry": reentry_text(p, tf),
        "bars": result.stop - s,
        "start": iso(int(snap.times[s])),
        "end": iso(int(snap.times[result.stop - 1]) + tf),
        "main_entry": result.main_entry,
        "main_liquidation_price": result.main_liq_price,
        "stress_windows": wins,
        "stress_bars": int(stress.sum()),
        "strategies": {name: run_metrics(result, run, stress)
                       for name, run in result.runs.items()},
        "warnings": [*result.warnings, *nothing_to_hedge(result.prepared)],
        "assumptions": assumptions(result, extra_assumptions),
    })


def _pct(v: float | None, digits: int = 1) -> str:
    return _("n/a") if v is None else f"{v * 100:+.{digits}f}%"


def _num(v: float | None, fmt: str = ".2f") -> str:
    return _("n/a") if v is None else format(v, fmt)


# column headings (translated in the terminal table and the chat's; English in the Markdown
# reports, which are documentation)
COLUMNS = ((N_("strategy"), 14), (N_("collateral"), 10), (N_("return"), 9), (N_("max DD"), 8),
           (N_("worst 1h"), 9), (N_("worst 1d"), 9), (N_("liq"), 4), (N_("Sharpe"), 7),
           (N_("fees"), 8), (N_("funding"), 8), (N_("slip"), 8), (N_("hedge cost"), 10),
           (N_("stress ret"), 10))
SIDE_WORDS = {"long": N_("long"), "short": N_("short")}
MARGIN_WORDS = {"cross": N_("cross margin"), "isolated": N_("isolated margin")}


def side_word(side: str) -> str:
    return _(SIDE_WORDS[side]) if side in SIDE_WORDS else side


def margin_words(margin: str) -> str:
    return _(MARGIN_WORDS[margin]) if margin in MARGIN_WORDS else margin


def table_rows(data: dict[str, Any]) -> list[list[str]]:
    rows = []
    for name, m in data["strategies"].items():
        rows.append([name, _num(m["collateral"], ".0f"), _pct(m["total_return"]),
                     _pct(m["max_drawdown"]),
                     _pct(m["worst_1h"]), _pct(m["worst_1d"]), str(m["liquidations"]),
                     _num(m["sharpe"]), _num(m["fees"], ".0f"), _num(m["funding"], ".0f"),
                     _num(m["slippage"], ".0f"), _num(m["hedge_cost"], ".0f"),
                     _pct(m["stress"]["total_return"])])
    return rows


def main_label(main: Any) -> str:
    """"BTC" for a symbol, "BTC 50% + ETH 50%" for a book ({symbol: weight})."""
    if isinstance(main, dict):
        return " + ".join(f"{k.split('-')[0]} {w:.0%}" for k, w in main.items())
    return str(main).split("-")[0]


def headline(data: dict[str, Any]) -> str:
    words = dict(side=side_word(data["side"]), main=main_label(data["main"]),
                 leverage=data["leverage"], margin=margin_words(data["margin"]),
                 capital=data["capital"], start=data["start"], end=data["end"],
                 bars=data["bars"], source=data["source"])
    if data["simulated"]:
        return _("{side} {main} {leverage:g}x, {margin}, {capital:g} USDT, {start} → {end} "
                 "({bars} bars, {source} (SIMULATED market))").format(**words)
    return _("{side} {main} {leverage:g}x, {margin}, {capital:g} USDT, {start} → {end} "
             "({bars} bars, {source})").format(**words)


def table(data: dict[str, Any]) -> str:
    """A fixed-width terminal table; costs in USDT (positive = paid)."""
    head = " ".join(f"{_(n):>{w}}" for n, w in COLUMNS)
    lines = [headline(data), head]
    for r in table_rows(data):
        lines.append(" ".join(f"{v:>{w}}" for v, (_, w) in zip(r, COLUMNS, strict=True)))
    lines.append(_("stress windows: {n} ({bars} bars); returns on each strategy's total "
                   "collateral; costs in USDT, positive = paid").format(
                       n=len(data["stress_windows"]), bars=data["stress_bars"]))
    lines += [f"⚠ {w}" for w in data.get("warnings", [])]
    return "\n".join(lines)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|#!])")


def md_text(text: object) -> str:
    """Text from outside (a title, a strategy's name) as literal Markdown: one line, every
    character that could start markup escaped, so ``|`` cannot split a table cell."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def md_code(text: str) -> str:
    """``text`` as an inline code span, fenced by more backticks than it contains in a row."""
    text = " ".join(text.split())
    fence = "`" * (max((len(r) for r in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def markdown(data: dict[str, Any], title: str, chart: str | None = None,
             intro: str = "") -> str:
    """A Markdown report: the table, the stress windows, every assumption. ``title`` is
    escaped; ``intro`` is Markdown already (build its parts with ``md_text``/``md_code``)."""
    out = [f"# {md_text(title)}", "", f"**{md_text(headline(data))}**", ""]
    if intro:
        out += [intro, ""]
    if chart:
        link = chart.replace("<", "%3C").replace(">", "%3E")
        out += [f"![equity and drawdown](<{link}>)", ""]
    out += ["| " + " | ".join(n for n, _ in COLUMNS) + " |",
            "|" + "|".join("---:" if i else "---" for i in range(len(COLUMNS))) + "|"]
    out += ["| " + " | ".join(md_text(c) for c in r) + " |" for r in table_rows(data)]
    out += [""] + [f"> ⚠ {md_text(w)}" for w in data.get("warnings", [])] \
        if data.get("warnings") else []
    out += ["", "Returns and drawdowns are on each strategy's total collateral (what the "
            "trader deposited: the main's capital plus what its hedges needed). Costs in USDT "
            "(positive = paid). *stress ret* is the return over the stress-window bars only.",
            "", "## Per strategy", "",
            "| strategy | final equity | worst 15m | Sortino | time under water | trades | "
            "turnover | hedge liqs | liquidated at | lives | stress max DD | stress liqs |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|"]
    for name, m in data["strategies"].items():
        out.append(f"| {md_text(name)} | {_num(m['final_equity'])} | {_pct(m['worst_15m'])} | "
                   f"{_num(m['sortino'])} | {_pct(m['time_under_water'], 0)} | {m['trades']} "
                   f"| {_num(m['turnover'], '.1f')}× | {m['hedge_liquidations']} | "
                   f"{md_text(m['liquidated_at'] or 'no')} | {m['lives']}"
                   f" | {_pct(m['stress']['max_drawdown'])} | {m['stress']['liquidations']} |")
    liq = data["main_liquidation_price"]
    out += ["", f"Main entry {data['main_entry']:.6g}"
            + (f"; the unhedged main alone (isolated, its capital as margin) would be "
               f"liquidated at {liq:.6g}." if liq is not None else "."),
            "", "## Stress windows", ""]
    out += [f"- {w['start']} → {w['end']}" for w in data["stress_windows"]] or ["- none"]
    out += ["", "## Assumptions", ""] + [f"- {a}" for a in data["assumptions"]] + [""]
    return "\n".join(out)
