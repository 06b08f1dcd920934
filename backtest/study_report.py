"""A study's results as data (JSON-ready), a terminal table and a Markdown report.

The JSON keys are documented in the README ("Backtesting hedges"): ``runs``, ``margin``,
``horizon``, ``strategies`` (one distribution per strategy), ``baselines`` (``none`` at the
main leverage, ``matched`` per strategy), ``paired`` (per-start differences with
block-bootstrap intervals), ``seed_claim`` and ``assumptions``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from backtest import stats as S
from backtest.assumptions import model_assumptions, reentry_text
from backtest.engine import BacktestParams, BacktestResult
from backtest.prepared import BOOK, Prepared, nothing_to_hedge
from backtest.report import clean_json, iso, main_label, margin_words, md_text, side_word
from backtest.study import Study
from i18n import N_, _
from settings.durations import format_duration

NONE = "none@main"


def span(ms: int) -> str:
    """"90d", "7d", "12h": days when whole."""
    return f"{ms // 86_400_000}d" if ms % 86_400_000 == 0 else format_duration(ms / 1000)


def study_summary(study: Study, m: Prepared, params: BacktestParams, *,
                  example: BacktestResult | None = None, example_why: str = "",
                  extra: Sequence[str] = ()) -> dict[str, Any]:
    """The JSON-ready summary of a study: stable keys, no NaN (None instead)."""
    snap, tf = m.snap, m.snap.timeframe_ms
    n = len(study.starts)
    days = study.horizon * tf / 86_400_000
    block = S.block_length(study.horizon, study.step, n)
    names = [k for k in study.outcomes if k != NONE and not k.startswith("matched:")]
    ret = {k: v["return"] for k, v in study.outcomes.items()}
    strategies = {k: S.distribution(study.outcomes[k], days, block) for k in names}
    matched = {}
    for k in names:
        key = f"matched:{k}"
        if k == "none":
            continue  # the unhedged strategy's own collateral: the none baseline itself
        if key in study.outcomes:
            lev = study.outcomes[key]["leverage"]
            matched[k] = {**S.distribution(study.outcomes[key], days, block),
                          "leverage": {"median": float(np.median(lev)),
                                       "min": float(np.min(lev)), "max": float(np.max(lev))}}
    paired: dict[str, dict[str, Any]] = {}
    for k in names:
        if k == "none":
            continue
        row = {"none": S.paired(ret[k], ret[NONE], block)} if NONE in ret else {}
        if k in matched:
            row["matched"] = S.paired(ret[k], ret[f"matched:{k}"], block)
        if k != "static" and "static" in ret:
            row["static"] = S.paired(ret[k], ret["static"], block)
        paired[k] = row
    data: dict[str, Any] = clean_json({
        "kind": "study",
        "source": snap.source,
        "simulated": snap.simulated,
        "symbols": [x for x in snap.symbols if x != BOOK],
        "main": params.main if m.book.single else {k: w for k, w in m.book.legs},
        "side": params.side,
        "leverage": params.leverage,
        "hedge_leverage": params.hedge_leverage or params.leverage,
        "capital": params.capital,
        "margin": params.margin,
        "reentry": reentry_text(params, tf),
        "horizon": span(study.horizon * tf),
        "rolling": span(study.step * tf),
        "runs": n,
        "block": block,
        "first_start": iso(int(snap.times[study.starts[0]])) if n else None,
        "last_start": iso(int(snap.times[study.starts[-1]])) if n else None,
        "data_start": iso(int(snap.times[0])) if snap.n_bars else None,
        "data_end": iso(int(snap.times[-1]) + tf) if snap.n_bars else None,
        "strategies": strategies,
        "baselines": {"none": S.distribution(study.outcomes[NONE], days, block)
                      if NONE in study.outcomes else None, "matched": matched},
        "paired": paired,
        "seed_claim": S.seed_claim({k: ret[k] for k in names}, params.leverage, days),
        "example": ({"start": iso(int(snap.times[example.start])),
                     "end": iso(int(snap.times[example.stop - 1]) + tf), "why": example_why}
                    if example is not None else None),
        "warnings": [*study.warnings, *nothing_to_hedge(m)],
        "assumptions": study_assumptions(params, m, n, block, extra),
    })
    return data


def study_assumptions(params: BacktestParams, m: Prepared, n: int, block: int,
                      extra: Sequence[str] = ()) -> list[str]:
    return model_assumptions(params, m, [
        f"Study: {n} starts; each runs every strategy and the unhedged baselines over the same "
        "horizon, so results are paired start by start. Starts begin once the engine's slow "
        "window of history is available and end when a whole horizon no longer fits.",
        "Distributions: survival = share of starts with no liquidation of the main or the "
        "account (hedge-leg liquidations are counted apart); return = (final equity − total "
        "collateral) / total collateral at the horizon, marked at the last close; CVaR 5 % = "
        "mean of the worst 5 % of returns; max drawdown = deepest fall of P&L from its peak, "
        "over the total collateral; hedge cost = the hedge legs' fees, slippage and funding, "
        "over the total collateral (median); liquidations per 90 days = mean per start, "
        "scaled to 90 days.",
        "Baselines: none = the main alone at its leverage; matched = the main alone with the "
        "total collateral the strategy used in its first life, all deposited at the start "
        "(so at leverage notional / collateral) — hedging has to beat simply holding less "
        "leverage.",
        f"Intervals: 95 % circular block bootstrap over starts ({S.N_BOOT} resamples, fixed "
        f"seed), blocks of {block} consecutive starts — the number whose horizons overlap — "
        "so overlapping windows are not counted as independent evidence; none with fewer "
        "than two blocks.",
        *extra])


def _points(v: float, digits: int) -> float:
    """``v`` in percent, rounded, without a negative zero ("-0.0%" reads as a loss)."""
    return round(v * 100, digits) + 0.0


def _pct(v: float | None, digits: int = 0) -> str:
    return _("n/a") if v is None else f"{_points(v, digits):+.{digits}f}%"


def _rate(v: float | None) -> str:
    return _("n/a") if v is None else f"{_points(v, 0):.0f}%"


def _ci(lo: float | None, hi: float | None, digits: int = 0) -> str:
    if lo is None or hi is None:
        return "n/a"
    return f"[{_points(lo, digits):+.{digits}f}, {_points(hi, digits):+.{digits}f}]"


def _rate_ci(ci: list[float] | None) -> str:
    return _("n/a") if not ci else f"{ci[0] * 100:.0f}–{ci[1] * 100:.0f}%"


def headline(data: dict[str, Any]) -> str:
    words = dict(side=side_word(data["side"]), main=main_label(data["main"]),
                 leverage=data["leverage"], margin=margin_words(data["margin"]),
                 runs=data["runs"], rolling=data["rolling"], horizon=data["horizon"],
                 first=data["first_start"], last=data["last_start"], reentry=data["reentry"],
                 source=data["source"])
    if data["simulated"]:
        return _("{side} {main} {leverage:g}x, {margin}, {runs} starts every {rolling} × "
                 "{horizon}, {first} → {last}, re-entry {reentry} ({source} (SIMULATED "
                 "market))").format(**words)
    return _("{side} {main} {leverage:g}x, {margin}, {runs} starts every {rolling} × "
             "{horizon}, {first} → {last}, re-entry {reentry} ({source})").format(**words)


COLUMNS = (N_("account"), N_("survival"), N_("95% CI"), N_("liq/90d"), N_("return p50"),
           N_("p5"), N_("p95"), N_("CVaR5"), N_("maxDD p50"), N_("p95"), N_("hedge cost"),
           N_("collateral"))


def rows(data: dict[str, Any]) -> list[list[str]]:
    """One row per strategy, then the baselines."""
    def row(name: str, d: dict[str, Any]) -> list[str]:
        r, dd = d["return"], d["max_drawdown"]
        return [name, _rate(d["survival"]), _rate_ci(d["survival_ci"]),
                f"{d['liquidations_per_90d']:.2f}", _pct(r["median"]), _pct(r["p5"]),
                _pct(r["p95"]), _pct(d["cvar_5"]), _rate(dd["median"]), _rate(dd["p95"]),
                _rate(d["hedge_cost"]), f"{d['collateral']['median']:,.0f}"]

    out = [row(k, d) for k, d in data["strategies"].items()]
    if data["baselines"]["none"]:
        out.append(row(_("none {leverage:g}x").format(leverage=data["leverage"]),
                       data["baselines"]["none"]))
    for k, d in data["baselines"]["matched"].items():
        if k != "none":
            out.append(row(_("matched to {strategy} ({leverage:.1f}x)").format(
                strategy=k, leverage=d["leverage"]["median"]), d))
    return out


def table(data: dict[str, Any]) -> str:
    """A fixed-width terminal table of the distributions and the paired differences."""
    widths = [30, 9, 12, 8, 11, 7, 7, 7, 10, 6, 11, 11]
    lines = [headline(data),
             " ".join(f"{_(c):>{w}}" for c, w in zip(COLUMNS, widths, strict=True))]
    lines += [" ".join(f"{c:>{w}}" for c, w in zip(r, widths, strict=True)) for r in rows(data)]
    lines += ["", _("paired return differences, median [95% CI] (share of starts better):")]
    for k, row in data["paired"].items():
        parts = [_("vs {baseline} {median} {ci} ({better:.0%})").format(
            baseline=b, median=_pct(p["median_diff"], 1), ci=_ci(p["ci_low"], p["ci_high"], 1),
            better=p["better"]) for b, p in row.items()]
        lines.append(f"  {k}: " + "; ".join(parts))
    lines += ["", seed_caveat(data), *[f"  {x}" for x in seed_lines(data)]]
    lines += [f"⚠ {w}" for w in data.get("warnings", [])]
    return "\n".join(lines)


def seed_lines(data: dict[str, Any]) -> list[str]:
    """Where the seed's −23 % / +4 % fall in these distributions, one line per strategy."""
    sc = data["seed_claim"]
    out = []
    for k, row in sc["strategies"].items():
        if "gap_percentile" not in row:
            out.append(_("{strategy}: {share:.0%} of starts returned {claimed} or less").format(
                strategy=k, share=row["percentile"], claimed=_pct(row["claimed"])))
            continue
        out.append(_("{strategy}: {share:.0%} of starts returned {claimed} or less; its lead "
                     "over static was {gap:.0f} points or less in {gap_share:.0%} of starts "
                     "(median lead {median})").format(
            strategy=k, share=row["percentile"], claimed=_pct(row["claimed"]),
            gap=row["claimed_gap_over_static"] * 100, gap_share=row["gap_percentile"],
            median=_pct(row["median_gap_over_static"], 1)))
    return out


def seed_caveat(data: dict[str, Any]) -> str:
    sc = data["seed_claim"]
    if sc["comparable"]:
        return _("The seed's claim: {claim}.").format(claim=_(sc["claim"]))
    return _("The seed's claim: {claim} (this study's leverage or horizon differs, so the "
             "comparison is loose).").format(claim=_(sc["claim"]))


def markdown(data: dict[str, Any], title: str, charts: Sequence[tuple[str, str]] = (),
             intro: str = "") -> str:
    """The Markdown report. ``charts`` are (alt text, relative link) pairs."""
    out = [f"# {md_text(title)}", "", f"**{md_text(headline(data))}**", ""]
    if intro:
        out += [intro, ""]
    for alt, link in charts[:1]:
        out += [f"![{md_text(alt)}](<{link.replace('<', '%3C').replace('>', '%3E')}>)", ""]
    out += ["## Distributions over starts", "",
            "| " + " | ".join(COLUMNS) + " |",
            "|---|" + "---:|" * (len(COLUMNS) - 1)]
    out += ["| " + " | ".join(md_text(c) for c in r) + " |" for r in rows(data)]
    out += ["", "Returns, drawdowns and hedge cost are fractions of each account's **total "
            "collateral** (everything the trader deposited). *collateral* is its median in "
            "USDT.", "", "## Paired differences in return", "",
            "Start by start, the strategy's return minus the other account's: median, 95 % "
            "block-bootstrap interval, and the share of starts where the strategy did better "
            "and worse (the rest are ties, e.g. both liquidated).",
            "", "| strategy | vs | median diff | 95% CI | better in | worse in |",
            "|---|---|---:|---:|---:|---:|"]
    for k, row in data["paired"].items():
        for b, p in row.items():
            out.append(f"| {md_text(k)} | {md_text(b)} | {_pct(p['median_diff'], 1)} | "
                       f"{_ci(p['ci_low'], p['ci_high'], 1)} | {p['better']:.0%} | "
                       f"{p['worse']:.0%} |")
    out += ["", "## The seed's claim", "", md_text(seed_caveat(data)), ""]
    out += [f"- {md_text(x)}" for x in seed_lines(data)] or ["- no static or dynamic strategy "
                                                              "in this study"]
    out += [""]
    if data.get("example"):
        ex = data["example"]
        out += ["## One start in detail", "",
                md_text(f"{ex['start']} → {ex['end']}: {ex['why']}"), ""]
        for alt, link in charts[1:]:
            out += [f"![{md_text(alt)}](<{link.replace('<', '%3C').replace('>', '%3E')}>)", ""]
    if data.get("warnings"):
        out += [f"> ⚠ {md_text(w)}" for w in data["warnings"]] + [""]
    out += ["## Assumptions", ""] + [f"- {md_text(a)}" for a in data["assumptions"]] + [""]
    return "\n".join(out)
