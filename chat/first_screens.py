"""The first screen of a long answer: what fits a phone at 3 a.m. (≤ 10 lines, the decision
first, monospace blocks ≤ 35 characters wide), the rest behind "More" (``Reply.short``,
``Reply.more``; ``/hedge … full`` gives everything at once).

Pure functions of a command's JSON answer (``Reply.data``), so the short and the full text
can never disagree on a number.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chat.commands.multi_leg import multi_leg_lines
from chat.freshness import age_text

MAX_LINES = 10
PRE_WIDTH = 35  # monospace characters a phone shows on one line


class Pre(str):
    """A block of monospace lines (a phone-width table): Telegram shows it in ``<pre>``,
    the console as it is."""

    __slots__ = ()


def _base(symbol: str | None) -> str:
    return (symbol or "?").split("-")[0]


def _age(d: dict[str, Any]) -> str:
    return age_text(d.get("data_age_ms"), d.get("data_behind"))


def _sim(d: dict[str, Any]) -> str:
    return " · SIMULATED" if d.get("simulated") else ""


def _warnings(d: dict[str, Any], room: int) -> list[str]:
    w = [f"⚠ {x}" for x in d.get("warnings") or []]
    if len(w) > room:
        return [*w[:max(0, room - 1)], f"⚠ {len(w) - max(0, room - 1)} more warning(s) — More"]
    return w


def hedge_short(d: dict[str, Any]) -> list[str]:
    """``/hedge``: the hedge first, then why, one counterweight, the cascade and the age."""
    pos = (f"{_base(d['symbol'])} {d['side']} {d['size']:.6g} @ {d['entry']:,.6g} "
           f"{d['leverage']:g}x")
    if not d.get("legs"):
        lines = ["Hedge: none yet — no instrument has enough common data", pos]
    else:
        leg = d["legs"][0]
        beta, eff = leg.get("beta"), leg.get("effectiveness")
        why = ", ".join(x for x in (f"β {beta:.2f}" if beta is not None else "",
                                    f"ρ² {eff:.2f}" if eff is not None else "") if x)
        lines = [f"Hedge: {leg['side']} {leg['size']:.4g} {_base(leg['symbol'])}"
                 + (f" ({why})" if why else ""),
                 f"≈ {leg['notional']:,.0f} USDT for {pos}"]
        cf, cs = d.get("correlation_fast"), d.get("correlation_slow")
        if cf is not None and cs is not None:
            lines.append(f"ρ {cf:.2f} now vs {cs:.2f} (30d), {d['regime']} regime")
    if "multi_leg" in d:  # hedging with several named symbols: that is the decision
        lines = [*multi_leg_lines(d["multi_leg"]), *lines]
    cws = d.get("counterweights") or []
    if cws:
        c = cws[0]
        size = "" if c.get("size") is None else f" {c['size']:.4g}"
        lines.append(f"Counterweight: {c['side']}{size} {_base(c['symbol'])} "
                     f"(stress ρ {c['stress_corr']:.2f})")
    lines.append(f"Cascade {d['cascade']['level']} · {_age(d)}{_sim(d)}")
    return lines + _warnings(d, MAX_LINES - len(lines))


def market_short(d: dict[str, Any]) -> list[str]:
    """``/market``: the cascade level first, its top factors, correlation, volatility."""
    c = d["cascade"]
    lines = [f"Cascade {c['level'].upper()}: {c['score']:.0f}/100"
             f" (confidence {c['confidence'] * 100:.0f} %)"
             + (" [SIMULATED]" if d.get("simulated") else "")]
    top = sorted(c["contributions"].items(), key=lambda x: -x[1])[:3]
    if top and top[0][1] >= 0.5:
        lines.append("Driven by " + ", ".join(f"{k} +{v:.0f}" for k, v in top if v >= 0.5))
    else:
        lines.append("No factor adds points: calm")
    mi, ms, z = d["market_index"], d["market_index_slow"], d["market_z"]
    if mi is not None:
        lines.append(f"Market ρ {mi:.2f} now" + (f" vs {ms:.2f} (30d)" if ms is not None
                                                 else "")
                     + (f", z {z:+.1f}" if z is not None else "")
                     + (" — SPIKE" if d["market_spike"] else ""))
    if d["vol_ratio"] is not None:
        lines.append(f"Volatility {d['vol_ratio']:.2f}× its 30-day level")
    ext = [f for f in d["funding_extremes"] if f["rate"] is not None][:2]
    if ext:
        lines.append("Funding: " + ", ".join(f"{_base(f['symbol'])} {f['rate'] * 100:+.3f} %"
                                             for f in ext))
    lines.append(_age(d))
    return lines + _warnings(d, MAX_LINES - len(lines))


def corr_short(d: dict[str, Any], describe: Callable[[dict[str, Any]], str]) -> list[str]:
    """``/corr``: the biggest changes in words (the heatmap is the picture), a 4×4 block of
    the most-changed symbols, the age."""
    symbols = d["symbols"]
    moved = d.get("largest_changes") or []
    mode = d.get("mode", "fast")
    lines = [f"Correlation {d['windows'][mode]} vs {d['windows']['slow']}, {len(symbols)} "
             "symbols" + _sim(d)]
    lines += [describe(c) for c in moved[:3]] or ["No pair has enough data to compare."]
    pick: list[str] = []
    for c in moved:
        for s in c.get("pair", []):
            if s in symbols and s not in pick:
                pick.append(s)
    pick = (pick + [s for s in symbols if s not in pick])[:4]
    m = d.get(mode)
    if m is not None and len(pick) >= 2:
        idx = [symbols.index(s) for s in pick]
        head = "     " + "".join(f"{_base(s)[:5]:>6}" for s in pick)
        rows = [f"{_base(a)[:5]:<5}" + "".join(_cell(m[i][j]) for j in idx)
                for a, i in zip(pick, idx, strict=True)]
        lines.append(Pre("\n".join([head, *rows])))
    lines.append(_age(d))
    return lines + _warnings(d, MAX_LINES - sum(line.count("\n") + 1 for line in lines))


def _cell(v: Any) -> str:
    return "   n/a" if v is None or v != v else f"{float(v):6.2f}"


def status_short(d: dict[str, Any], lines: Sequence[str]) -> list[str]:
    """``/status``: its lines already lead with the verdict; long error texts are cut."""
    return [line if len(line) <= 120 else line[:117] + "…" for line in lines][:MAX_LINES]


def capped(lines: Sequence[str], head: int, what: str) -> list[str] | None:
    """The first lines of a list answer, with how many more; None when all fit."""
    if len(lines) <= MAX_LINES:
        return None
    keep = list(lines[:MAX_LINES - 1 - head]) if head else list(lines[:MAX_LINES - 1])
    return [*keep, f"… and {len(lines) - len(keep)} more {what} — More"]


def backtest_short(d: dict[str, Any]) -> list[str]:
    """The chat backtest: the best strategy first, a phone-width table of return, drawdown
    and liquidations per strategy; the wide table is behind More (and a file)."""
    rows = d["strategies"]
    ranked = sorted(rows.items(), key=lambda kv: -(kv[1].get("total_return") or -1e9))
    best = ranked[0][0] if ranked else "n/a"
    lines = [f"Best: {best} · {d['side']} {_base(d['main'])} {d['leverage']:g}x, "
             f"{d['start']} → {d['end']}" + _sim(d)]

    def pct(v: float | None) -> str:
        return "n/a" if v is None else f"{v * 100:+.0f}%"

    table = [f"{'strategy':<13}{'ret':>7}{'maxDD':>7}{'liq':>4}"]
    for name, m in ranked[:6]:
        table.append(f"{name[:13]:<13}{pct(m.get('total_return')):>7}"
                     f"{pct(m.get('max_drawdown')):>7}{m.get('liquidations', 0):>4}")
    lines.append(Pre("\n".join(table)))
    lines.append("costs, Sharpe, stress: More")
    return lines
