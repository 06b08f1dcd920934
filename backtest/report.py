"""The backtest's results as data (JSON-ready), a terminal table and a Markdown report."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from backtest import metrics as M
from backtest.engine import BacktestResult, StrategyRun

STRESS_PAD_BEFORE_MS = 4 * 3_600_000
STRESS_PAD_AFTER_MS = 24 * 3_600_000


def iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%MZ")


def _clean(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
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
    tf = result.snap.timeframe_ms
    mask = M.stress_mask(result.series.cascade_score, math.ceil(STRESS_PAD_BEFORE_MS / tf),
                         math.ceil(STRESS_PAD_AFTER_MS / tf))
    return mask[result.start:]


def run_metrics(result: BacktestResult, run: StrategyRun, stress: np.ndarray) -> dict[str, Any]:
    """Every metric of one strategy, over the whole window and inside the stress windows."""
    s, tf, cap = result.start, result.snap.timeframe_ms, result.params.capital
    equity = np.concatenate([[cap], run.equity[s:]])
    out: dict[str, Any] = M.path_metrics(equity, tf)
    out.update(M.cost_totals(run.fees[s:], run.funding[s:], run.slippage[s:],
                             (run.hedge_fees[s:], run.hedge_funding[s:],
                              run.hedge_slippage[s:]), run.traded_notional[s:], cap))
    out["liquidations"] = len(run.liquidations)
    out["main_liquidated"] = any(x.main for x in run.liquidations)
    out["hedge_liquidations"] = sum(not x.main for x in run.liquidations)
    out["trades"] = len(run.trades)
    out["peak_margin"] = run.peak_margin
    sub = M.subpath(equity, stress)
    in_stress = {k: v for k, v in M.path_metrics(sub, tf).items()
                 if k in ("total_return", "max_drawdown", "worst_15m", "worst_1h", "worst_1d")}
    idx = np.flatnonzero(stress) + s
    in_stress.update(M.cost_totals(run.fees[idx], run.funding[idx], run.slippage[idx],
                                   (run.hedge_fees[idx], run.hedge_funding[idx],
                                    run.hedge_slippage[idx]), run.traded_notional[idx], cap))
    in_stress["liquidations"] = sum(1 for x in run.liquidations if stress[x.t - s])
    out["stress"] = in_stress
    return out


def assumptions(result: BacktestResult, extra: Sequence[str] = ()) -> list[str]:
    """Every approximation the numbers rest on, in words."""
    p, c = result.params, result.params.costs
    fee = f"{c.taker_fee:.4%}" if c.taker_fee is not None else "each instrument's taker fee"
    return [
        f"Main position: {p.side} {result.main_size:.6g} {p.main.split('-')[0]} "
        f"(notional = capital {p.capital:g} USDT × leverage {p.leverage:g} at the open of the "
        f"first bar, {result.main_entry:.6g}), isolated margin = the whole capital; it is "
        "never resized, and is not re-entered after a liquidation.",
        f"Hedge legs: each its own isolated position at {p.hedge_leverage or p.leverage:g}x "
        "(margin = notional / leverage, posted from the account on top of the main's margin: "
        "equity = capital + P&L − costs, and peak_margin reports the collateral needed). A "
        "resized leg is closed and reopened at the fill price (entry and margin reset).",
        "Decisions at a bar's close see data up to that close only; trades fill at the next "
        "bar's open. The first hedge is therefore set one bar after the main is opened.",
        f"Rebalancing: the shared policy (plugins/strategies/rebalance.py) with threshold "
        f"{p.rebalance_threshold:.0%} of the main's notional.",
        f"Fees: taker {fee} of the traded notional on every change; the main's opening fee "
        "is included; nothing is closed at the end (no exit fee; marked at the last close).",
        f"Slippage: fraction = {c.k_vol:g} × σ of the symbol's 15m log returns over the "
        f"previous {c.window} bars + {c.k_size:g} × order notional / mean bar volume "
        f"notional over the same bars, capped at {c.max_slippage:.0%}; booked as a cost, "
        "fills at the bar's open.",
        "Funding: paid (longs, positive rate) or received (shorts) at each funding time on "
        "size × the open of the bar holding that time, by the legs held before that open; "
        "fees and funding come from the account balance, not the isolated margins.",
        *result.funding_notes,
        "Liquidation: a leg's price from core.liquidation (OKX isolated formula with the "
        "tier's mmr and the taker fee for contract tiers; Binance's bracket formula for "
        "notional tiers; the flat default mmr when a symbol has no tiers), fixed while the "
        "leg is unchanged; checked every bar against the bar's low (longs) / high (shorts). "
        "A liquidated leg loses exactly its isolated margin. When the main is liquidated its "
        "hedges are closed at that bar's close with fees and slippage.",
        "A liquidated hedge leg counts as not held; the strategy's next decision may reopen "
        "it through the rebalance policy.",
        "Stress windows: bars whose cascade score (core.cascade_series, causal) is 50 or "
        "more (level high or cascade), padded 4 h before and 24 h after; the padding is for "
        "grading only and feeds no decision.",
        "Metrics: per-bar and window returns are P&L over the starting capital (equity can "
        "fall below zero when hedge collateral is lost too); drawdown from the running peak; "
        "Sharpe/Sortino annualised for 24/7 markets with a zero risk-free rate; worst "
        "15m/1h/1d over overlapping windows; fees, "
        "funding and slippage are costs (positive = paid), hedge_cost is the hedge legs' "
        "share; turnover = hedge notional traded / capital.",
        *extra,
    ]


def summary(result: BacktestResult, extra_assumptions: Sequence[str] = ()) -> dict[str, Any]:
    """The JSON-ready result: stable keys, no NaN (None instead)."""
    snap, s = result.snap, result.start
    stress = stress_of(result)
    tf = snap.timeframe_ms
    wins = [{"start": iso(int(snap.times[a + s])), "end": iso(int(snap.times[b + s]) + tf)}
            for a, b in M.windows(stress)]
    return _clean({
        "source": snap.source,
        "simulated": snap.simulated,
        "symbols": list(snap.symbols),
        "main": result.params.main,
        "side": result.params.side,
        "leverage": result.params.leverage,
        "capital": result.params.capital,
        "bars": snap.n_bars - s,
        "start": iso(int(snap.times[s])),
        "end": iso(int(snap.times[-1]) + tf),
        "main_entry": result.main_entry,
        "main_liquidation_price": result.main_liq_price,
        "main_liquidated_at": (iso(int(snap.times[result.main_liquidated_at]))
                               if result.main_liquidated_at is not None else None),
        "stress_windows": wins,
        "stress_bars": int(stress.sum()),
        "strategies": {name: run_metrics(result, run, stress)
                       for name, run in result.runs.items()},
        "warnings": list(result.warnings),
        "assumptions": assumptions(result, extra_assumptions),
    })


def _pct(v: float | None, digits: int = 1) -> str:
    return "n/a" if v is None else f"{v * 100:+.{digits}f}%"


def _num(v: float | None, fmt: str = ".2f") -> str:
    return "n/a" if v is None else format(v, fmt)


COLUMNS = (("strategy", 14), ("return", 9), ("max DD", 8), ("worst 1h", 9), ("worst 1d", 9),
           ("liq", 4), ("Sharpe", 7), ("fees", 8), ("funding", 8), ("slip", 8),
           ("hedge cost", 10), ("stress ret", 10))


def table_rows(data: dict[str, Any]) -> list[list[str]]:
    rows = []
    for name, m in data["strategies"].items():
        rows.append([name, _pct(m["total_return"]), _pct(m["max_drawdown"]),
                     _pct(m["worst_1h"]), _pct(m["worst_1d"]), str(m["liquidations"]),
                     _num(m["sharpe"]), _num(m["fees"], ".0f"), _num(m["funding"], ".0f"),
                     _num(m["slippage"], ".0f"), _num(m["hedge_cost"], ".0f"),
                     _pct(m["stress"]["total_return"])])
    return rows


def headline(data: dict[str, Any]) -> str:
    sim = " (SIMULATED market)" if data["simulated"] else ""
    return (f"{data['side']} {data['main'].split('-')[0]} {data['leverage']:g}x, "
            f"{data['capital']:g} USDT, {data['start']} → {data['end']} "
            f"({data['bars']} bars, {data['source']}{sim})")


def table(data: dict[str, Any]) -> str:
    """A fixed-width terminal table; costs in USDT (positive = paid)."""
    head = " ".join(f"{n:>{w}}" for n, w in COLUMNS)
    lines = [headline(data), head]
    for r in table_rows(data):
        lines.append(" ".join(f"{v:>{w}}" for v, (_, w) in zip(r, COLUMNS, strict=True)))
    lines.append(f"stress windows: {len(data['stress_windows'])} ({data['stress_bars']} bars); "
                 "costs in USDT, positive = paid")
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
    out += ["", "Costs in USDT (positive = paid). *stress ret* is the return compounded over "
            "the stress-window bars only.", "", "## Per strategy", "",
            "| strategy | final equity | worst 15m | Sortino | time under water | trades | "
            "turnover | hedge liqs | main liquidated | peak margin | stress max DD | "
            "stress liqs |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|"]
    for name, m in data["strategies"].items():
        out.append(f"| {md_text(name)} | {_num(m['final_equity'])} | {_pct(m['worst_15m'])} | "
                   f"{_num(m['sortino'])} | {_pct(m['time_under_water'], 0)} | {m['trades']} "
                   f"| {_num(m['turnover'], '.1f')}× | {m['hedge_liquidations']} | "
                   f"{'yes' if m['main_liquidated'] else 'no'} | {_num(m['peak_margin'], '.0f')}"
                   f" | {_pct(m['stress']['max_drawdown'])} | {m['stress']['liquidations']} |")
    out += ["", f"Main entry {data['main_entry']:.6g}, liquidation price "
            f"{data['main_liquidation_price']:.6g}"
            + (f", liquidated at {data['main_liquidated_at']}." if data["main_liquidated_at"]
               else ", not reached."), "", "## Stress windows", ""]
    out += [f"- {w['start']} → {w['end']}" for w in data["stress_windows"]] or ["- none"]
    out += ["", "## Assumptions", ""] + [f"- {a}" for a in data["assumptions"]] + [""]
    return "\n".join(out)
