"""The lines a trader reads of a /whatif answer (``chat.commands.whatif.shock_data``)."""

from __future__ import annotations

from typing import Any

from chat.commands.market_view import mode_word, side_word
from i18n import _


def _money(x: float) -> str:
    return f"{x + 0.0:+,.2f}"  # no "-0.00"


def _px(x: float | None) -> str:
    if x is None:
        return _("n/a")
    return f"{x:,.2f}" if x >= 1 else f"{x:.6g}"


def _prob(p: float | None) -> str:
    if p is None:
        return _("n/a")
    pct = p * 100
    return f"{pct:.1f} %" if pct >= 1 or pct == 0 else f"{pct:.2g} %"


def _base(symbol: str) -> str:
    return symbol.split("-")[0]


def _driver(shock: dict[str, Any]) -> str:
    return _("the market") if shock["driver"] == "market" else _base(shock["driver"])


def _trade(p: dict[str, Any]) -> str:
    """``#5``, or ``#7 (hedge of #5)``."""
    if p["parent_id"] is None:
        return f"#{p['trade_id']}"
    return _("#{id} (hedge of #{parent})").format(id=p["trade_id"], parent=p["parent_id"])


def position_line(p: dict[str, Any], name: str, h: int) -> str:
    """One position after the shock: its P&L now and after, and whether it is liquidated
    (at which move of the driver ``name``) or how far its liquidation is then."""
    v = {"trade": _trade(p), "base": _base(p["symbol"]), "side": side_word(p["side"]),
         "size": p["size"], "entry": _px(p["entry"]), "mode": mode_word(p["margin_mode"]),
         "now": _money(p["pnl_now"]), "after": _money(p["pnl_after"]), "name": name}
    if p["liquidated"]:
        return _("{trade} {base} {side} {size:g} @ {entry} {mode}: P&L {now} → {after} USDT; "
                 "LIQUIDATED at {name} {move:+.1f} %").format(
            move=p["liquidated_at_move_pct"], **v)
    if p["distance_pct_after"] is not None:
        return _("{trade} {base} {side} {size:g} @ {entry} {mode}: P&L {now} → {after} USDT; "
                 "liquidation {price} is {distance:.1f} % away, {prob} chance to touch it "
                 "within {h}h after").format(
            price=_px(p["liquidation_price_after"]), distance=p["distance_pct_after"],
            prob=_prob(p[f"touch_prob_{h}h_after"]), h=h, **v)
    return _("{trade} {base} {side} {size:g} @ {entry} {mode}: P&L {now} → {after} USDT; "
             "no liquidation within reach").format(**v)


def render(d: dict[str, Any]) -> list[str]:
    shock = d["shock"]
    name = _driver(shock)
    h = shock["horizon_h"]
    lines = [_("What if {name} moves {move:+.1f} % (every asset of your book by its stress "
               "beta to it):").format(name=name, move=shock["move_pct"])]
    moves: dict[str, tuple[float, float]] = {}
    for p in d["positions"]:
        moves.setdefault(p["symbol"], (p["move_pct"], p["beta"]))
    lines.append(", ".join(f"{_base(sym)} {m:+.1f} % (β {b:.2f})"
                           for sym, (m, b) in moves.items()))
    lines += [position_line(p, name, h) for p in d["positions"]]
    if d["liquidation_order"]:
        by_id = {p["trade_id"]: p for p in d["positions"]}
        lines.append(_("Liquidated, in order: {trades}").format(trades=", ".join(
            _("#{id} {base} {side} (at {name} {move:+.1f} %)").format(
                id=i, base=_base(by_id[i]["symbol"]), side=side_word(by_id[i]["side"]),
                name=name, move=by_id[i]["liquidated_at_move_pct"])
            for i in d["liquidation_order"])))
    else:
        lines.append(_("Nothing is liquidated by this move."))
    a = d["account"]
    if a is not None:
        ratio = a["margin_ratio_after"]
        v = {"now": f"{a['equity_now']:,.2f}", "after": f"{a['equity_after']:,.2f}",
             "maintenance": f"{a['maintenance_after']:,.2f}",
             "ratio": _("n/a") if ratio is None else f"{ratio * 100:,.0f} %"}
        lines.append(_("Cross account: equity {now} → {after} USDT, maintenance {maintenance}, "
                       "margin ratio {ratio} — LIQUIDATED at {name} {move:+.1f} %").format(
                           name=name, move=a["liquidated_at_move_pct"], **v)
                     if a["liquidated"] else
                     _("Cross account: equity {now} → {after} USDT, maintenance {maintenance}, "
                       "margin ratio {ratio}").format(**v))
    for hg in d["hedges"]:
        off = hg["offset"]
        v = {"id": hg["trade_id"], "main": _money(hg["main_pnl_change"]),
             "legs": _money(hg["legs_pnl_change"]), "net": _money(hg["net_pnl_change"])}
        lines.append(_("Hedge of #{id}: main {main}, legs {legs}, net {net} USDT").format(**v)
                     if off is None else
                     _("Hedge of #{id}: main {main}, legs {legs}, net {net} USDT — the legs "
                       "offset {offset:.0f} %").format(offset=off * 100, **v))
    t = d["totals"]
    lines.append(_("Book: P&L {now} → {after} USDT ({change})").format(
        now=_money(t["pnl_now"]), after=_money(t["pnl_after"]), change=_money(t["pnl_change"])))
    return lines


SHORT_POSITIONS = 5  # positions on the first screen; the rest behind "More"


def render_short(d: dict[str, Any], age: str) -> list[str]:
    """The first screen (≤ 10 lines): what the move does to the book and what liquidates,
    then one short line per position; the moves, hedges and warnings are behind "More"."""
    shock, t = d["shock"], d["totals"]
    lines = [_("{name} {move:+.1f} %: book {change} USDT").format(
        name=_driver(shock), move=shock["move_pct"], change=_money(t["pnl_change"]))]
    if d["liquidation_order"]:
        lines.append(_("LIQUIDATED: {trades}").format(
            trades=", ".join(f"#{i}" for i in d["liquidation_order"])))
    else:
        lines.append(_("Nothing is liquidated."))
    a = d["account"]
    if a is not None:
        lines.append(_("Cross equity {now:,.0f} → {after:,.0f} USDT").format(
            now=a["equity_now"], after=a["equity_after"]))
    shown = d["positions"][:SHORT_POSITIONS]
    for p in shown:
        v = {"id": p["trade_id"], "base": _base(p["symbol"]), "side": side_word(p["side"]),
             "pnl": _money(p["pnl_after"])}
        if p["liquidated"]:
            line = _("#{id} {base} {side}: {pnl} USDT, liquidated").format(**v)
        elif p["distance_pct_after"] is not None:
            line = _("#{id} {base} {side}: {pnl} USDT, liq {distance:.1f} % away").format(
                distance=p["distance_pct_after"], **v)
        else:
            line = _("#{id} {base} {side}: {pnl} USDT, no liq in reach").format(**v)
        lines.append(line)
    hidden = len(d["positions"]) - len(shown)
    warned = len(d.get("warnings") or ())
    if hidden and warned:
        lines.append(_("⚠ {n} more position(s), {warnings} warning(s): tap More").format(
            n=hidden, warnings=warned))
    elif hidden:
        lines.append(_("⚠ {n} more position(s): tap More").format(n=hidden))
    elif warned:
        lines.append(_("⚠ {warnings} warning(s): tap More").format(warnings=warned))
    return [*lines, age]
