"""The first screen of a long answer: what fits a phone at 3 a.m. (≤ 10 lines, the decision
first, monospace blocks ≤ 35 characters wide), the rest behind "More" (``Reply.short``,
``Reply.more``; ``/hedge … full`` gives everything at once).

Pure functions of a command's JSON answer (``Reply.data``), so the short and the full text
can never disagree on a number.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

from chat.commands.multi_leg import multi_leg_lines
from chat.freshness import age_text
from i18n import N_, _, ngettext

MAX_LINES = 10
PRE_WIDTH = 35  # monospace characters a phone shows on one line

# words that arrive as data (``Reply.data`` keeps them English for --json): shown translated
SIDE_WORDS = {"long": N_("long"), "short": N_("short")}
LEVEL_WORDS = {"calm": N_("calm"), "elevated": N_("elevated"), "high": N_("high"),
               "cascade": N_("cascade")}
REGIME_WORDS = {"low": N_("low"), "normal": N_("normal"), "high": N_("high"),
                "unknown": N_("unknown"), "spike": N_("spike")}
LINES = N_("line(s)")  # what ``capped`` counts by default (the trade log's lines)


def word(table: dict[str, str], value: Any) -> str:
    """A data word (a side, a level) in the current language; unknown ones as they are."""
    text = str(value)
    return _(table[text]) if text in table else text


def width(text: str) -> int:
    """Monospace columns: a CJK character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, columns: int, *, right: bool = False) -> str:
    """``text`` padded to ``columns`` monospace columns (CJK-aware ``ljust``/``rjust``); a
    right-aligned head keeps one space from the column before it."""
    fill = " " * max(1 if right else 0, columns - width(text))
    return fill + text if right else text + fill


class Pre(str):
    """A block of monospace lines (a phone-width table): Telegram shows it in ``<pre>``,
    the console as it is."""

    __slots__ = ()


def _base(symbol: str | None) -> str:
    return (symbol or "?").split("-")[0]


def _age(d: dict[str, Any]) -> str:
    return age_text(d.get("data_age_ms"), d.get("data_behind"))


def _sim(d: dict[str, Any]) -> str:
    return " · " + _("SIMULATED") if d.get("simulated") else ""


def _warnings(d: dict[str, Any], room: int) -> list[str]:
    w = [f"⚠ {x}" for x in d.get("warnings") or []]
    if len(w) > room:
        n = len(w) - max(0, room - 1)
        return [*w[:max(0, room - 1)],
                ngettext("⚠ {n} more warning(s) — More", "⚠ {n} more warning(s) — More",
                         n).format(n=n)]
    return w


def hedge_short(d: dict[str, Any]) -> list[str]:
    """``/hedge``: the hedge first, then why, one counterweight, the cascade and the age."""
    pos = _("{base} {side} {size:.6g} @ {entry:,.6g} {leverage:g}x").format(
        base=_base(d["symbol"]), side=word(SIDE_WORDS, d["side"]), size=d["size"],
        entry=d["entry"], leverage=d["leverage"])
    if not d.get("legs"):
        lines = [_("Hedge: none yet — no instrument has enough common data"), pos]
    else:
        leg = d["legs"][0]
        beta, eff = leg.get("beta"), leg.get("effectiveness")
        why = ", ".join(x for x in (f"β {beta:.2f}" if beta is not None else "",
                                    f"ρ² {eff:.2f}" if eff is not None else "") if x)
        hedge = dict(side=word(SIDE_WORDS, leg["side"]), size=leg["size"],
                     base=_base(leg["symbol"]), why=why)
        lines = [_("Hedge: {side} {size:.4g} {base} ({why})").format(**hedge) if why
                 else _("Hedge: {side} {size:.4g} {base}").format(**hedge),
                 _("≈ {notional:,.0f} USDT for {position}").format(notional=leg["notional"],
                                                                   position=pos)]
        cf, cs = d.get("correlation_fast"), d.get("correlation_slow")
        if cf is not None and cs is not None:
            lines.append(_("ρ {fast:.2f} now vs {slow:.2f} (30d), {regime} regime").format(
                fast=cf, slow=cs, regime=word(REGIME_WORDS, d["regime"])))
    if "multi_leg" in d:  # hedging with several named symbols: that is the decision
        lines = [*multi_leg_lines(d["multi_leg"]), *lines]
    cws = d.get("counterweights") or []
    if cws:
        c = cws[0]
        size = "" if c.get("size") is None else f" {c['size']:.4g}"
        lines.append(_("Counterweight: {side}{size} {base} (stress ρ {corr:.2f})").format(
            side=word(SIDE_WORDS, c["side"]), size=size, base=_base(c["symbol"]),
            corr=c["stress_corr"]))
    lines.append(_("Cascade {level} · {age}").format(
        level=word(LEVEL_WORDS, d["cascade"]["level"]), age=_age(d)) + _sim(d))
    return lines + _warnings(d, MAX_LINES - len(lines))


def market_short(d: dict[str, Any]) -> list[str]:
    """``/market``: the cascade level first, its top factors, correlation, volatility."""
    c = d["cascade"]
    lines = [_("Cascade {level}: {score:.0f}/100 (confidence {confidence:.0f} %)").format(
        level=word(LEVEL_WORDS, c["level"]).upper(), score=c["score"],
        confidence=c["confidence"] * 100)
             + (" [" + _("SIMULATED") + "]" if d.get("simulated") else "")]
    top = sorted(c["contributions"].items(), key=lambda x: -x[1])[:3]
    if top and top[0][1] >= 0.5:
        lines.append(_("Driven by {factors}").format(
            factors=", ".join(f"{k} +{v:.0f}" for k, v in top if v >= 0.5)))
    else:
        lines.append(_("No factor adds points: calm"))
    mi, ms, z = d["market_index"], d["market_index_slow"], d["market_z"]
    if mi is not None:
        line = (_("Market ρ {now:.2f} now vs {slow:.2f} (30d)").format(now=mi, slow=ms)
                if ms is not None else _("Market ρ {now:.2f} now").format(now=mi))
        line += f", z {z:+.1f}" if z is not None else ""
        lines.append(_("{line} — SPIKE").format(line=line) if d["market_spike"] else line)
    if d["vol_ratio"] is not None:
        lines.append(_("Volatility {ratio:.2f}× its 30-day level").format(ratio=d["vol_ratio"]))
    ext = [f for f in d["funding_extremes"] if f["rate"] is not None][:2]
    if ext:
        lines.append(_("Funding: {rates}").format(rates=", ".join(
            f"{_base(f['symbol'])} {f['rate'] * 100:+.3f} %" for f in ext)))
    lines.append(_age(d))
    return lines + _warnings(d, MAX_LINES - len(lines))


def corr_short(d: dict[str, Any], describe: Callable[[dict[str, Any]], str]) -> list[str]:
    """``/corr``: the biggest changes in words (the heatmap is the picture), a 4×4 block of
    the most-changed symbols, the age."""
    symbols = d["symbols"]
    moved = d.get("largest_changes") or []
    mode = d.get("mode", "fast")
    lines = [ngettext("Correlation {fast} vs {slow}, {n} symbol",
                      "Correlation {fast} vs {slow}, {n} symbols", len(symbols)).format(
        fast=d["windows"][mode], slow=d["windows"]["slow"], n=len(symbols)) + _sim(d)]
    lines += [describe(c) for c in moved[:3]] or [_("No pair has enough data to compare.")]
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


def capped(lines: Sequence[str], head: int, what: str = LINES) -> list[str] | None:
    """The first lines of a list answer, with how many more; None when all fit. ``what``
    names what is counted, a msgid marked with ``N_`` (translated here)."""
    if len(lines) <= MAX_LINES:
        return None
    keep = list(lines[:MAX_LINES - 1 - head]) if head else list(lines[:MAX_LINES - 1])
    n = len(lines) - len(keep)
    return [*keep, ngettext("… and {n} more {what} — More", "… and {n} more {what} — More",
                            n).format(n=n, what=_(what))]


def backtest_short(d: dict[str, Any]) -> list[str]:
    """The chat backtest: the best strategy first, a phone-width table of return, drawdown
    and liquidations per strategy; the wide table is behind More (and a file)."""
    rows = d["strategies"]
    ranked = sorted(rows.items(), key=lambda kv: -(kv[1].get("total_return") or -1e9))
    best = ranked[0][0] if ranked else "n/a"
    lines = [_("Best: {best} · {side} {base} {leverage:g}x, {start} → {end}").format(
        best=best, side=word(SIDE_WORDS, d["side"]), base=_base(d["main"]),
        leverage=d["leverage"], start=d["start"], end=d["end"]) + _sim(d)]

    def pct(v: float | None) -> str:
        return "n/a" if v is None else f"{v * 100:+.0f}%"

    # column heads of a 31-column table: short words (a CJK character takes two columns)
    table = [pad(_("strategy"), 13) + pad(_("ret"), 7, right=True)
             + pad(_("maxDD"), 7, right=True) + pad(_("liq"), 4, right=True)]
    for name, m in ranked[:6]:
        table.append(f"{name[:13]:<13}{pct(m.get('total_return')):>7}"
                     f"{pct(m.get('max_drawdown')):>7}{m.get('liquidations', 0):>4}")
    lines.append(Pre("\n".join(table)))
    lines.append(_("costs, Sharpe, stress: More"))
    return lines
